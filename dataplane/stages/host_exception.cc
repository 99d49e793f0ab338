#include "dataplane/stages/host_exception.h"

#include <rte_ether.h>

#include "dataplane/core/hop_macs.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

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
  // A decapsulated packet for this node: the Ethernet header the host kernel's interface accepts.
  if (m.from_overlay) MacsToPort(rte_pktmbuf_mtod(pkt, rte_ether_hdr*), ctx.snap.port(to));
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
