#include "dataplane/core/pipeline.h"

#include "dataplane/core/packet_meta.h"
#include "dataplane/stages/arp_respond.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/stages/host_exception.h"
#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/policy.h"
#include "dataplane/stages/port_tx.h"
#include "dataplane/stages/vxlan_decap.h"
#include "dataplane/stages/vxlan_encap.h"

namespace nodeplane::dp {
namespace {

// Runs stage S, keeps kNext packets in order, hands kTx packets to port_tx and kDrop packets to
// the drop list (freed in bulk, counted by reason, at the end of the burst).
template <Stage S>
inline void Step(StageContext& ctx, WorkerState& w, Burst& b) noexcept {
  if (b.n == 0) return;
  Verdicts v;
  S::Process(ctx, b, v);
  uint16_t kept = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    rte_mbuf* m = b.pkts[i];
    switch (v.edge[i]) {
      case Edge::kNext:
        b.pkts[kept++] = m;
        break;
      case Edge::kTx:
        PortTx::Enqueue(ctx, w, m);
        break;
      case Edge::kDrop:
        ctx.counters.Drop(Meta(m).drop);
        w.drop[w.drop_n++] = m;
        break;
    }
  }
  b.n = kept;
}

}  // namespace

void RunPipeline(const Snapshot& snap, WorkerState& w, Burst& b) noexcept {
  StageContext ctx{snap, w.counters, w.index};
  w.counters.rx_packets += b.n;
  Step<EthParseStage>(ctx, w, b);
  Step<VxlanDecapStage>(ctx, w, b);
  Step<ArpRespondStage>(ctx, w, b);
  // NetworkPolicy. Its place once conntrack and Services are in: after svc_lb (it judges the
  // post-DNAT destination) and before ct_commit (which stores the generation that admitted).
  Step<PolicyStage>(ctx, w, b);
  Step<Ip4LookupStage>(ctx, w, b);
  Step<Ip4ForwardStage>(ctx, w, b);
  Step<VxlanEncapStage>(ctx, w, b);
  Step<HostExceptionStage>(ctx, w, b);
  for (uint16_t i = 0; i < b.n; ++i) PortTx::Enqueue(ctx, w, b.pkts[i]);
  b.n = 0;
  PortTx::Flush(ctx, w);
  if (w.drop_n != 0) {
    rte_pktmbuf_free_bulk(w.drop, w.drop_n);
    w.drop_n = 0;
  }
}

}  // namespace nodeplane::dp
