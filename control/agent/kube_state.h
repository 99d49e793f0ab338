// The desired state as Kubernetes describes it: every object the agent reads, translated, by key.
// An object that fails translation is reported and its previous good version kept: a bad edit
// never removes what was already programmed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/agent/translate.h"

namespace nodeplane::agent {

struct KubeObjects {
  std::map<std::string, v1::Namespace> namespaces;
  std::map<std::string, v1::Pod> pods;
  std::map<std::string, v1::Service> services;
  std::map<std::string, v1::EndpointSlice> endpoint_slices;
  std::map<std::string, v1::NetworkPolicy> network_policies;
  std::map<std::string, KubeNode> nodes;
};

class KubeState {
 public:
  // ADDED or MODIFIED.
  absl::Status Upsert(Kind kind, const Json& object);
  // DELETED (the object's last state; only its key is used).
  absl::Status Delete(Kind kind, const Json& object);
  // A fresh list of every object of `kind`: keys not listed are removed. Returns the objects that
  // failed translation (they keep their previous version, if any).
  std::vector<absl::Status> Replace(Kind kind, const std::vector<Json>& items);

  const KubeObjects& objects() const { return objects_; }

 private:
  void Erase(Kind kind, const std::string& key);

  KubeObjects objects_;
};

}  // namespace nodeplane::agent
