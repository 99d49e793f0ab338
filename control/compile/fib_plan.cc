#include "control/compile/fib_plan.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace nodeplane::ctl {
namespace {

std::set<uint32_t> SlotSet(const RemoteSlots& slots) {
  std::set<uint32_t> out;
  for (const auto& [name, slot] : slots) out.insert(slot);
  return out;
}

}  // namespace

absl::StatusOr<RemoteSlots> AssignSlots(const RemoteSlots& current,
                                        const std::map<std::string, RemoteNodeModel>& nodes,
                                        uint32_t max_slot) {
  const std::set<uint32_t> taken = SlotSet(current);
  RemoteSlots out;
  uint32_t candidate = 1;
  for (const auto& [name, node] : nodes) {
    if (const auto it = current.find(name); it != current.end()) {
      out[name] = it->second;
      continue;
    }
    while (taken.contains(candidate)) ++candidate;
    if (candidate > max_slot) {
      return absl::ResourceExhaustedError(
          absl::StrCat("remote_nodes: more than ", max_slot, " remote nodes"));
    }
    out[name] = candidate++;
  }
  return out;
}

FibRoutes WantedRoutes(const std::map<std::string, RemoteNodeModel>& nodes,
                       const RemoteSlots& slots) {
  FibRoutes out;
  for (const auto& [name, node] : nodes) {
    const auto slot = slots.find(name);
    if (slot == slots.end()) continue;
    for (const Ip4Prefix& cidr : node.pod_cidrs) out[cidr] = slot->second;
    if (node.underlay != Ip4{}) out[Ip4Prefix{node.underlay, 32}] = slot->second;
  }
  return out;
}

FibPlan PlanFibUpdate(const FibRoutes& installed, const FibRoutes& wanted,
                      const RemoteSlots& published, const RemoteSlots& next) {
  const std::set<uint32_t> before = SlotSet(published);
  const std::set<uint32_t> after = SlotSet(next);
  FibPlan plan;
  using Op = FibStep::Op;
  for (const auto& [prefix, old_slot] : installed) {
    const auto want = wanted.find(prefix);
    if (want == wanted.end()) {
      plan.before_publish.push_back({Op::kDelete, prefix, 0});
      continue;
    }
    const uint32_t new_slot = want->second;
    if (new_slot == old_slot) continue;
    if (before.contains(new_slot)) {
      plan.before_publish.push_back({Op::kSet, prefix, new_slot});  // held by both snapshots
    } else if (after.contains(old_slot)) {
      plan.after_publish.push_back({Op::kSet, prefix, new_slot});  // old target stays valid
    } else {
      plan.before_publish.push_back({Op::kDelete, prefix, 0});
      plan.after_publish.push_back({Op::kSet, prefix, new_slot});
    }
  }
  for (const auto& [prefix, slot] : wanted) {
    if (!installed.contains(prefix)) plan.after_publish.push_back({Op::kSet, prefix, slot});
  }
  for (uint32_t slot : before) {
    if (!after.contains(slot)) plan.grace_before_publish = true;
  }
  return plan;
}

}  // namespace nodeplane::ctl
