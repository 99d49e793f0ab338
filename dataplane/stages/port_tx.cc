#include "dataplane/stages/port_tx.h"

#include <rte_ethdev.h>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
static_assert(kTxPortsMixed == kNoPort, "a port number never names a real port by accident");
namespace {

inline bool Available(const StageContext& ctx, uint16_t port) noexcept {
  return port < RTE_MAX_ETHPORTS && ctx.snap.ports[port].kind != PortKind::kNone;
}

// One rte_eth_tx_burst on this worker's queue of `port`; what the queue refuses is TX_FULL.
void Send(StageContext& ctx, const WorkerState& w, uint16_t port, rte_mbuf** pkts,
          uint16_t n) noexcept {
  const uint16_t queue = static_cast<uint16_t>(w.index % ctx.snap.ports[port].tx_queues);
  const uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);
  ctx.counters.tx_packets += sent;
  if (sent < n) [[unlikely]] {
    ctx.counters.drops[static_cast<uint8_t>(DropReason::kTxFull)] += n - sent;
    rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
  }
}

void FlushPort(StageContext& ctx, WorkerState& w, uint16_t port) noexcept {
  TxBuffer& buf = w.tx[port];
  Send(ctx, w, port, buf.pkts, buf.n);
  buf.n = 0;
}

}  // namespace

void PortTx::Enqueue(StageContext& ctx, WorkerState& w, rte_mbuf* m) noexcept {
  const uint16_t port = Meta(m).out_port;
  if (!Available(ctx, port)) [[unlikely]] {
    ctx.counters.Drop(DropReason::kPortUnavailable);
    rte_pktmbuf_free(m);
    return;
  }
  TxBuffer& buf = w.tx[port];
  if (buf.n == 0) w.dirty[w.dirty_n++] = port;
  buf.pkts[buf.n++] = m;
  if (buf.n == kBurstMax) [[unlikely]]
    FlushPort(ctx, w, port);  // stays on the dirty list, n=0
}

void PortTx::EnqueueMany(StageContext& ctx, WorkerState& w, rte_mbuf** pkts, uint16_t n,
                         uint16_t known_port) noexcept {
  if (n == 0) return;
  const uint16_t port = known_port != kTxPortsMixed ? known_port : Meta(pkts[0]).out_port;
  bool one_port = Available(ctx, port) && w.tx[port].n == 0;
  if (known_port == kTxPortsMixed) {
    for (uint16_t i = 1; one_port && i < n; ++i) one_port = Meta(pkts[i]).out_port == port;
  }
  if (!one_port) {
    for (uint16_t i = 0; i < n; ++i) Enqueue(ctx, w, pkts[i]);
    return;
  }
  Send(ctx, w, port, pkts, n);
}

void PortTx::EnqueueBurst(StageContext& ctx, WorkerState& w, Burst& b) noexcept {
  EnqueueMany(ctx, w, b.pkts, b.n);
  b.n = 0;
}

void PortTx::Flush(StageContext& ctx, WorkerState& w) noexcept {
  for (uint16_t i = 0; i < w.dirty_n; ++i) {
    const uint16_t port = w.dirty[i];
    if (w.tx[port].n != 0) FlushPort(ctx, w, port);
  }
  w.dirty_n = 0;
}

}  // namespace nodeplane::dp
