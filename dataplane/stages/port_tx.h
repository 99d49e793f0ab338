// Stage port_tx: buffers finished packets per output port and sends them with one
// rte_eth_tx_burst per port and burst, on this worker's own tx queue.
//   Input:   meta.out_port set by the deciding stage.
//   Drops:   PORT_UNAVAILABLE (port gone from the snapshot), TX_FULL (queue did not take it).
//   Never:   allocates, locks, logs, blocks.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"
#include "dataplane/core/worker_state.h"

namespace nodeplane::dp {

struct PortTx {
  static constexpr std::string_view kName = "port_tx";
  static void Enqueue(StageContext& ctx, WorkerState& w, rte_mbuf* m) noexcept;
  // The packets left at the end of the pipeline. A burst that goes whole to one port (a pod's
  // queue to one destination, the usual case) is sent as it is, without buffering.
  static void EnqueueBurst(StageContext& ctx, WorkerState& w, Burst& b) noexcept;
  // The same for the packets a stage finished (Edge::kTx) in one burst, in their order.
  // `one_port`: the port they all go out of when the caller knows it, else kTxPortsMixed.
  static void EnqueueMany(StageContext& ctx, WorkerState& w, rte_mbuf** pkts, uint16_t n,
                          uint16_t one_port = kTxPortsMixed) noexcept;
  static void Flush(StageContext& ctx, WorkerState& w) noexcept;
};

}  // namespace nodeplane::dp
