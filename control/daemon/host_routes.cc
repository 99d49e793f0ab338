#include "control/daemon/host_routes.h"

#include <cstdio>

#include "control/netns/pod_interface.h"

namespace nodeplane::ctl {

HostPodRoutes HostPodRoutes::ThroughInterface(const std::string& ifname, uint32_t mtu) {
  return HostPodRoutes(Ops{
      .replace = [ifname, mtu](const Ip4Prefix& p) { return ReplaceRoute(p, ifname, mtu); },
      .remove = [ifname](const Ip4Prefix& p) { return DeleteRoute(p, ifname); },
  });
}

std::set<Ip4Prefix> HostPodRoutes::Wanted(const DesiredState& state) {
  std::set<Ip4Prefix> out;
  for (const auto& [name, node] : state.remote_nodes) {
    out.insert(node.pod_cidrs.begin(), node.pod_cidrs.end());
  }
  return out;
}

absl::Status HostPodRoutes::Prepare(const std::set<Ip4Prefix>& wanted, bool resync) {
  added_.clear();
  for (const Ip4Prefix& p : wanted) {
    const bool had = installed_.contains(p);
    if (had && !resync) continue;
    if (absl::Status s = ops_.replace(p); !s.ok()) {
      Abort();
      return absl::InternalError("host route " + p.ToString() + ": " + std::string(s.message()));
    }
    if (!had) {
      added_.insert(p);
      installed_.insert(p);
    }
  }
  return absl::OkStatus();
}

void HostPodRoutes::Settle(const std::set<Ip4Prefix>& wanted) {
  added_.clear();
  for (auto it = installed_.begin(); it != installed_.end();) {
    if (wanted.contains(*it)) {
      ++it;
      continue;
    }
    if (absl::Status s = ops_.remove(*it); !s.ok()) {
      std::fprintf(stderr, "nodeplaned: host route %s: %s (retried on the next change)\n",
                   it->ToString().c_str(), std::string(s.message()).c_str());
      ++it;
      continue;
    }
    it = installed_.erase(it);
  }
}

void HostPodRoutes::Abort() {
  for (const Ip4Prefix& p : added_) {
    if (absl::Status s = ops_.remove(p); !s.ok()) {
      std::fprintf(stderr, "nodeplaned: host route %s: %s\n", p.ToString().c_str(),
                   std::string(s.message()).c_str());
      continue;  // still there: keep it known, the next Settle removes it
    }
    installed_.erase(p);
  }
  added_.clear();
}

}  // namespace nodeplane::ctl
