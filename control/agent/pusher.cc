#include "control/agent/pusher.h"

#include <google/protobuf/util/message_differencer.h>

#include <ctime>

#include "absl/strings/str_cat.h"

namespace nodeplane::agent {
namespace {

using google::protobuf::util::MessageDifferencer;

std::string PodKeyString(const v1::PodKey& k) { return k.namespace_() + "/" + k.name(); }

// Keys whose value differs from (or is missing in) `have`.
template <typename T>
std::vector<const T*> Changed(const std::map<std::string, T>& want,
                              const std::map<std::string, T>& have) {
  std::vector<const T*> out;
  for (const auto& [key, value] : want) {
    auto it = have.find(key);
    if (it == have.end() || !MessageDifferencer::Equals(it->second, value)) out.push_back(&value);
  }
  return out;
}

template <typename T>
std::vector<std::string> Gone(const std::map<std::string, T>& want,
                              const std::map<std::string, T>& have) {
  std::vector<std::string> out;
  for (const auto& [key, value] : have) {
    if (!want.contains(key)) out.push_back(key);
  }
  return out;
}

// "ns/name" → (ns, name).
template <typename K>
void SetKey(const std::string& key, K* out) {
  const size_t slash = key.find('/');
  out->set_namespace_(key.substr(0, slash));
  out->set_name(key.substr(slash + 1));
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_code() == grpc::StatusCode::UNKNOWN || s.error_code() == grpc::StatusCode::CANCELLED;
}

}  // namespace

std::unique_ptr<grpc::ClientContext> Pusher::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
  return ctx;
}

absl::Status Pusher::Done(const char* call, const grpc::Status& status, const v1::WriteReply& reply) {
  if (status.ok()) {
    generation_ = reply.generation();
    return absl::OkStatus();
  }
  // Without an answer nodeplaned may have restarted (and lost everything): start over with a sync.
  if (Retryable(status)) need_full_ = true;
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

bool Pusher::Probe() {
  v1::Status status;
  grpc::Status s = stub_.GetStatus(Context().get(), v1::GetStatusRequest(), &status);
  if (!s.ok()) {
    need_full_ = true;
    return true;
  }
  const int64_t started = static_cast<int64_t>(std::time(nullptr)) -
                          static_cast<int64_t>(status.uptime_seconds());
  // A restart shows as a generation that went backwards (generations only grow within one
  // process), a start time that moved (two seconds of slack for rounding), or a node name that
  // is not the one pushed.
  if (status.generation() < generation_) need_full_ = true;
  if (daemon_started_ >= 0 && std::abs(started - daemon_started_) > 2) need_full_ = true;
  if (pushed_.node && status.node_name() != pushed_.node->name()) need_full_ = true;
  daemon_started_ = started;
  generation_ = std::max(generation_, status.generation());
  if (need_full_) generation_ = status.generation();
  return need_full_;
}

Wanted Pusher::Desired(const KubeObjects& want, const v1::State& daemon) const {
  Wanted w;
  const bool nodes = options_.kinds.contains(Kind::kNode) && !options_.node_name.empty();
  std::set<std::string> known_nodes;
  if (daemon.has_node()) known_nodes.insert(daemon.node().name());
  if (nodes) {
    known_nodes.insert(options_.node_name);
    v1::Node node = daemon.node();
    auto self = want.nodes.find(options_.node_name);
    if (self != want.nodes.end()) {
      // Kubernetes owns the name, addresses and pod CIDRs; the overlay settings and the pod
      // gateway stay as nodeplaned was started with. An address nodeplaned already has keeps its
      // prefix length (the host's subnet on the exception port).
      std::vector<std::string> addresses;
      for (const std::string& a : self->second.addresses) {
        std::string chosen = a;
        for (const std::string& have : daemon.node().addresses()) {
          if (have.substr(0, have.find('/')) == a) chosen = have;
        }
        addresses.push_back(chosen);
      }
      node.set_name(options_.node_name);
      node.clear_addresses();
      for (const std::string& a : addresses) node.add_addresses(a);
      node.clear_pod_cidrs();
      for (const std::string& c : self->second.pod_cidrs) node.add_pod_cidrs(c);
      bool vtep_listed = false;
      for (const std::string& a : self->second.addresses) vtep_listed |= a == node.vtep_address();
      if (!vtep_listed) node.clear_vtep_address();
      node.set_zone(self->second.zone);
      w.node = node;
    }
    for (const auto& [name, kn] : want.nodes) {
      if (name == options_.node_name || kn.internal_ip.empty()) continue;
      v1::RemoteNode r;
      r.set_name(name);
      r.set_underlay_address(kn.internal_ip);
      for (const std::string& c : kn.pod_cidrs) r.add_pod_cidrs(c);
      // The cluster runs one overlay: every node speaks this node's VXLAN port and VNI; its VTEP
      // MAC is its own when its Node says so, this node's otherwise.
      r.set_udp_port(daemon.node().vxlan().udp_port());
      r.set_vtep_mac(kn.vtep_mac.empty() ? daemon.node().vxlan().vtep_mac() : kn.vtep_mac);
      w.remote_nodes[name] = r;
      known_nodes.insert(name);
    }
  } else {
    for (const v1::RemoteNode& r : daemon.remote_nodes()) known_nodes.insert(r.name());
  }
  if (options_.kinds.contains(Kind::kNamespace)) w.namespaces = want.namespaces;
  if (options_.kinds.contains(Kind::kPod)) {
    for (const auto& [key, pod] : want.pods) {
      // A pod on a node nodeplaned does not know (yet) would fail the whole request.
      if (options_.apply_only || pod.node_name().empty() || known_nodes.contains(pod.node_name())) {
        w.pods[key] = pod;
      }
    }
  }
  if (options_.kinds.contains(Kind::kService)) w.services = want.services;
  if (options_.kinds.contains(Kind::kEndpointSlice)) w.endpoint_slices = want.endpoint_slices;
  if (options_.kinds.contains(Kind::kNetworkPolicy)) w.network_policies = want.network_policies;
  return w;
}

absl::Status Pusher::Push(const KubeObjects& want) {
  v1::State daemon;
  grpc::Status s = stub_.GetState(Context().get(), v1::GetStateRequest(), &daemon);
  if (!s.ok()) {
    need_full_ = true;
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        "GetState: " + s.error_message());
  }
  Wanted wanted = Desired(want, daemon);
  if (need_full_ && !options_.apply_only) return FullSync(wanted, daemon);
  return Deltas(wanted, daemon);
}

