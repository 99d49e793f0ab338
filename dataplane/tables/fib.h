// Fib: remote pod CIDRs → the remote node that owns them (IPv4 longest-prefix match on rte_lpm's
// DIR-24-8: one tbl24 read per lookup, a second read only for prefixes longer than /24).
//
// Who writes it: the control thread (control/daemon/applier.cc), route by route, in place.
// Who reads it: workers, through Snapshot::fib — ip4_lookup (which node a pod's packet goes to)
// and vxlan_decap (which node may send a given inner source) — with one bulk lookup per burst.
// Lifetime: one per process, created at start-up, destroyed after the last Snapshot that refers
// to it. It is not part of a snapshot because its tbl24 alone is 64 MiB: rebuilding it (and holding
// two) per generation would cost far more than the few routes a change touches.
//
// Publication, per route: rte_lpm updates each table entry with a single atomic store, so a
// concurrent lookup sees a route either as it was or as it is; adding, replacing or deleting one
// prefix rewrites only the entries that prefix covers, so the other nodes' routes are never
// disturbed. A tbl8 group (prefixes longer than /24) emptied by a delete is handed back only after
// an RCU grace period on the process's rte_rcu_qsbr (rte_lpm_rcu_qsbr_add, SYNC mode: the delete
// itself waits, on the control thread), so no worker can be reading a group that is reused.
//
// Why rte_lpm and not rte_fib: in DPDK 22.11 only rte_lpm reclaims tbl8 groups through RCU;
// rte_fib's DIR-24-8 frees them while readers may still hold them.
//
// Ordering with snapshots (the caller's contract): a route to slot s is added only after a snapshot
// holding remote node s has been published; every route to s is deleted, and a grace period has
// passed, before a snapshot without s is published. So every slot a lookup returns is in the
// snapshot the worker holds. And every change is followed by a snapshot publication: established
// connections remember their route per snapshot (dataplane/core/ct_route.h), so a route change
// reaches them with the next snapshot.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nodeplane/addr.h"

struct rte_lpm;
struct rte_rcu_qsbr;

namespace nodeplane::dp {

class Fib {
 public:
  static constexpr uint32_t kMiss = 0;                           // == kNoRemote: slots start at 1
  static constexpr uint32_t kMaxSlot = (uint32_t{1} << 24) - 1;  // rte_lpm next hops are 24 bits

  struct Limits {
    uint32_t max_routes = 65536;  // pod CIDRs of all remote nodes together
    uint32_t tbl8_groups = 1024;  // distinct /24s holding prefixes longer than /24 (1 KiB each)
  };

  Fib() = default;
  ~Fib();
  Fib(const Fib&) = delete;
  Fib& operator=(const Fib&) = delete;

  // Control thread, at start-up. `qsbr` is the process's RCU variable (Rcu::qsbr()); nullptr only
  // where no worker reads concurrently (tests).
  bool Init(const Limits& limits, rte_rcu_qsbr* qsbr, std::string* error);

  // Control thread. Would these routes, all installed at once, fit the table?
  bool Fits(const std::vector<Ip4Prefix>& routes, std::string* why) const;
  // Control thread. Adds the route, or re-points an existing one (one atomic store per entry).
  bool Add(const Ip4Prefix& prefix, uint32_t slot, std::string* error);
  // Control thread. Removes the route; may wait for an RCU grace period (tbl8 reclamation).
  bool Delete(const Ip4Prefix& prefix, std::string* error);

  // Worker. n <= 64 destinations (network order) → slot[i], kMiss where no route covers it.
  void LookupBulk(const uint32_t* dst_be, uint16_t n, uint32_t* slot) const noexcept;
  uint32_t Lookup(uint32_t dst_be) const noexcept;

  const Limits& limits() const { return limits_; }
  bool ready() const { return lpm_ != nullptr; }

 private:
  rte_lpm* lpm_ = nullptr;  // dp: ro (lookups), ctl: rw (per route, see above)
  Limits limits_;
};

}  // namespace nodeplane::dp
