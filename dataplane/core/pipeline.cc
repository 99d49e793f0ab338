#include "dataplane/core/pipeline.h"

#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/pending_resolution.h"
#include "dataplane/stages/arp_respond.h"
#include "dataplane/stages/ct_commit.h"
#include "dataplane/stages/ct_fastpath.h"
#include "dataplane/stages/ct_lookup.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/stages/host_exception.h"
#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/nat_rewrite.h"
#include "dataplane/stages/policy.h"
#include "dataplane/stages/port_tx.h"
#include "dataplane/stages/svc_lb.h"
#include "dataplane/stages/vxlan_decap.h"
#include "dataplane/stages/vxlan_encap.h"

namespace nodeplane::dp {
namespace {

// Runs stage S, keeps kNext packets in order, hands kTx packets to port_tx (together, in order)
// and kDrop packets to the drop list (freed in bulk, counted by reason, at the end of the burst).
// Inlined: thirteen calls per burst would cost more than the code they save.
static_assert(static_cast<uint8_t>(Edge::kNext) == 0, "AllNext ORs the edges together");

// Whether every packet of the burst took kNext: eight edges per load, so a stage that lets the
// whole burst through costs the pipeline a handful of instructions instead of a pass over it.
inline bool AllNext(const Verdicts& v, uint16_t n) noexcept {
  uint64_t any = 0;
  uint16_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t eight;
    std::memcpy(&eight, &v.edge[i], sizeof(eight));
    any |= eight;
  }
  for (; i < n; ++i) any |= static_cast<uint8_t>(v.edge[i]);
  return any == 0;
}

// Whether every packet of the burst took kTx (ct_fastpath's usual burst): it goes out as it is.
inline bool AllTx(const Verdicts& v, uint16_t n) noexcept {
  constexpr uint64_t kEightTx = 0x0101010101010101ull * static_cast<uint8_t>(Edge::kTx);
  uint64_t differ = 0;
  uint16_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t eight;
    std::memcpy(&eight, &v.edge[i], sizeof(eight));
    differ |= eight ^ kEightTx;
  }
  for (; i < n; ++i) differ |= static_cast<uint8_t>(v.edge[i]) ^ static_cast<uint8_t>(Edge::kTx);
  return differ == 0;
}

template <Stage S>
[[gnu::always_inline]] inline void Step(StageContext& ctx, WorkerState& w, Burst& b) noexcept {
  if (b.n == 0) return;
  Verdicts v;
  S::Process(ctx, b, v);
  if (AllNext(v, b.n)) return;
  if (AllTx(v, b.n)) {
    PortTx::EnqueueMany(ctx, w, b.pkts, b.n, v.tx_port);
    b.n = 0;
    return;
  }
  uint16_t kept = 0;
  rte_mbuf* tx[kBurstMax];
  uint16_t tx_n = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    rte_mbuf* m = b.pkts[i];
    switch (v.edge[i]) {
      case Edge::kNext:
        b.pkts[kept++] = m;
        break;
      case Edge::kTx:
        tx[tx_n++] = m;
        break;
      case Edge::kDrop:
        ctx.counters.Drop(Meta(m).drop);
        w.drop[w.drop_n++] = m;
        break;
      case Edge::kHold:  // the stage owns it now
        break;
    }
  }
  b.n = kept;
  // Together: ct_fastpath finishes whole bursts, which then go out as one tx burst.
  PortTx::EnqueueMany(ctx, w, tx, tx_n, v.tx_port);
}

// Transmits what is left of the burst, flushes every tx buffer, frees the burst's drops.
void Finish(StageContext& ctx, WorkerState& w, Burst& b) noexcept {
  PortTx::EnqueueBurst(ctx, w, b);
  PortTx::Flush(ctx, w);
  if (w.drop_n != 0) {
    rte_pktmbuf_free_bulk(w.drop, w.drop_n);
    w.drop_n = 0;
  }
}

}  // namespace

void ReleasePending(const Snapshot& snap, WorkerState& w) noexcept {
  if (w.pending.size() == 0) return;
  StageContext ctx{snap, w.counters, w.index, nullptr, w.now_tsc};
  Burst b;
  w.pending.Release([&](rte_mbuf* m, uint32_t slot, uint64_t deadline) {
    const RemoteNodeEntry* node = snap.remotes.Find(slot);
    if (node != nullptr && node->resolved) {
      b.pkts[b.n++] = m;
      return true;
    }
    if (node != nullptr && w.now_tsc < deadline) return false;
    Meta(m).drop = DropReason::kNeighborUnresolved;
    ctx.counters.Drop(DropReason::kNeighborUnresolved);
    w.drop[w.drop_n++] = m;
    return true;
  });
  // Back through the stage that parked them, now that their node has a MAC (PendingResolution
  // holds at most kCapacity <= kBurstMax packets, so one burst takes them all).
  Step<VxlanEncapStage>(ctx, w, b);
  Finish(ctx, w, b);
}

void RunPipeline(const Snapshot& snap, WorkerState& w, Burst& b) noexcept {
  StageContext ctx{snap, w.counters, w.index, &w.pending, w.now_tsc};
  w.counters.rx_packets += b.n;
  Step<EthParseStage>(ctx, w, b);
  Step<VxlanDecapStage>(ctx, w, b);
  Step<ArpRespondStage>(ctx, w, b);
  Step<CtLookupStage>(ctx, w, b);
  // Established connections whose route is remembered leave here (kTx); the rest go on.
  Step<CtFastpathStage>(ctx, w, b);
  Step<SvcLbStage>(ctx, w, b);
  // NetworkPolicy: after DNAT (svc_lb's decision), before ct_commit stores the generation that
  // admitted the connection and before SNAT.
  Step<PolicyStage>(ctx, w, b);
  Step<CtCommitStage>(ctx, w, b);
  Step<NatRewriteStage>(ctx, w, b);
  Step<Ip4LookupStage>(ctx, w, b);
  Step<Ip4ForwardStage>(ctx, w, b);
  Step<VxlanEncapStage>(ctx, w, b);
  Step<HostExceptionStage>(ctx, w, b);
  Finish(ctx, w, b);
}

}  // namespace nodeplane::dp
