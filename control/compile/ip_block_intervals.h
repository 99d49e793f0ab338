// The address ranges ipBlocks cut the IPv4 space into: the boundaries of every CIDR and except,
// so that each elementary interval lies wholly inside or outside every prefix. Shared by the two
// ways control/compile/policy_compile.h compiles (from scratch, and incrementally).
#pragma once
#include <cstdint>
#include <set>

#include "control/model/network_policy.h"

namespace nodeplane::ctl::policy {

// Adds the first address of `b`'s prefixes and the one after each (host order) to `starts`.
inline void AddIntervalStarts(const IpBlockModel& b, std::set<uint64_t>& starts) {
  auto add = [&](const Ip4Prefix& p) {
    const uint64_t first = p.addr.host();
    const uint64_t size = uint64_t{1} << (32 - p.len);
    starts.insert(first);
    if (first + size <= 0xffffffffull) starts.insert(first + size);
  };
  add(b.cidr);
  for (const Ip4Prefix& e : b.except) add(e);
}

}  // namespace nodeplane::ctl::policy
