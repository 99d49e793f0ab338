#include "control/model/desired_state.h"

#include <algorithm>
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

// A pod CIDR's network address is no pod's: the first one's is the node's overlay address
// (control/compile/overlay_source.h, the SNAT source of Services from outside), and IPAM hands
// none of them out.
const Ip4Prefix* NetworkAddressOf(const std::vector<Ip4Prefix>& prefixes, Ip4 ip) {
  for (const Ip4Prefix& p : prefixes) {
    if (p.len <= 30 && p.addr == ip) return &p;
  }
  return nullptr;
}

struct Range {
  uint32_t first, last;  // host order, inclusive
  Ip4Prefix prefix;
  const std::string* owner;  // nullptr: this node
};

std::string Owner(const std::string* owner) {
  return owner == nullptr ? "this node" : "remote node " + *owner;
}

// Pod CIDRs are nested or disjoint: sorted by first address (wider first), a range overlaps an
// earlier one exactly when it starts inside the widest-reaching range seen so far.
absl::Status CheckPodCidrsDisjoint(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.first != b.first ? a.first < b.first : a.last > b.last;
  });
  const Range* reach = nullptr;
  for (const Range& r : ranges) {
    // Overlaps among this node's own CIDRs are its own business (and were always accepted).
    const bool both_ours = r.owner == nullptr && reach != nullptr && reach->owner == nullptr;
    if (reach != nullptr && r.first <= reach->last && !both_ours) {
      const Range& blamed = r.owner != nullptr ? r : *reach;
      const Range& other = r.owner != nullptr ? *reach : r;
      return absl::InvalidArgumentError(absl::StrCat(
          Owner(blamed.owner), ": pod_cidrs: ", blamed.prefix.ToString(), " overlaps ",
          blamed.owner == other.owner ? "its own" : Owner(other.owner) + "'s", " ",
          other.prefix.ToString()));
    }
    if (reach == nullptr || r.last > reach->last) reach = &r;
  }
  return absl::OkStatus();
}

Range ToRange(const Ip4Prefix& p, const std::string* owner) {
  const uint32_t host_bits = p.len == 0 ? ~uint32_t{0} : (p.len == 32 ? 0 : ~uint32_t{0} >> p.len);
  return Range{p.addr.host(), p.addr.host() | host_bits, p, owner};
}

absl::Status CheckRemoteNodes(const DesiredState& s) {
  std::map<uint32_t, const std::string*> underlay_owner;
  std::vector<Range> ranges;
  if (s.node) {
    for (const Ip4Prefix& c : s.node->pod_cidrs) ranges.push_back(ToRange(c, nullptr));
  }
  for (const auto& [name, remote] : s.remote_nodes) {
    const std::string where = "remote node " + name;
    if (s.node && name == s.node->name) {
      return absl::InvalidArgumentError(where + ": name: is this node's own name");
    }
    if (s.node) {
      bool ours = remote.underlay == s.node->vtep;
      for (const Ip4Prefix& a : s.node->addresses) ours = ours || a.addr == remote.underlay;
      if (ours) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": underlay_address: ",
                                                       remote.underlay.ToString(),
                                                       " is this node's own address"));
      }
    }
    auto [it, inserted] = underlay_owner.emplace(remote.underlay.be, &name);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": underlay_address: ", remote.underlay.ToString(),
                       " is already used by remote node ", *it->second));
    }
    for (const Ip4Prefix& c : remote.pod_cidrs) ranges.push_back(ToRange(c, &name));
  }
  return CheckPodCidrsDisjoint(std::move(ranges));
}

}  // namespace

absl::Status DesiredState::Check() const {
  std::unordered_map<uint32_t, const PodKey*> owner;
  if (node) {
    for (const Ip4Prefix& a : node->addresses) owner.emplace(a.addr.be, nullptr);
  }
  for (const auto& [key, pod] : pods) {
    const std::string where = key.ToString();
    if (node && !pod.node_name.empty() && pod.node_name != node->name &&
        !remote_nodes.contains(pod.node_name)) {
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
  if (absl::Status st = CheckRemoteNodes(*this); !st.ok()) return st;
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
      if (const Ip4Prefix* cidr = NetworkAddressOf(node->pod_cidrs, ip)) {
        return absl::InvalidArgumentError(
            absl::StrCat("pod ", key.ToString(), ": ips: ", ip.ToString(),
                         " is the network address of the pod CIDR ", cidr->ToString(),
                         " (reserved: the node's overlay address)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace nodeplane::ctl
