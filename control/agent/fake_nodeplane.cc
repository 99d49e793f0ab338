#include "control/agent/fake_nodeplane.h"

#include <unistd.h>

namespace nodeplane::agent::testing {
namespace {

template <typename K>
std::string Key(const K& k) { return k.namespace_() + "/" + k.name(); }

}  // namespace

FakeNodeplane::FakeNodeplane() : started_(std::chrono::steady_clock::now()) {}

std::vector<std::string> FakeNodeplane::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

int FakeNodeplane::count(const std::string& method) const {
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (const auto& c : calls_) n += c == method;
  return n;
}

void FakeNodeplane::FailNext(const std::string& method, grpc::Status status, int times) {
  std::lock_guard<std::mutex> l(mu_);
  for (int i = 0; i < times; ++i) failures_[method].push_back(status);
}

void FakeNodeplane::SetInitialNode(const v1::Node& node) {
  std::lock_guard<std::mutex> l(mu_);
  node_ = node;
}

bool FakeNodeplane::Enter(const std::string& method, grpc::Status* failure) {
  calls_.push_back(method);
  auto it = failures_.find(method);
  if (it == failures_.end() || it->second.empty()) return false;
  *failure = it->second.front();
  it->second.erase(it->second.begin());
  return true;
}

grpc::Status FakeNodeplane::Write(v1::WriteReply* reply) {
  reply->set_generation(++generation_);
  return grpc::Status::OK;
}

#define NP_FAKE_ENTER(name)                    \
  std::lock_guard<std::mutex> l(mu_);          \
  grpc::Status failure;                        \
  if (Enter(name, &failure)) return failure

grpc::Status FakeNodeplane::SetNode(grpc::ServerContext*, const v1::SetNodeRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("SetNode");
  node_ = r->node();
  return Write(w);
}

grpc::Status FakeNodeplane::UpsertPods(grpc::ServerContext*, const v1::UpsertPodsRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertPods");
  for (const auto& p : r->pods()) pods_[Key(p.key())] = p;
  return Write(w);
}

grpc::Status FakeNodeplane::DeletePods(grpc::ServerContext*, const v1::DeletePodsRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeletePods");
  for (const auto& k : r->keys()) {
    if (attachments_.contains(Key(k))) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "keys: pod is attached: " + Key(k));
    }
  }
  for (const auto& k : r->keys()) pods_.erase(Key(k));
  return Write(w);
}

grpc::Status FakeNodeplane::AttachPod(grpc::ServerContext*, const v1::AttachPodRequest* r,
                                      v1::AttachPodReply* reply) {
  NP_FAKE_ENTER("AttachPod");
  const std::string key = Key(r->key());
  if (attachments_.contains(key)) return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, key + " is attached");
  v1::PodAttachment a;
  *a.mutable_key() = r->key();
  a.set_netns(r->netns());
  a.set_interface(r->interface().empty() ? "eth0" : r->interface());
  a.set_mac("02:00:00:00:00:01");
  a.set_mtu(r->mtu() == 0 ? 1500 : r->mtu());
  attachments_[key] = a;
  v1::Pod p;
  *p.mutable_key() = r->key();
  for (const auto& ip : r->ips()) p.add_ips(ip);
  p.set_node_name(node_.name());
  pods_[key] = p;
  *reply->mutable_attachment() = a;
  reply->set_generation(++generation_);
  return grpc::Status::OK;
}

grpc::Status FakeNodeplane::DetachPod(grpc::ServerContext*, const v1::DetachPodRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DetachPod");
  const std::string key = Key(r->key());
  if (!attachments_.erase(key)) return grpc::Status(grpc::StatusCode::NOT_FOUND, key + " is not attached");
  pods_.erase(key);
  return Write(w);
}

grpc::Status FakeNodeplane::SyncState(grpc::ServerContext*, const v1::SyncStateRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("SyncState");
  const v1::State& s = r->state();
  node_ = s.node();
  pods_.clear();
  namespaces_.clear();
  services_.clear();
  slices_.clear();
  policies_.clear();
  remote_nodes_.clear();
  for (const auto& p : s.pods()) pods_[Key(p.key())] = p;
  for (const auto& a : attachments_) {
    if (!pods_.contains(a.first)) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "state.pods: attached pod missing: " + a.first);
    }
  }
  for (const auto& n : s.namespaces()) namespaces_[n.name()] = n;
  for (const auto& v : s.services()) services_[Key(v.key())] = v;
  for (const auto& v : s.endpoint_slices()) slices_[Key(v.key())] = v;
  for (const auto& v : s.network_policies()) policies_[Key(v.key())] = v;
  for (const auto& v : s.remote_nodes()) remote_nodes_[v.name()] = v;
  return Write(w);
}

