// A NetworkPolicy conformance case (tests/conformance/README.md): the model, the steps and the
// expected reachability matrices, read from one YAML file. Policies are converted to the API's
// v1::NetworkPolicy field for field, so the runner creates them through the real gRPC API.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::conformance {

struct CasePod {
  std::string ns, name;  // "x/a" → x, a
  std::map<std::string, std::string> labels;
  std::string ip;
  std::vector<v1::ContainerPort> ports;
  std::string Id() const { return ns + "/" + name; }
};

struct Action {
  enum class Kind { kCreate, kUpdate, kDelete, kSetPodLabels, kSetNamespaceLabels };
  Kind kind;
  v1::NetworkPolicy policy;      // create, update
  v1::NetworkPolicyKey key;      // delete
  std::string target;            // "x/b" or "y"
  std::map<std::string, std::string> labels;
};

struct Probe {
  uint16_t port = 0;
  v1::Protocol protocol = v1::TCP;
  std::string protocol_name;
  // (client, server) → allowed; self pairs are absent (not probed).
  std::map<std::pair<std::string, std::string>, bool> expected;
};

struct Step {
  std::vector<Action> actions;
  std::vector<Probe> probes;
};

struct Case {
  std::string file;
  std::string id;
  std::string name;
  std::map<std::string, std::map<std::string, std::string>> namespaces;
  std::vector<CasePod> pods;
  std::vector<Step> steps;
};

absl::StatusOr<Case> LoadCase(const std::string& path);

}  // namespace nodeplane::conformance