absl::Status Pusher::FullSync(const Wanted& w, const v1::State& daemon) {
  v1::SyncStateRequest req;
  v1::State* st = req.mutable_state();
  *st->mutable_node() = w.node ? *w.node : daemon.node();
  for (const auto& [k, v] : w.remote_nodes) *st->add_remote_nodes() = v;
  if (!options_.kinds.contains(Kind::kNode) || options_.node_name.empty()) {
    *st->mutable_remote_nodes() = daemon.remote_nodes();
  }
  for (const auto& [k, v] : w.namespaces) *st->add_namespaces() = v;
  std::set<std::string> pods;
  for (const auto& [k, v] : w.pods) {
    *st->add_pods() = v;
    pods.insert(k);
  }
  // Attached pods belong to the CNI plugin (AttachPod/DetachPod): a pod the API does not show
  // yet (or not any more) keeps the record nodeplaned has. Kinds not pushed keep theirs too.
  for (const v1::Pod& p : daemon.pods()) {
    const std::string key = PodKeyString(p.key());
    bool attached = false;
    for (const v1::PodAttachment& a : daemon.attachments()) attached |= PodKeyString(a.key()) == key;
    if (!pods.contains(key) && (attached || !options_.kinds.contains(Kind::kPod))) *st->add_pods() = p;
  }
  if (!options_.kinds.contains(Kind::kNamespace)) *st->mutable_namespaces() = daemon.namespaces();
  for (const auto& [k, v] : w.services) *st->add_services() = v;
  if (!options_.kinds.contains(Kind::kService)) *st->mutable_services() = daemon.services();
  for (const auto& [k, v] : w.endpoint_slices) *st->add_endpoint_slices() = v;
  if (!options_.kinds.contains(Kind::kEndpointSlice)) {
    *st->mutable_endpoint_slices() = daemon.endpoint_slices();
  }
  for (const auto& [k, v] : w.network_policies) *st->add_network_policies() = v;
  if (!options_.kinds.contains(Kind::kNetworkPolicy)) {
    *st->mutable_network_policies() = daemon.network_policies();
  }
  v1::WriteReply reply;
  grpc::Status s = stub_.SyncState(Context().get(), req, &reply);
  if (absl::Status d = Done("SyncState", s, reply); !d.ok()) return d;
  pushed_ = w;
  need_full_ = false;
  ++full_syncs_;
  return absl::OkStatus();
}

