#include "control/model/desired_state.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"

namespace nodeplane::ctl {
namespace {

bool InsideAny(const std::vector<Ip4Prefix>& prefixes, Ip4 ip) {
  for (const Ip4Prefix& p : prefixes) {
    if (p.Contains(ip)) return true;
  }
  return false;
}

}  // namespace

absl::Status DesiredState::Check() const {
  std::unordered_map<uint32_t, const PodKey*> owner;
  if (node) {
    for (const Ip4Prefix& a : node->addresses) owner.emplace(a.addr.be, nullptr);
  }
  for (const auto& [key, pod] : pods) {
    const std::string where = key.ToString();
    if (node && !pod.node_name.empty() && pod.node_name != node->name) {
      return absl::InvalidArgumentError(
          absl::StrCat("pod ", where, ": node_name: unknown node \"", pod.node_name, "\""));
    }
    for (const Ip4& ip : pod.ips) {
      auto [it, inserted] = owner.emplace(ip.be, &key);
      if (!inserted) {
        const std::string other =
            it->second == nullptr ? "this node's own address" : it->second->ToString();
        return absl::AlreadyExistsError(absl::StrCat("pod ", where, ": ips: ", ip.ToString(),
                                                     " is already used by ", other));
      }
    }
  }
  for (const auto& [key, att] : attachments) {
    auto pod = pods.find(key);
    if (pod == pods.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("pod ", key.ToString(), " is attached; detach it before removing it"));
    }
    if (!node) return absl::FailedPreconditionError("node: set the node before attaching pods");
    for (const Ip4& ip : pod->second.ips) {
      if (!InsideAny(node->pod_cidrs, ip)) {
        return absl::InvalidArgumentError(absl::StrCat("pod ", key.ToString(), ": ips: ",
                                                       ip.ToString(),
                                                       " is outside the node's pod CIDRs"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace nodeplane::ctl