grpc::Status FakeNodeplane::UpsertNamespaces(grpc::ServerContext*, const v1::UpsertNamespacesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertNamespaces");
  for (const auto& v : r->namespaces()) namespaces_[v.name()] = v;
  return Write(w);
}
grpc::Status FakeNodeplane::DeleteNamespaces(grpc::ServerContext*, const v1::DeleteNamespacesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeleteNamespaces");
  for (const auto& n : r->names()) namespaces_.erase(n);
  return Write(w);
}
grpc::Status FakeNodeplane::UpsertServices(grpc::ServerContext*, const v1::UpsertServicesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertServices");
  for (const auto& v : r->services()) services_[Key(v.key())] = v;
  return Write(w);
}
grpc::Status FakeNodeplane::DeleteServices(grpc::ServerContext*, const v1::DeleteServicesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeleteServices");
  for (const auto& k : r->keys()) services_.erase(Key(k));
  return Write(w);
}
grpc::Status FakeNodeplane::UpsertEndpointSlices(grpc::ServerContext*, const v1::UpsertEndpointSlicesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertEndpointSlices");
  for (const auto& v : r->endpoint_slices()) slices_[Key(v.key())] = v;
  return Write(w);
}
grpc::Status FakeNodeplane::DeleteEndpointSlices(grpc::ServerContext*, const v1::DeleteEndpointSlicesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeleteEndpointSlices");
  for (const auto& k : r->keys()) slices_.erase(Key(k));
  return Write(w);
}
grpc::Status FakeNodeplane::UpsertNetworkPolicies(grpc::ServerContext*, const v1::UpsertNetworkPoliciesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertNetworkPolicies");
  for (const auto& v : r->network_policies()) policies_[Key(v.key())] = v;
  return Write(w);
}
grpc::Status FakeNodeplane::DeleteNetworkPolicies(grpc::ServerContext*, const v1::DeleteNetworkPoliciesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeleteNetworkPolicies");
  for (const auto& k : r->keys()) policies_.erase(Key(k));
  return Write(w);
}
grpc::Status FakeNodeplane::UpsertRemoteNodes(grpc::ServerContext*, const v1::UpsertRemoteNodesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("UpsertRemoteNodes");
  for (const auto& v : r->remote_nodes()) remote_nodes_[v.name()] = v;
  return Write(w);
}
grpc::Status FakeNodeplane::DeleteRemoteNodes(grpc::ServerContext*, const v1::DeleteRemoteNodesRequest* r, v1::WriteReply* w) {
  NP_FAKE_ENTER("DeleteRemoteNodes");
  for (const auto& n : r->names()) remote_nodes_.erase(n);
  return Write(w);
}

grpc::Status FakeNodeplane::GetState(grpc::ServerContext*, const v1::GetStateRequest*, v1::State* s) {
  NP_FAKE_ENTER("GetState");
  Fill(s);
  return grpc::Status::OK;
}

v1::State FakeNodeplane::state() const {
  std::lock_guard<std::mutex> l(mu_);
  v1::State s;
  Fill(&s);
  return s;
}

void FakeNodeplane::Fill(v1::State* s) const {
  s->set_generation(generation_);
  *s->mutable_node() = node_;
  for (const auto& [k, v] : pods_) *s->add_pods() = v;
  for (const auto& [k, v] : attachments_) *s->add_attachments() = v;
  for (const auto& [k, v] : namespaces_) *s->add_namespaces() = v;
  for (const auto& [k, v] : services_) *s->add_services() = v;
  for (const auto& [k, v] : slices_) *s->add_endpoint_slices() = v;
  for (const auto& [k, v] : policies_) *s->add_network_policies() = v;
  for (const auto& [k, v] : remote_nodes_) *s->add_remote_nodes() = v;
}

grpc::Status FakeNodeplane::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::Status* s) {
  NP_FAKE_ENTER("GetStatus");
  s->set_generation(generation_);
  s->set_node_name(node_.name());
  s->set_uptime_seconds(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started_).count()));
  s->set_pods_attached(static_cast<uint32_t>(attachments_.size()));
  return grpc::Status::OK;
}

#undef NP_FAKE_ENTER

FakeNodeplaneServer::FakeNodeplaneServer(std::string socket_path) : socket_(std::move(socket_path)) {
  Start();
}

FakeNodeplaneServer::~FakeNodeplaneServer() {
  if (server_) server_->Shutdown();
  unlink(socket_.c_str());
}

void FakeNodeplaneServer::Start() {
  service_ = std::make_unique<FakeNodeplane>();
  grpc::ServerBuilder b;
  b.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
  b.RegisterService(service_.get());
  server_ = b.BuildAndStart();
}

void FakeNodeplaneServer::Restart() {
  v1::Node node = service_->state().node();
  server_->Shutdown();
  server_.reset();
  unlink(socket_.c_str());
  Start();
  // A restarted nodeplaned comes back with what its command line gives it (its node), no more.
  v1::Node initial;
  initial.set_name(node.name());
  *initial.mutable_vxlan() = node.vxlan();
  service_->SetInitialNode(initial);
}

std::unique_ptr<v1::Nodeplane::Stub> FakeNodeplaneServer::NewStub() const {
  return v1::Nodeplane::NewStub(
      grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
}

}  // namespace nodeplane::agent::testing
