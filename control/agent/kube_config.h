// How to reach the API server: in-cluster (service-account token, CA, KUBERNETES_SERVICE_HOST/
// PORT), a kubeconfig file, and the --apiserver override. The agent programs the `kubernetes`
// Service VIP itself, so on a node it must be given the API server's real address (--apiserver,
// or a kubeconfig naming it) rather than depend on that VIP.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace nodeplane::agent {

struct KubeConfig {
  std::string server;            // "https://10.0.0.1:6443"
  std::string ca_pem;            // CA bundle (PEM); empty: the system's
  std::string client_cert_pem;   // client certificate (PEM), with client_key_pem
  std::string client_key_pem;
  std::string token;             // a fixed bearer token
  std::string token_file;        // a bearer token file, re-read on every request (it rotates)
  bool insecure_skip_tls_verify = false;
};

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// From KUBERNETES_SERVICE_HOST/PORT and the service-account files under `sa_dir`.
absl::StatusOr<KubeConfig> InClusterConfig(const std::string& sa_dir = kServiceAccountDir);
// From a kubeconfig file: the current context's cluster and user (or `context` when given).
// Relative file paths are relative to the kubeconfig's directory, as kubectl reads them.
absl::StatusOr<KubeConfig> KubeconfigFile(const std::string& path, const std::string& context = "");

absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace nodeplane::agent
