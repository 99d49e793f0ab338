// WorkerState: everything one worker owns — its counters, per-port transmit buffers and the burst's
// drop list. One cache-aligned object per worker; nothing here is shared except counters (read by
// control, see worker_counters.h).
#pragma once
#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/core/pending_resolution.h"
#include "dataplane/core/stage.h"
#include "dataplane/core/worker_counters.h"

namespace nodeplane::dp {

struct TxBuffer {
  uint16_t n = 0;
  rte_mbuf* pkts[kBurstMax];
};

struct alignas(64) WorkerState {
  WorkerCounters counters;                  // dp: wo, ctl: ro
  uint16_t index = 0;                       // which worker (RCU thread id, tx queue)
  uint16_t dirty_n = 0;                     // ports with buffered packets, in first-use order
  uint16_t dirty[kBurstMax];  // at most one entry per packet of a burst
  TxBuffer tx[RTE_MAX_ETHPORTS];
  uint16_t drop_n = 0;
  rte_mbuf* drop[kBurstMax];
  PendingResolution pending;                // packets waiting for an underlay next hop's MAC
  uint64_t now_tsc = 0;                     // this poll iteration's TSC
};

}  // namespace nodeplane::dp
