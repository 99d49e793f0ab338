#include "control/server/conntrack_rpcs.h"

#include <netinet/in.h>

#include "absl/strings/str_cat.h"
#include "control/server/status_to_grpc.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {
namespace {

uint8_t ProtoNumber(v1::ConntrackProtocol p) {
  switch (p) {
    case v1::CONNTRACK_PROTOCOL_TCP: return IPPROTO_TCP;
    case v1::CONNTRACK_PROTOCOL_UDP: return IPPROTO_UDP;
    case v1::CONNTRACK_PROTOCOL_SCTP: return IPPROTO_SCTP;
    case v1::CONNTRACK_PROTOCOL_ICMP: return IPPROTO_ICMP;
    default: return 0;
  }
}

v1::ConntrackProtocol ProtoEnum(uint8_t n) {
  switch (n) {
    case IPPROTO_TCP: return v1::CONNTRACK_PROTOCOL_TCP;
    case IPPROTO_UDP: return v1::CONNTRACK_PROTOCOL_UDP;
    case IPPROTO_SCTP: return v1::CONNTRACK_PROTOCOL_SCTP;
    case IPPROTO_ICMP: return v1::CONNTRACK_PROTOCOL_ICMP;
    default: return v1::CONNTRACK_PROTOCOL_UNSPECIFIED;
  }
}

void ToProto(const dp::CtKey& k, v1::ConntrackTuple* t) {
  t->set_source(Ip4{k.src_ip}.ToString());
  t->set_destination(Ip4{k.dst_ip}.ToString());
  t->set_source_port(ntohs(k.src_port));
  t->set_destination_port(ntohs(k.dst_port));
}

absl::StatusOr<uint32_t> Address(const std::string& text, const std::string& field) {
  if (text.empty()) return 0u;
  const auto ip = Ip4::Parse(text);
  if (!ip) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not an IPv4 address: \"", text, "\""));
  }
  return ip->be;
}

grpc::Status NoTable() {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "conntrack: this dataplane runs without a conntrack table");
}

}  // namespace

absl::StatusOr<dp::CtFilter> ConntrackFilterFromProto(const v1::ConntrackFilter& f,
                                                      const std::string& field) {
  dp::CtFilter out;
  auto src = Address(f.source(), field + ".source");
  if (!src.ok()) return src.status();
  auto dst = Address(f.destination(), field + ".destination");
  if (!dst.ok()) return dst.status();
  if (f.port() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".port: ", f.port(), " outside 1-65535 (0: any)"));
  }
  if (!v1::ConntrackProtocol_IsValid(f.protocol())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".protocol: unknown value ", static_cast<int>(f.protocol())));
  }
  out.src_ip = *src;
  out.dst_ip = *dst;
  out.port = htons(static_cast<uint16_t>(f.port()));
  out.proto = ProtoNumber(f.protocol());
  return out;
}

grpc::Status ListConntrack(const dp::Conntrack* ct, const v1::ListConntrackRequest& req,
                           v1::ListConntrackReply* reply) {
  if (ct == nullptr) return NoTable();
  auto filter = ConntrackFilterFromProto(req.filter(), "filter");
  if (!filter.ok()) return ToGrpc(filter.status());
  const size_t limit = req.limit() == 0 ? kDefaultConntrackListLimit : req.limit();
  for (const dp::CtConnection& c : ct->List(*filter, limit)) {
    v1::Connection* out = reply->add_connections();
    out->set_protocol(ProtoEnum(c.orig.proto));
    ToProto(c.orig, out->mutable_original());
    ToProto(c.reply, out->mutable_reply());
    out->set_state(dp::CtProtoName(c.state));
    out->set_idle_ms(c.idle_ms);
    out->set_expires_in_ms(c.expires_in_ms);
    out->set_policy_generation(c.policy_gen);
  }
  reply->set_total(ct->connections());
  reply->set_capacity(ct->capacity());
  return grpc::Status::OK;
}

grpc::Status FlushConntrack(dp::Conntrack* ct, const v1::FlushConntrackRequest& req,
                            v1::FlushConntrackReply* reply) {
  if (ct == nullptr) return NoTable();
  auto filter = ConntrackFilterFromProto(req.filter(), "filter");
  if (!filter.ok()) return ToGrpc(filter.status());
  reply->set_removed(ct->Flush(*filter));
  return grpc::Status::OK;
}

}  // namespace nodeplane::ctl
