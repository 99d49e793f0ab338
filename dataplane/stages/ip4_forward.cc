#include "dataplane/stages/ip4_forward.h"

#include <rte_ether.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/core/icmp_error.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kTtlExceededInTransit = 0;

inline Edge TtlExpired(StageContext& ctx, rte_mbuf* pkt, PacketMeta& m) noexcept {
  const PortEntry& in = ctx.snap.port(m.in_port);
  const IcmpErrorFrom from{in.mac, in.gateway_ip};
  if (!MakeIcmp4Error(pkt, m.l3_offset, kIcmpTimeExceeded, kTtlExceededInTransit, 0, from)) {
    m.drop = DropReason::kIp4TtlExceeded;
    return Edge::kDrop;
  }
  // The original is gone (counted as a drop); its mbuf now carries the error back.
  ctx.counters.Drop(DropReason::kIp4TtlExceeded);
  ctx.counters.Count(Counter::kIcmpTimeExceededSent);
  m.out_port = m.in_port;
  return Edge::kTx;
}

inline Edge ForwardOne(StageContext& ctx, rte_mbuf* pkt) noexcept {
  PacketMeta& m = Meta(pkt);
  if (m.cls != PacketClass::kIp4 || m.punt) return Edge::kNext;
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, m.l3_offset);
  if (ip->time_to_live <= 1) [[unlikely]] return TtlExpired(ctx, pkt, m);
  --ip->time_to_live;
  // RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the TTL's 16-bit word m drops by 0x0100, so
  // ~m + m' = ~0x0100 = 0xfeff. (HC + 0x0100 would give 0xffff where a full computation gives 0.)
  uint32_t sum = static_cast<uint16_t>(~ip->hdr_checksum) + uint32_t{RTE_BE16(0xfeff)};
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = static_cast<uint16_t>(~sum);
  const PortEntry& out = ctx.snap.port(m.out_port);
  std::memcpy(eth->dst_addr.addr_bytes, out.peer_mac.data(), RTE_ETHER_ADDR_LEN);
  std::memcpy(eth->src_addr.addr_bytes, out.mac.data(), RTE_ETHER_ADDR_LEN);
  ctx.counters.Count(Counter::kRouted);
  return Edge::kNext;
}

}  // namespace

void Ip4ForwardStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = ForwardOne(ctx, b.pkts[i]);
}

}  // namespace nodeplane::dp
