// Test double of nodeplaned's gRPC service: keeps the state it is told (sync, upserts, deletes,
// SetNode), records the calls, answers GetState/GetStatus from that, and fails calls on demand.
// Shared by the agent's and the CNI plugin's unit tests.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::agent::testing {

namespace v1 = ::nodeplane::v1;

class FakeNodeplane final : public v1::Nodeplane::Service {
 public:
  FakeNodeplane();

  // The calls seen, by method name ("SyncState", "UpsertServices", ...).
  std::vector<std::string> calls() const;
  int count(const std::string& method) const;
  v1::State state() const;
  // The next `times` calls of `method` fail with `status`.
  void FailNext(const std::string& method, grpc::Status status, int times = 1);
  // Starts from a node nodeplaned was configured with (what the lab or --node-name gives it).
  void SetInitialNode(const v1::Node& node);

  grpc::Status SetNode(grpc::ServerContext*, const v1::SetNodeRequest*, v1::WriteReply*) override;
  grpc::Status UpsertPods(grpc::ServerContext*, const v1::UpsertPodsRequest*, v1::WriteReply*) override;
  grpc::Status DeletePods(grpc::ServerContext*, const v1::DeletePodsRequest*, v1::WriteReply*) override;
  grpc::Status AttachPod(grpc::ServerContext*, const v1::AttachPodRequest*, v1::AttachPodReply*) override;
  grpc::Status DetachPod(grpc::ServerContext*, const v1::DetachPodRequest*, v1::WriteReply*) override;
  grpc::Status SyncState(grpc::ServerContext*, const v1::SyncStateRequest*, v1::WriteReply*) override;
  grpc::Status UpsertNamespaces(grpc::ServerContext*, const v1::UpsertNamespacesRequest*, v1::WriteReply*) override;
  grpc::Status DeleteNamespaces(grpc::ServerContext*, const v1::DeleteNamespacesRequest*, v1::WriteReply*) override;
  grpc::Status UpsertServices(grpc::ServerContext*, const v1::UpsertServicesRequest*, v1::WriteReply*) override;
  grpc::Status DeleteServices(grpc::ServerContext*, const v1::DeleteServicesRequest*, v1::WriteReply*) override;
  grpc::Status UpsertEndpointSlices(grpc::ServerContext*, const v1::UpsertEndpointSlicesRequest*, v1::WriteReply*) override;
  grpc::Status DeleteEndpointSlices(grpc::ServerContext*, const v1::DeleteEndpointSlicesRequest*, v1::WriteReply*) override;
  grpc::Status UpsertNetworkPolicies(grpc::ServerContext*, const v1::UpsertNetworkPoliciesRequest*, v1::WriteReply*) override;
  grpc::Status DeleteNetworkPolicies(grpc::ServerContext*, const v1::DeleteNetworkPoliciesRequest*, v1::WriteReply*) override;
  grpc::Status UpsertRemoteNodes(grpc::ServerContext*, const v1::UpsertRemoteNodesRequest*, v1::WriteReply*) override;
  grpc::Status DeleteRemoteNodes(grpc::ServerContext*, const v1::DeleteRemoteNodesRequest*, v1::WriteReply*) override;
  grpc::Status GetState(grpc::ServerContext*, const v1::GetStateRequest*, v1::State*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::Status*) override;

 private:
  // Records the call; returns the failure queued for it, if any.
  bool Enter(const std::string& method, grpc::Status* failure);
  grpc::Status Write(v1::WriteReply* reply);
  void Fill(v1::State* s) const;  // mu_ held

  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::string> calls_;
  std::map<std::string, std::vector<grpc::Status>> failures_;
  uint64_t generation_ = 1;
  v1::Node node_;
  std::map<std::string, v1::Pod> pods_;
  std::map<std::string, v1::PodAttachment> attachments_;
  std::map<std::string, v1::Namespace> namespaces_;
  std::map<std::string, v1::Service> services_;
  std::map<std::string, v1::EndpointSlice> slices_;
  std::map<std::string, v1::NetworkPolicy> policies_;
  std::map<std::string, v1::RemoteNode> remote_nodes_;
};

// The fake on a private unix socket; Restart() brings up a blank one on the same socket, as a
// restarted nodeplaned would be.
class FakeNodeplaneServer {
 public:
  explicit FakeNodeplaneServer(std::string socket_path);
  ~FakeNodeplaneServer();
  void Restart();
  FakeNodeplane& service() { return *service_; }
  const std::string& socket_path() const { return socket_; }
  std::unique_ptr<v1::Nodeplane::Stub> NewStub() const;

 private:
  void Start();
  std::string socket_;
  std::unique_ptr<FakeNodeplane> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace nodeplane::agent::testing
