#include "control/server/nodeplane_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "control/compile/policy_explain.h"
#include "control/model/from_proto.h"
#include "control/model/network_policy_from_proto.h"
#include "control/server/conntrack_rpcs.h"
#include "control/server/status_to_grpc.h"

namespace nodeplane::ctl {
namespace {

grpc::Status Reply(const absl::StatusOr<uint64_t>& gen, v1::WriteReply* reply) {
  if (!gen.ok()) return ToGrpc(gen.status());
  reply->set_generation(*gen);
  return grpc::Status::OK;
}

absl::StatusOr<std::vector<PodModel>> PodsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Pod>& pods, const std::string& field) {
  if (pods.size() > kMaxPodsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", pods.size(), " pods in one request; at most ", kMaxPodsPerRequest));
  }
  std::vector<PodModel> out;
  std::set<PodKey> seen;
  for (int i = 0; i < pods.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto pod = PodFromProto(pods[i], f);
    if (!pod.ok()) return pod.status();
    if (!seen.insert(pod->key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".key: duplicate pod ", pod->key.ToString(), " in this request"));
    }
    out.push_back(std::move(*pod));
  }
  return out;
}

absl::StatusOr<std::vector<RemoteNodeModel>> RemoteNodesFromProto(
    const google::protobuf::RepeatedPtrField<v1::RemoteNode>& nodes, const std::string& field) {
  if (nodes.size() > kMaxRemoteNodesPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", nodes.size(),
                                                   " remote nodes in one request; at most ",
                                                   kMaxRemoteNodesPerRequest));
  }
  std::vector<RemoteNodeModel> out;
  std::set<std::string> seen;
  for (int i = 0; i < nodes.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto node = RemoteNodeFromProto(nodes[i], f);
    if (!node.ok()) return node.status();
    if (!seen.insert(node->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".name: duplicate remote node \"", node->name, "\" in this request"));
    }
    out.push_back(std::move(*node));
  }
  return out;
}

absl::StatusOr<std::vector<NamespaceModel>> NamespacesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Namespace>& namespaces, const std::string& field) {
  if (namespaces.size() > kMaxNamespacesPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", namespaces.size(),
                                                   " namespaces in one request; at most ",
                                                   kMaxNamespacesPerRequest));
  }
  std::vector<NamespaceModel> out;
  std::set<std::string> seen;
  for (int i = 0; i < namespaces.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto ns = NamespaceFromProto(namespaces[i], f);
    if (!ns.ok()) return ns.status();
    if (!seen.insert(ns->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".name: duplicate namespace \"", ns->name, "\" in this request"));
    }
    out.push_back(std::move(*ns));
  }
  return out;
}

absl::StatusOr<std::vector<NetworkPolicyModel>> PoliciesFromProto(
    const google::protobuf::RepeatedPtrField<v1::NetworkPolicy>& policies,
    const std::string& field) {
  if (policies.size() > kMaxPoliciesPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", policies.size(),
                                                   " policies in one request; at most ",
                                                   kMaxPoliciesPerRequest));
  }
  std::vector<NetworkPolicyModel> out;
  std::set<PolicyKey> seen;
  for (int i = 0; i < policies.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto p = NetworkPolicyFromProto(policies[i], f);
    if (!p.ok()) return p.status();
    if (!seen.insert(p->key).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          f, ".key: duplicate network policy ", p->key.ToString(), " in this request"));
    }
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace

grpc::Status NodeplaneService::SetNode(grpc::ServerContext*, const v1::SetNodeRequest* req,
                                       v1::WriteReply* reply) {
  auto node = NodeFromProto(req->node(), "node");
  if (!node.ok()) return ToGrpc(node.status());
  return Reply(applier_.SetNode(std::move(*node)), reply);
}

grpc::Status NodeplaneService::UpsertPods(grpc::ServerContext*, const v1::UpsertPodsRequest* req,
                                          v1::WriteReply* reply) {
  auto pods = PodsFromProto(req->pods(), "pods");
  if (!pods.ok()) return ToGrpc(pods.status());
  return Reply(applier_.UpsertPods(std::move(*pods)), reply);
}

