// NetworkPolicy ports, resolved: what a rule's ports mean on one destination. Shared by the two
// ways control/compile/policy_compile.h compiles (from scratch, and incrementally), so both give
// the same answer by construction.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "control/model/desired_state.h"
#include "dataplane/core/policy_spec.h"

namespace nodeplane::ctl::policy {

using PortLists = std::array<std::vector<dp::PolicyPortRange>, dp::kPolicyProtos>;
// A pod's container ports as (name, port, protocol), comparable so pods can share a class.
using PortsKey = std::vector<std::tuple<std::string, uint16_t, L4Protocol>>;

inline PortsKey PortsKeyOf(const std::vector<ContainerPort>& ports) {
  PortsKey k;
  for (const ContainerPort& p : ports) k.emplace_back(p.name, p.port, p.protocol);
  return k;
}

inline constexpr dp::PolicyPortRange kAllPorts{0, 65535};

inline dp::PolicyProto ProtoSlot(L4Protocol p) {
  switch (p) {
    case L4Protocol::kUdp:
      return dp::PolicyProto::kUdp;
    case L4Protocol::kSctp:
      return dp::PolicyProto::kSctp;
    case L4Protocol::kTcp:
      break;
  }
  return dp::PolicyProto::kTcp;
}

// Sorts and merges overlapping or adjacent ranges.
inline void Normalize(std::vector<dp::PolicyPortRange>& r) {
  std::sort(r.begin(), r.end(), [](const dp::PolicyPortRange& a, const dp::PolicyPortRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  });
  std::vector<dp::PolicyPortRange> out;
  for (const dp::PolicyPortRange& x : r) {
    if (!out.empty() && uint32_t{x.first} <= uint32_t{out.back().last} + 1) {
      out.back().last = std::max(out.back().last, x.last);
    } else {
      out.push_back(x);
    }
  }
  r = std::move(out);
}

// What a rule's ports mean on a destination with these container ports (nullptr: not a pod, so
// named ports match nothing). `part` may pick only the numeric or only the named entries.
enum class Part { kAll, kNumeric, kNamed };
inline void ResolvePorts(const std::vector<PolicyPort>& ports, const PortsKey* dest, Part part,
                         PortLists& out) {
  if (ports.empty()) {
    if (part == Part::kNamed) return;
    for (auto& list : out) list.push_back(kAllPorts);
    return;
  }
  for (const PolicyPort& p : ports) {
    auto& list = out[static_cast<int>(ProtoSlot(p.protocol))];
    if (!p.name.empty()) {
      if (part == Part::kNumeric || dest == nullptr) continue;
      for (const auto& [name, number, protocol] : *dest) {
        if (name == p.name && protocol == p.protocol) list.push_back({number, number});
      }
      continue;
    }
    if (part == Part::kNamed) continue;
    if (p.any_port) {
      list.push_back(kAllPorts);
    } else {
      list.push_back({p.port, p.end_port != 0 ? p.end_port : p.port});
    }
  }
}

inline bool HasNamedPort(const std::vector<PolicyPort>& ports) {
  for (const PolicyPort& p : ports) {
    if (!p.name.empty()) return true;
  }
  return false;
}

}  // namespace nodeplane::ctl::policy
