#include "control/agent/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"

namespace nodeplane::agent {
namespace {

std::string Dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Resolve(const std::string& base, const std::string& path) {
  return path.empty() || path[0] == '/' ? path : base + "/" + path;
}

// A `name:` entry of clusters/users/contexts.
YAML::Node Named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const YAML::Node& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return YAML::Node();
}

std::string Str(const YAML::Node& n, const char* key) {
  return n && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : "";
}

// `x-data` (base64) or `x` (a file) → PEM text.
absl::StatusOr<std::string> DataOrFile(const YAML::Node& n, const std::string& key,
                                       const std::string& base, const std::string& where) {
  const std::string data = Str(n, (key + "-data").c_str());
  if (!data.empty()) {
    std::string out;
    if (!absl::Base64Unescape(data, &out)) {
      return absl::InvalidArgumentError(where + "." + key + "-data: not base64");
    }
    return out;
  }
  const std::string file = Str(n, key.c_str());
  if (file.empty()) return std::string();
  return ReadFile(Resolve(base, file));
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<KubeConfig> InClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set "
        "(give --apiserver or --kubeconfig)");
  }
  KubeConfig c;
  const std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.token_file = sa_dir + "/token";
  auto token = ReadFile(c.token_file);
  if (!token.ok()) return token.status();
  auto ca = ReadFile(sa_dir + "/ca.crt");
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;
  return c;
}

absl::StatusOr<KubeConfig> KubeconfigFile(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(path + ": " + e.what());
  }
  const std::string base = Dir(path);
  const std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
  if (ctx_name.empty()) return absl::InvalidArgumentError(path + ": current-context: not set");
  YAML::Node ctx = Named(root["contexts"], ctx_name)["context"];
  if (!ctx) return absl::InvalidArgumentError(path + ": contexts: no context \"" + ctx_name + "\"");
  const std::string cluster_name = Str(ctx, "cluster");
  const std::string user_name = Str(ctx, "user");
  YAML::Node cluster = Named(root["clusters"], cluster_name)["cluster"];
  if (!cluster) {
    return absl::InvalidArgumentError(path + ": clusters: no cluster \"" + cluster_name + "\"");
  }
  KubeConfig c;
  c.server = Str(cluster, "server");
  if (c.server.empty()) {
    return absl::InvalidArgumentError(path + ": clusters[" + cluster_name + "].server: required");
  }
  c.insecure_skip_tls_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  auto ca = DataOrFile(cluster, "certificate-authority", base, "clusters[" + cluster_name + "]");
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;
  YAML::Node user = Named(root["users"], user_name)["user"];
  if (user) {
    const std::string where = "users[" + user_name + "]";
    auto cert = DataOrFile(user, "client-certificate", base, where);
    if (!cert.ok()) return cert.status();
    auto key = DataOrFile(user, "client-key", base, where);
    if (!key.ok()) return key.status();
    c.client_cert_pem = *cert;
    c.client_key_pem = *key;
    c.token = Str(user, "token");
    c.token_file = Resolve(base, Str(user, "tokenFile"));
  }
  return c;
}

}  // namespace nodeplane::agent