grpc::Status NodeplaneService::DeletePods(grpc::ServerContext*, const v1::DeletePodsRequest* req,
                                          v1::WriteReply* reply) {
  std::vector<PodKey> keys;
  for (int i = 0; i < req->keys_size(); ++i) {
    auto key = PodKeyFromProto(req->keys(i), absl::StrCat("keys[", i, "]"));
    if (!key.ok()) return ToGrpc(key.status());
    keys.push_back(*key);
  }
  return Reply(applier_.DeletePods(keys), reply);
}

grpc::Status NodeplaneService::AttachPod(grpc::ServerContext*, const v1::AttachPodRequest* req,
                                         v1::AttachPodReply* reply) {
  v1::Pod pod;
  *pod.mutable_key() = req->key();
  *pod.mutable_ips() = req->ips();
  *pod.mutable_labels() = req->labels();
  *pod.mutable_ports() = req->ports();
  auto model = PodFromProto(pod, "");  // field paths of the request itself: "ips[0]", "key.name"
  if (!model.ok()) return ToGrpc(model.status());
  if (req->ips_size() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ips: at least one address is required");
  }
  if (req->netns().empty() || req->netns()[0] != '/') {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "netns: must be an absolute path, got \"" + req->netns() + "\"");
  }
  const std::string ifname = req->interface().empty() ? "eth0" : req->interface();
  if (ifname.size() > 15 || ifname.find_first_of("/ \t:") != std::string::npos) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "interface: not a valid interface name: \"" + ifname + "\"");
  }
  const uint32_t mtu = req->mtu() == 0 ? DefaultPodMtu(applier_.runtime()) : req->mtu();
  if (mtu < kMinPodMtu || mtu > kMaxPodMtu) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("mtu: must be ", kMinPodMtu, "..", kMaxPodMtu, ", got ", mtu));
  }
  auto result = applier_.AttachPod(AttachRequest{std::move(*model), req->netns(), ifname, mtu});
  if (!result.ok()) return ToGrpc(result.status());
  reply->set_generation(result->first);
  *reply->mutable_attachment() = AttachmentToProto(result->second);
  return grpc::Status::OK;
}

grpc::Status NodeplaneService::DetachPod(grpc::ServerContext*, const v1::DetachPodRequest* req,
                                         v1::WriteReply* reply) {
  auto key = PodKeyFromProto(req->key(), "key");
  if (!key.ok()) return ToGrpc(key.status());
  return Reply(applier_.DetachPod(*key), reply);
}

grpc::Status NodeplaneService::SyncState(grpc::ServerContext*, const v1::SyncStateRequest* req,
                                         v1::WriteReply* reply) {
  const v1::State& s = req->state();
  auto node = NodeFromProto(s.node(), "state.node");
  if (!node.ok()) return ToGrpc(node.status());
  auto pods = PodsFromProto(s.pods(), "state.pods");
  if (!pods.ok()) return ToGrpc(pods.status());
  auto remote = RemoteNodesFromProto(s.remote_nodes(), "state.remote_nodes");
  if (!remote.ok()) return ToGrpc(remote.status());
  auto services = ServiceStateFromProto(s);
  if (!services.ok()) return ToGrpc(services.status());
  auto namespaces = NamespacesFromProto(s.namespaces(), "state.namespaces");
  if (!namespaces.ok()) return ToGrpc(namespaces.status());
  auto policies = PoliciesFromProto(s.network_policies(), "state.network_policies");
  if (!policies.ok()) return ToGrpc(policies.status());
  return Reply(applier_.Sync(std::move(*node), std::move(*pods), std::move(*remote),
                             std::move(*services), std::move(*namespaces), std::move(*policies)),
               reply);
}

