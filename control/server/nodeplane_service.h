// The gRPC service nodeplane.v1.Nodeplane. Thin: validate the request into the model (naming the
// offending field), hand it to the single Applier, reply with the generation.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "control/daemon/applier.h"
#include "control/server/stats_reader.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::ctl {

struct DaemonInfo {
  std::string version;
  bool hugepages = false;
  std::string uplink;
  std::string host_interface;
  std::vector<WorkerRef> workers;
  NodePortRange node_port_range;  // --node-port-range
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The process's conntrack table (outlives the service); nullptr: none.
  dp::Conntrack* conntrack = nullptr;
};

class NodeplaneService final : public v1::Nodeplane::Service {
 public:
  NodeplaneService(Applier& applier, DaemonInfo info) : applier_(applier), info_(std::move(info)) {}

  grpc::Status SetNode(grpc::ServerContext*, const v1::SetNodeRequest*, v1::WriteReply*) override;
  grpc::Status UpsertPods(grpc::ServerContext*, const v1::UpsertPodsRequest*,
                          v1::WriteReply*) override;
  grpc::Status DeletePods(grpc::ServerContext*, const v1::DeletePodsRequest*,
                          v1::WriteReply*) override;
  grpc::Status AttachPod(grpc::ServerContext*, const v1::AttachPodRequest*,
                         v1::AttachPodReply*) override;
  grpc::Status DetachPod(grpc::ServerContext*, const v1::DetachPodRequest*,
                         v1::WriteReply*) override;
  grpc::Status SyncState(grpc::ServerContext*, const v1::SyncStateRequest*,
                         v1::WriteReply*) override;
  grpc::Status UpsertNamespaces(grpc::ServerContext*, const v1::UpsertNamespacesRequest*,
                                v1::WriteReply*) override;
  grpc::Status DeleteNamespaces(grpc::ServerContext*, const v1::DeleteNamespacesRequest*,
                                v1::WriteReply*) override;
  grpc::Status UpsertServices(grpc::ServerContext*, const v1::UpsertServicesRequest*,
                              v1::WriteReply*) override;
  grpc::Status DeleteServices(grpc::ServerContext*, const v1::DeleteServicesRequest*,
                              v1::WriteReply*) override;
  grpc::Status UpsertEndpointSlices(grpc::ServerContext*, const v1::UpsertEndpointSlicesRequest*,
                                    v1::WriteReply*) override;
  grpc::Status DeleteEndpointSlices(grpc::ServerContext*, const v1::DeleteEndpointSlicesRequest*,
                                    v1::WriteReply*) override;
  grpc::Status UpsertNetworkPolicies(grpc::ServerContext*,
                                     const v1::UpsertNetworkPoliciesRequest*,
                                     v1::WriteReply*) override;
  grpc::Status DeleteNetworkPolicies(grpc::ServerContext*,
                                     const v1::DeleteNetworkPoliciesRequest*,
                                     v1::WriteReply*) override;
  grpc::Status UpsertRemoteNodes(grpc::ServerContext*, const v1::UpsertRemoteNodesRequest*,
                                 v1::WriteReply*) override;
  grpc::Status DeleteRemoteNodes(grpc::ServerContext*, const v1::DeleteRemoteNodesRequest*,
                                 v1::WriteReply*) override;
  grpc::Status GetState(grpc::ServerContext*, const v1::GetStateRequest*, v1::State*) override;
  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*, v1::Stats*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::Status*) override;
  grpc::Status ExplainPolicy(grpc::ServerContext*, const v1::ExplainPolicyRequest*,
                             v1::PolicyExplanation*) override;
  // Conntrack (control/server/conntrack_rpcs.h).
  grpc::Status ListConntrack(grpc::ServerContext*, const v1::ListConntrackRequest*,
                             v1::ListConntrackReply*) override;
  grpc::Status FlushConntrack(grpc::ServerContext*, const v1::FlushConntrackRequest*,
                              v1::FlushConntrackReply*) override;
  grpc::Status ExplainServiceBackend(grpc::ServerContext*, const v1::ExplainServiceBackendRequest*,
                                     v1::ExplainServiceBackendReply*) override;

 private:
  // Services and EndpointSlices of a sync, checked as a whole (nodeplane_service_services.cc).
  absl::StatusOr<std::shared_ptr<const ServiceState>> ServiceStateFromProto(const v1::State& s) const;
  static void AddServicesToState(const DesiredState& state, v1::State* reply);

  Applier& applier_;
  const DaemonInfo info_;
};

}  // namespace nodeplane::ctl
