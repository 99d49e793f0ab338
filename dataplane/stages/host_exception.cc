#include "dataplane/stages/host_exception.h"

#include <rte_ether.h>

#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

// A decapsulated packet for this node: the Ethernet header the host kernel's interface accepts.
inline void ToHostMacs(const PortEntry& host, rte_mbuf* pkt) noexcept {
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  std::memcpy(eth->dst_addr.addr_bytes, host.peer_mac.data(), RTE_ETHER_ADDR_LEN);
  std::memcpy(eth->src_addr.addr_bytes, host.mac.data(), RTE_ETHER_ADDR_LEN);
}

inline Edge HandleOne(StageContext& ctx, rte_mbuf* pkt) noexcept {
  PacketMeta& m = Meta(pkt);
  if (!m.punt) return Edge::kNext;
  const bool from_host = ctx.snap.port(m.in_port).kind == PortKind::kHost;
  const uint16_t to = from_host ? ctx.snap.uplink_port : ctx.snap.host_port;
  if (to == kNoPort) {
    m.drop = DropReason::kPortUnavailable;
    return Edge::kDrop;
  }
  m.out_port = to;
  if (m.from_overlay) ToHostMacs(ctx.snap.port(to), pkt);
  ctx.counters.Count(from_host ? Counter::kHostToUplink : Counter::kPuntedToHost);
  return Edge::kNext;
}

}  // namespace

void HostExceptionStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  if ((ctx.burst_has & kHasPunt) == 0) {
    PassAll(out, b.n);
    return;
  }
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = HandleOne(ctx, b.pkts[i]);
}

}  // namespace nodeplane::dp
