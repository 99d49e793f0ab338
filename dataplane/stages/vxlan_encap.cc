#include "dataplane/stages/vxlan_encap.h"

#include <rte_cycles.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/pending_resolution.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/vxlan_push.h"

namespace nodeplane::dp {
namespace {

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

inline Edge EncapOne(StageContext& ctx, rte_mbuf* pkt, LastRemoteNode& last) noexcept {
  PacketMeta& m = Meta(pkt);
  if (m.remote == kNoRemote || m.punt) return Edge::kNext;
  const RemoteNodeEntry* node = last.Find(ctx.snap.remotes, m.remote);
  if (node == nullptr) [[unlikely]]
    return Drop(m, DropReason::kNoRoute);
  if (!node->resolved) [[unlikely]] {
    if (ctx.pending != nullptr &&
        ctx.pending->Park(pkt, m.remote,
                          ctx.now_tsc + PendingResolution::kHoldSeconds * rte_get_tsc_hz())) {
      ctx.counters.Count(Counter::kPendingResolution);
      return Edge::kHold;
    }
    return Drop(m, DropReason::kNeighborUnresolved);
  }

  if (!vxlan::Push(pkt, m, *node, ctx.snap.overlay.vtep_ip)) [[unlikely]]
    return Drop(m, DropReason::kEncapNoHeadroom);
  ctx.counters.Count(Counter::kVxlanEncapsulated);
  return Edge::kNext;
}

}  // namespace

void VxlanEncapStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  if ((ctx.burst_has & kHasRemote) == 0) {
    PassAll(out, b.n);
    return;
  }
  LastRemoteNode last;
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = EncapOne(ctx, b.pkts[i], last);
}

}  // namespace nodeplane::dp