absl::Status Pusher::Deltas(const Wanted& w, const v1::State& daemon) {
  const bool deletes = !options_.apply_only;
  std::set<std::string> attached;
  for (const v1::PodAttachment& a : daemon.attachments()) attached.insert(PodKeyString(a.key()));
  v1::WriteReply reply;

  if (w.node && (!pushed_.node || !MessageDifferencer::Equals(*w.node, *pushed_.node))) {
    v1::SetNodeRequest req;
    *req.mutable_node() = *w.node;
    if (auto d = Done("SetNode", stub_.SetNode(Context().get(), req, &reply), reply); !d.ok()) return d;
    pushed_.node = w.node;
  }
  // Deletes first for what others may refer to, so an address or name can move between objects.
  if (deletes) {
    if (auto gone = Gone(w.network_policies, pushed_.network_policies); !gone.empty()) {
      v1::DeleteNetworkPoliciesRequest req;
      for (const auto& k : gone) SetKey(k, req.add_keys());
      auto d = Done("DeleteNetworkPolicies",
                    stub_.DeleteNetworkPolicies(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone) pushed_.network_policies.erase(k);
    }
    if (auto gone = Gone(w.endpoint_slices, pushed_.endpoint_slices); !gone.empty()) {
      v1::DeleteEndpointSlicesRequest req;
      for (const auto& k : gone) SetKey(k, req.add_keys());
      auto d = Done("DeleteEndpointSlices",
                    stub_.DeleteEndpointSlices(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone) pushed_.endpoint_slices.erase(k);
    }
    if (auto gone = Gone(w.services, pushed_.services); !gone.empty()) {
      v1::DeleteServicesRequest req;
      for (const auto& k : gone) SetKey(k, req.add_keys());
      auto d = Done("DeleteServices", stub_.DeleteServices(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone) pushed_.services.erase(k);
    }
    std::vector<std::string> gone_pods;
    for (const std::string& k : Gone(w.pods, pushed_.pods)) {
      // An attached pod is removed by the CNI plugin's DEL (DetachPod), not by the agent.
      if (attached.contains(k)) {
        pushed_.pods.erase(k);
      } else {
        gone_pods.push_back(k);
      }
    }
    if (!gone_pods.empty()) {
      v1::DeletePodsRequest req;
      for (const auto& k : gone_pods) SetKey(k, req.add_keys());
      auto d = Done("DeletePods", stub_.DeletePods(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone_pods) pushed_.pods.erase(k);
    }
  }
  if (auto changed = Changed(w.remote_nodes, pushed_.remote_nodes); !changed.empty()) {
    v1::UpsertRemoteNodesRequest req;
    for (const auto* v : changed) *req.add_remote_nodes() = *v;
    auto d = Done("UpsertRemoteNodes", stub_.UpsertRemoteNodes(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) pushed_.remote_nodes[v->name()] = *v;
  }
  if (auto changed = Changed(w.namespaces, pushed_.namespaces); !changed.empty()) {
    v1::UpsertNamespacesRequest req;
    for (const auto* v : changed) *req.add_namespaces() = *v;
    auto d = Done("UpsertNamespaces", stub_.UpsertNamespaces(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) pushed_.namespaces[v->name()] = *v;
  }
  if (auto changed = Changed(w.pods, pushed_.pods); !changed.empty()) {
    v1::UpsertPodsRequest req;
    for (const auto* v : changed) *req.add_pods() = *v;
    auto d = Done("UpsertPods", stub_.UpsertPods(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) pushed_.pods[PodKeyString(v->key())] = *v;
  }
  if (auto changed = Changed(w.services, pushed_.services); !changed.empty()) {
    v1::UpsertServicesRequest req;
    for (const auto* v : changed) *req.add_services() = *v;
    auto d = Done("UpsertServices", stub_.UpsertServices(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) {
      pushed_.services[v->key().namespace_() + "/" + v->key().name()] = *v;
    }
  }
  if (auto changed = Changed(w.endpoint_slices, pushed_.endpoint_slices); !changed.empty()) {
    v1::UpsertEndpointSlicesRequest req;
    for (const auto* v : changed) *req.add_endpoint_slices() = *v;
    auto d = Done("UpsertEndpointSlices",
                  stub_.UpsertEndpointSlices(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) {
      pushed_.endpoint_slices[v->key().namespace_() + "/" + v->key().name()] = *v;
    }
  }
  if (auto changed = Changed(w.network_policies, pushed_.network_policies); !changed.empty()) {
    v1::UpsertNetworkPoliciesRequest req;
    for (const auto* v : changed) *req.add_network_policies() = *v;
    auto d = Done("UpsertNetworkPolicies",
                  stub_.UpsertNetworkPolicies(Context().get(), req, &reply), reply);
    if (!d.ok()) return d;
    for (const auto* v : changed) {
      pushed_.network_policies[v->key().namespace_() + "/" + v->key().name()] = *v;
    }
  }
  if (deletes) {
    if (auto gone = Gone(w.namespaces, pushed_.namespaces); !gone.empty()) {
      v1::DeleteNamespacesRequest req;
      for (const auto& k : gone) req.add_names(k);
      auto d = Done("DeleteNamespaces", stub_.DeleteNamespaces(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone) pushed_.namespaces.erase(k);
    }
    if (auto gone = Gone(w.remote_nodes, pushed_.remote_nodes); !gone.empty()) {
      v1::DeleteRemoteNodesRequest req;
      for (const auto& k : gone) req.add_names(k);
      auto d = Done("DeleteRemoteNodes", stub_.DeleteRemoteNodes(Context().get(), req, &reply), reply);
      if (!d.ok()) return d;
      for (const auto& k : gone) pushed_.remote_nodes.erase(k);
    }
  }
  return absl::OkStatus();
}

}  // namespace nodeplane::agent
