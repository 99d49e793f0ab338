// WorkerCounters: everything one worker counts. Single writer (its worker), plain fields, summed by
// control. Control reads them racily; a torn read of a uint64_t cannot happen on x86-64.
#pragma once
#include <rte_config.h>

#include <atomic>
#include <cstdint>

#include "dataplane/core/policy_verdicts.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"

namespace nodeplane::dp {

struct alignas(64) WorkerCounters {
  uint64_t rx_packets = 0;                 // dp: wo, ctl: ro
  uint64_t tx_packets = 0;                 // dp: wo, ctl: ro
  uint64_t drops[kDropReasonCount] = {};   // dp: wo, ctl: ro
  uint64_t events[kCounterCount] = {};     // dp: wo, ctl: ro
  uint64_t busy_polls = 0;                 // dp: wo, ctl: ro  iterations that received packets
  uint64_t idle_polls = 0;                 // dp: wo, ctl: ro
  uint64_t sleeps = 0;                     // dp: wo, ctl: ro  adaptive idle back-off sleeps
  uint64_t busy_cycles = 0;                // dp: wo, ctl: ro  TSC cycles spent on non-empty bursts
  PolicyDenyRing policy_denies;            // dp: wo, ctl: ro  the latest NetworkPolicy drops

  void Drop(DropReason r) { ++drops[static_cast<uint8_t>(r)]; }
  void Count(Counter c) { ++events[static_cast<uint8_t>(c)]; }
  void Count(Counter c, uint64_t n) { events[static_cast<uint8_t>(c)] += n; }
};

}  // namespace nodeplane::dp
