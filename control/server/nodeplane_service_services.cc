// The Services and EndpointSlices RPCs: validate into the model (field paths of the request),
// hand to the Applier, reply with the generation.
#include "absl/strings/str_cat.h"
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

}  // namespace nodeplane::ctl