grpc::Status NodeplaneService::UpsertNamespaces(grpc::ServerContext*,
                                                const v1::UpsertNamespacesRequest* req,
                                                v1::WriteReply* reply) {
  auto namespaces = NamespacesFromProto(req->namespaces(), "namespaces");
  if (!namespaces.ok()) return ToGrpc(namespaces.status());
  return Reply(applier_.UpsertNamespaces(std::move(*namespaces)), reply);
}
grpc::Status NodeplaneService::DeleteNamespaces(grpc::ServerContext*,
                                                const v1::DeleteNamespacesRequest* req,
                                                v1::WriteReply* reply) {
  if (req->names_size() > kMaxNamespacesPerRequest) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("names: ", req->names_size(), " names in one request; at most ",
                                     kMaxNamespacesPerRequest));
  }
  return Reply(applier_.DeleteNamespaces({req->names().begin(), req->names().end()}), reply);
}
// UpsertServices, DeleteServices, UpsertEndpointSlices, DeleteEndpointSlices:
// control/server/nodeplane_service_services.cc.
grpc::Status NodeplaneService::UpsertNetworkPolicies(grpc::ServerContext*,
                                                     const v1::UpsertNetworkPoliciesRequest* req,
                                                     v1::WriteReply* reply) {
  auto policies = PoliciesFromProto(req->network_policies(), "network_policies");
  if (!policies.ok()) return ToGrpc(policies.status());
  return Reply(applier_.UpsertNetworkPolicies(std::move(*policies)), reply);
}
grpc::Status NodeplaneService::DeleteNetworkPolicies(grpc::ServerContext*,
                                                     const v1::DeleteNetworkPoliciesRequest* req,
                                                     v1::WriteReply* reply) {
  if (req->keys_size() > kMaxPoliciesPerRequest) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("keys: ", req->keys_size(), " keys in one request; at most ",
                                     kMaxPoliciesPerRequest));
  }
  std::vector<PolicyKey> keys;
  for (int i = 0; i < req->keys_size(); ++i) {
    auto key = PolicyKeyFromProto(req->keys(i), absl::StrCat("keys[", i, "]"));
    if (!key.ok()) return ToGrpc(key.status());
    keys.push_back(*key);
  }
  return Reply(applier_.DeleteNetworkPolicies(keys), reply);
}
grpc::Status NodeplaneService::UpsertRemoteNodes(grpc::ServerContext*,
                                                 const v1::UpsertRemoteNodesRequest* req,
                                                 v1::WriteReply* reply) {
  auto nodes = RemoteNodesFromProto(req->remote_nodes(), "remote_nodes");
  if (!nodes.ok()) return ToGrpc(nodes.status());
  return Reply(applier_.UpsertRemoteNodes(std::move(*nodes)), reply);
}

grpc::Status NodeplaneService::DeleteRemoteNodes(grpc::ServerContext*,
                                                 const v1::DeleteRemoteNodesRequest* req,
                                                 v1::WriteReply* reply) {
  if (req->names_size() > kMaxRemoteNodesPerRequest) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("names: ", req->names_size(), " names in one request; at most ",
                                     kMaxRemoteNodesPerRequest));
  }
  return Reply(applier_.DeleteRemoteNodes({req->names().begin(), req->names().end()}), reply);
}

grpc::Status NodeplaneService::GetState(grpc::ServerContext*, const v1::GetStateRequest*,
                                        v1::State* reply) {
  const DesiredState state = applier_.state();
  reply->set_generation(applier_.generation());
  if (state.node) *reply->mutable_node() = NodeToProto(*state.node);
  for (const auto& [key, pod] : state.pods) *reply->add_pods() = PodToProto(pod);
  for (const auto& [key, att] : state.attachments) *reply->add_attachments() = AttachmentToProto(att);
  for (const auto& [name, node] : state.remote_nodes) {
    *reply->add_remote_nodes() = RemoteNodeToProto(node);
  }
  AddServicesToState(state, reply);
  for (const auto& [name, ns] : state.namespaces) *reply->add_namespaces() = NamespaceToProto(ns);
  for (const auto& [key, policy] : state.network_policies) {
    *reply->add_network_policies() = NetworkPolicyToProto(policy);
  }
  return grpc::Status::OK;
}

grpc::Status NodeplaneService::GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                                        v1::Stats* reply) {
  *reply = ReadStats(applier_.state(), applier_.runtime(), info_.workers, applier_.generation());
  return grpc::Status::OK;
}

