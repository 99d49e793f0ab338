// NeighborCache: what this node knows of its underlay neighbours — IPv4 address → MAC, with when
// each entry was learned. Control side only: the workers never read it; the snapshot compiler
// does (CompileSnapshot's NeighborMap), so a change here reaches the dataplane as a new generation
// (Applier::LearnNeighbor republishes when a remote node's next hop changes).
//
// Entries are static (from --neighbor; never aged) or learned. Learning is the seam for the
// underlay ARP resolver: it calls Applier::LearnNeighbor(ip, mac) for every reply (or gratuitous
// ARP) it accepts, Applier::ForgetNeighbor when an entry ages out (LearnedBefore lists
// them), and reads Applier::UnresolvedNextHops to know whom to ask. Bounded: at most `capacity`
// learned entries; learning past it is refused (a static entry is always accepted).
// Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "control/compile/snapshot_compiler.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

class NeighborCache {
 public:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    Mac mac;
    Clock::time_point learned;  // last confirmed (for a static entry: when it was set)
    bool is_static = false;
  };

  enum class Change : uint8_t { kNone, kNew, kMacChanged, kRefreshed, kRefused };

  explicit NeighborCache(size_t capacity = 4096) : capacity_(capacity) {}

  // Configured entry; replaces a learned one and is never aged or overridden by learning.
  void AddStatic(Ip4 ip, Mac mac, Clock::time_point now = Clock::now());
  // Learned from the wire. kNew / kMacChanged mean the dataplane must be recompiled.
  Change Learn(Ip4 ip, Mac mac, Clock::time_point now);
  // Removes a learned entry (ageing, or an address that stopped answering). Static entries stay.
  bool Forget(Ip4 ip);
  // Learned entries last confirmed before `cutoff`: the ones to re-ask or Forget.
  std::vector<Ip4> LearnedBefore(Clock::time_point cutoff) const;

  std::optional<Entry> Lookup(Ip4 ip) const;
  // What the compiler reads: every entry's MAC.
  NeighborMap Resolved() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  const size_t capacity_;
  std::map<Ip4, Entry> entries_;  // guarded by mu_
  size_t learned_ = 0;            // guarded by mu_: entries that are not static
};

}  // namespace nodeplane::ctl
