// Brings nodeplaned to the state Kubernetes describes: a full SyncState when either side is new
// (the first push, after nodeplaned restarted or a call failed in a way that may mean it did),
// upserts and deletes of what changed after that. What nodeplaned holds is only ever replaced by
// a complete state, never blanked: until the caller has a complete view it does not push.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "control/agent/kube_state.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::agent {

struct PushOptions {
  // This node's Kubernetes name: its Node object becomes SetNode, every other Node a RemoteNode.
  // Empty: nodes are left as nodeplaned has them.
  std::string node_name;
  // The kinds pushed (others are neither synced nor changed). Default: all.
  std::set<Kind> kinds{std::begin(kAllKinds), std::end(kAllKinds)};
  // Apply mode (manifests): upserts only, no deletes and no full sync, like `kubectl apply`.
  bool apply_only = false;
  // Deadline of each call.
  std::chrono::milliseconds call_timeout{30000};
};

// The nodeplane objects the agent wants, by key.
struct Wanted {
  std::optional<v1::Node> node;
  std::map<std::string, v1::RemoteNode> remote_nodes;
  std::map<std::string, v1::Namespace> namespaces;
  std::map<std::string, v1::Pod> pods;
  std::map<std::string, v1::Service> services;
  std::map<std::string, v1::EndpointSlice> endpoint_slices;
  std::map<std::string, v1::NetworkPolicy> network_policies;
};

class Pusher {
 public:
  Pusher(v1::Nodeplane::StubInterface& stub, PushOptions options)
      : stub_(stub), options_(std::move(options)) {}

  // One push of the complete desired state. Errors name the call and nodeplaned's message; the
  // next push retries what did not go through.
  absl::Status Push(const KubeObjects& want);
  // Asks nodeplaned whether it is the process last pushed to; a restart (or no answer) makes the
  // next Push a full sync. Returns true when a push is needed.
  bool Probe();

  uint64_t full_syncs() const { return full_syncs_; }
  uint64_t generation() const { return generation_; }

  // The translation of `want` onto nodeplaned's current state (exposed for tests).
  Wanted Desired(const KubeObjects& want, const v1::State& daemon) const;

 private:
  absl::Status FullSync(const Wanted& wanted, const v1::State& daemon);
  absl::Status Deltas(const Wanted& wanted, const v1::State& daemon);
  absl::Status Done(const char* call, const grpc::Status& status, const v1::WriteReply& reply);
  std::unique_ptr<grpc::ClientContext> Context() const;

  v1::Nodeplane::StubInterface& stub_;
  PushOptions options_;
  Wanted pushed_;
  bool need_full_ = true;
  uint64_t full_syncs_ = 0;
  uint64_t generation_ = 0;
  // nodeplaned's start time as seen by the last probe (wall seconds); a change means a restart.
  int64_t daemon_started_ = -1;
};

}  // namespace nodeplane::agent