grpc::Status NodeplaneService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                         v1::Status* reply) {
  const DesiredState state = applier_.state();
  reply->set_version(info_.version);
  reply->set_node_name(state.node ? state.node->name : "");
  reply->set_generation(applier_.generation());
  reply->set_workers(static_cast<uint32_t>(info_.workers.size()));
  reply->set_hugepages(info_.hugepages);
  reply->set_uptime_seconds(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                       info_.started)
          .count()));
  reply->set_pods_attached(static_cast<uint32_t>(state.attachments.size()));
  const RuntimePorts& rt = applier_.runtime();
  reply->set_ports(static_cast<uint32_t>(state.attachments.size() + (rt.uplink ? 1 : 0) +
                                         (rt.host ? 1 : 0)));
  reply->set_uplink(info_.uplink);
  reply->set_host_interface(info_.host_interface);
  return grpc::Status::OK;
}

namespace {

// "10.244.1.5" or "namespace/name" (a pod with an address).
absl::StatusOr<Ip4> EndpointAddress(const DesiredState& state, const std::string& text,
                                    const std::string& field) {
  if (text.find('/') != std::string::npos) {
    const size_t slash = text.find('/');
    const PodKey key{text.substr(0, slash), text.substr(slash + 1)};
    const auto pod = state.pods.find(key);
    if (pod == state.pods.end()) {
      return absl::NotFoundError(absl::StrCat(field, ": no pod ", text));
    }
    if (pod->second.ips.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": pod ", text, " has no address"));
    }
    return pod->second.ips.front();
  }
  return Ip4FromString(text, field);
}

void VerdictToProto(const DirectionVerdict& v, v1::PolicyDirectionVerdict* out) {
  if (v.pod) *out->mutable_pod() = PodKeyToProto(*v.pod);
  out->set_isolated(!v.isolating.empty());
  for (const PolicyKey& k : v.isolating) *out->add_isolating() = PolicyKeyToProto(k);
  for (const PolicyKey& k : v.allowing) *out->add_allowing() = PolicyKeyToProto(k);
  out->set_allowed(v.allowed);
  out->set_reason(v.reason);
}

}  // namespace

grpc::Status NodeplaneService::ExplainPolicy(grpc::ServerContext*,
                                             const v1::ExplainPolicyRequest* req,
                                             v1::PolicyExplanation* reply) {
  const DesiredState state = applier_.state();
  auto src = EndpointAddress(state, req->source(), "source");
  if (!src.ok()) return ToGrpc(src.status());
  auto dst = EndpointAddress(state, req->destination(), "destination");
  if (!dst.ok()) return ToGrpc(dst.status());
  L4Protocol protocol = L4Protocol::kTcp;
  switch (req->protocol()) {
    case v1::PROTOCOL_UNSPECIFIED:
    case v1::TCP:
      break;
    case v1::UDP:
      protocol = L4Protocol::kUdp;
      break;
    case v1::SCTP:
      protocol = L4Protocol::kSctp;
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("protocol: unknown protocol ", req->protocol(),
                                       " (TCP, UDP or SCTP)"));
  }
  if (req->port() == 0 || req->port() > 65535) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("port: must be 1..65535, got ", req->port()));
  }
  const Explanation e =
      ExplainConnection(state, *src, *dst, protocol, static_cast<uint16_t>(req->port()));
  reply->set_allowed(e.allowed);
  VerdictToProto(e.egress, reply->mutable_egress());
  VerdictToProto(e.ingress, reply->mutable_ingress());
  reply->set_source_ip(src->ToString());
  reply->set_destination_ip(dst->ToString());
  if (e.src_pod) *reply->mutable_source_pod() = PodKeyToProto(*e.src_pod);
  if (e.dst_pod) *reply->mutable_destination_pod() = PodKeyToProto(*e.dst_pod);
  return grpc::Status::OK;
}

grpc::Status NodeplaneService::ListConntrack(grpc::ServerContext*,
                                             const v1::ListConntrackRequest* req,
                                             v1::ListConntrackReply* reply) {
  return ctl::ListConntrack(info_.conntrack, *req, reply);
}

grpc::Status NodeplaneService::FlushConntrack(grpc::ServerContext*,
                                              const v1::FlushConntrackRequest* req,
                                              v1::FlushConntrackReply* reply) {
  return ctl::FlushConntrack(info_.conntrack, *req, reply);
}

}  // namespace nodeplane::ctl
