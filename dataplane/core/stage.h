// The stage contract. A stage takes a burst, and for every packet chooses one edge:
//   kNext  continue to the next stage;
//   kDrop  leave the pipeline; meta.drop names why (counted and freed in bulk by the pipeline);
//   kTx    finished: send on meta.out_port now (ARP replies, ICMP errors);
//   kHold  the stage kept the packet in this worker's PendingResolution (vxlan_encap only).
// Stages never allocate, lock, log, throw or make syscalls; counters are this worker's own.
#pragma once
#include <rte_mbuf.h>

#include <concepts>
#include <cstdint>
#include <string_view>

#include "dataplane/core/worker_counters.h"

namespace nodeplane::dp {

inline constexpr uint16_t kBurstMax = 64;  // == Conntrack::kLookupBulkMax, so hit masks fit a uint64_t

struct Burst {
  rte_mbuf* pkts[kBurstMax];
  uint16_t n = 0;
};

enum class Edge : uint8_t { kNext = 0, kDrop, kTx, kHold };

inline constexpr uint16_t kTxPortsMixed = 0xffff;  // == kNoPort (packet_meta.h)

struct Verdicts {
  Edge edge[kBurstMax];
  // A stage that knows every packet it gave kTx goes out of one port may name it here, so that
  // port_tx need not check (ct_fastpath); kTxPortsMixed otherwise.
  uint16_t tx_port = kTxPortsMixed;
};

// Every packet of the burst continues: for stages with nothing to do on this burst.
inline void PassAll(Verdicts& v, uint16_t n) noexcept {
  static_assert(static_cast<uint8_t>(Edge::kNext) == 0);
  __builtin_memset(v.edge, 0, n);
}

struct Snapshot;
class PendingResolution;

// What a burst may hold, so that stages acting on few packets skip the others' bursts whole:
// eth_parse sets it exactly for the burst it parsed; a stage that marks packets adds the mark.
// A superset is always safe (the default: tests and released packets are not summarised).
enum BurstHas : uint8_t {
  kHasArp = 1,     // cls kArp (arp_respond)
  kHasPunt = 2,    // meta.punt (host_exception)
  kHasRemote = 4,  // meta.remote set (vxlan_encap)
  kHasUplink = 8,  // received on the uplink (vxlan_decap)
  kHasAll = kHasArp | kHasPunt | kHasRemote | kHasUplink,
};

// What a stage may touch: the published tables (read-only, valid until this worker's next
// quiescent report) and this worker's counters.
struct StageContext {
  const Snapshot& snap;
  WorkerCounters& counters;
  uint16_t worker;
  PendingResolution* pending = nullptr;  // this worker's; nullptr: nothing is held (tests, benches)
  uint64_t now_tsc = 0;                  // TSC read once per poll iteration
  uint8_t burst_has = kHasAll;           // BurstHas bits
};

template <typename S>
concept Stage = requires(StageContext& ctx, Burst& b, Verdicts& v) {
  { S::kName } -> std::convertible_to<std::string_view>;
  { S::Process(ctx, b, v) } noexcept;
};

}  // namespace nodeplane::dp
