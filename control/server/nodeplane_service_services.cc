// The Services and EndpointSlices RPCs: validate into the model (field paths of the request),
// hand to the Applier, reply with the generation.
#include "absl/strings/str_cat.h"
#include "control/model/from_proto.h"
#include "control/model/service_from_proto.h"
#include "control/server/nodeplane_service.h"
#include "control/server/status_to_grpc.h"

namespace nodeplane::ctl {
namespace {

grpc::Status Reply(const absl::StatusOr<uint64_t>& gen, v1::WriteReply* reply) {
  if (!gen.ok()) return ToGrpc(gen.status());
  reply->set_generation(*gen);
  return grpc::Status::OK;
}

template <typename Key, typename Proto, typename Parse>
absl::StatusOr<std::vector<Key>> KeysFromProto(const google::protobuf::RepeatedPtrField<Proto>& keys,
                                               int max, Parse parse) {
  if (keys.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", keys.size(), " keys in one request; at most ", max));
  }
  std::vector<Key> out;
  for (int i = 0; i < keys.size(); ++i) {
    auto key = parse(keys[i], absl::StrCat("keys[", i, "]"));
    if (!key.ok()) return key.status();
    out.push_back(*key);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ServiceState>> NodeplaneService::ServiceStateFromProto(
    const v1::State& s) const {
  auto services = ServicesFromProto(s.services(), "state.services", info_.node_port_range);
  if (!services.ok()) return services.status();
  auto slices = EndpointSlicesFromProto(s.endpoint_slices(), "state.endpoint_slices");
  if (!slices.ok()) return slices.status();
  auto state = ApplyServiceChange(ServiceState{}, true, std::move(*services), {}, std::move(*slices),
                                  {}, "state.services", "state.endpoint_slices");
  if (!state.ok()) return state.status();
  return std::make_shared<const ServiceState>(std::move(*state));
}

void NodeplaneService::AddServicesToState(const DesiredState& state, v1::State* reply) {
  if (!state.services) return;
  for (const auto& [key, svc] : state.services->services) *reply->add_services() = ServiceToProto(svc);
  for (const auto& [key, slice] : state.services->slices) {
    *reply->add_endpoint_slices() = EndpointSliceToProto(slice);
  }
}

grpc::Status NodeplaneService::UpsertServices(grpc::ServerContext*,
                                              const v1::UpsertServicesRequest* req,
                                              v1::WriteReply* reply) {
  auto services = ServicesFromProto(req->services(), "services", info_.node_port_range);
  if (!services.ok()) return ToGrpc(services.status());
  return Reply(applier_.UpsertServices(std::move(*services)), reply);
}

grpc::Status NodeplaneService::DeleteServices(grpc::ServerContext*,
                                              const v1::DeleteServicesRequest* req,
                                              v1::WriteReply* reply) {
  auto keys = KeysFromProto<ServiceKey>(req->keys(), kMaxServicesPerRequest, ServiceKeyFromProto);
  if (!keys.ok()) return ToGrpc(keys.status());
  return Reply(applier_.DeleteServices(*keys), reply);
}

grpc::Status NodeplaneService::UpsertEndpointSlices(grpc::ServerContext*,
                                                    const v1::UpsertEndpointSlicesRequest* req,
                                                    v1::WriteReply* reply) {
  auto slices = EndpointSlicesFromProto(req->endpoint_slices(), "endpoint_slices");
  if (!slices.ok()) return ToGrpc(slices.status());
  return Reply(applier_.UpsertEndpointSlices(std::move(*slices)), reply);
}

grpc::Status NodeplaneService::DeleteEndpointSlices(grpc::ServerContext*,
                                                    const v1::DeleteEndpointSlicesRequest* req,
                                                    v1::WriteReply* reply) {
  auto keys = KeysFromProto<EndpointSliceKey>(req->keys(), kMaxSlicesPerRequest,
                                              EndpointSliceKeyFromProto);
  if (!keys.ok()) return ToGrpc(keys.status());
  return Reply(applier_.DeleteEndpointSlices(*keys), reply);
}

grpc::Status NodeplaneService::ExplainServiceBackend(grpc::ServerContext*,
                                                     const v1::ExplainServiceBackendRequest* req,
                                                     v1::ExplainServiceBackendReply* reply) {
  auto src = Ip4FromString(req->source_ip(), "source_ip");
  if (!src.ok()) return ToGrpc(src.status());
  auto dst = Ip4FromString(req->destination_ip(), "destination_ip");
  if (!dst.ok()) return ToGrpc(dst.status());
  if (req->destination_port() == 0 || req->destination_port() > 65535) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("destination_port: must be 1..65535, got ",
                                     req->destination_port()));
  }
  if (req->source_port() > 65535) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("source_port: must be 0..65535, got ", req->source_port()));
  }
  L4Protocol proto = L4Protocol::kTcp;
  if (req->protocol() == v1::UDP) proto = L4Protocol::kUdp;
  if (req->protocol() == v1::SCTP) proto = L4Protocol::kSctp;
  const uint16_t sport = req->source_port() == 0 ? 40000 : static_cast<uint16_t>(req->source_port());
  auto x = applier_.ExplainServiceBackend(*src, sport, *dst,
                                          static_cast<uint16_t>(req->destination_port()), proto);
  if (!x.ok()) return ToGrpc(x.status());
  reply->mutable_service()->set_namespace_(x->service.ns);
  reply->mutable_service()->set_name(x->service.name);
  using Kind = dp::ServiceAddressKind;
  const char* kinds[] = {"ClusterIP", "NodePort", "ExternalIP", "LoadBalancer"};
  reply->set_address_kind(kinds[static_cast<int>(x->kind)]);
  reply->set_from_outside(x->outside);
  const dp::ServiceDecision& d = x->decision;
  reply->set_endpoint_set(d.local_set ? "local" : "cluster");
  std::string why;
  if (x->kind == Kind::kClusterIp) {
    why = x->internal_local ? "internalTrafficPolicy Local: this node's endpoints"
                            : "internalTrafficPolicy Cluster: the ready endpoints (serving "
                              "terminating ones when none is ready)";
    if (x->outside) why += "; client outside the cluster: SNAT to the node";
  } else if (x->outside) {
    why = x->external_local
              ? "externalTrafficPolicy Local, client outside the cluster: this node's endpoints, "
                "client source kept"
              : "externalTrafficPolicy Cluster, client outside the cluster: any endpoint, SNAT "
                "to the node";
  } else {
    why = "client inside the cluster: Cluster semantics whatever the external policy";
  }
  switch (d.outcome) {
    case dp::ServiceDecision::Outcome::kTranslate:
      reply->set_outcome("translated");
      reply->set_backend(absl::StrCat(x->backend_ip.ToString(), ":", x->backend_port));
      break;
    case dp::ServiceDecision::Outcome::kReject:
      reply->set_outcome("rejected");
      why += "; no usable endpoint anywhere: TCP RST / ICMP port unreachable";
      break;
    case dp::ServiceDecision::Outcome::kDropNoLocalEndpoint:
      reply->set_outcome("dropped");
      why += "; no endpoint on this node (svc_no_local_endpoint)";
      break;
    case dp::ServiceDecision::Outcome::kDropSourceRange:
      reply->set_outcome("dropped");
      why = "source outside loadBalancerSourceRanges (svc_source_range)";
      break;
  }
  reply->set_reason(why);
  reply->set_maglev_slot(d.affinity_hit ? 0 : d.slot);
  reply->set_maglev_slots(d.slots);
  reply->set_affinity(d.affinity_hit);
  if (x->snat.be != 0) reply->set_snat_source(x->snat.ToString());
  reply->set_set_size(x->set_size);
  return grpc::Status::OK;
}

}  // namespace nodeplane::ctl
