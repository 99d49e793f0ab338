#include "control/daemon/pod_link_names.h"

#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "control/netns/veth.h"

namespace nodeplane::ctl {
namespace {

constexpr size_t kNameLen = 14;

bool IsLiveNodeplaned(uint32_t pid) {
  if (pid == static_cast<uint32_t>(getpid())) return true;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return comm && std::getline(comm, name) && name == "nodeplaned";
}

}  // namespace

std::string PodLinkName(uint32_t pid, uint32_t seq) {
  char name[16];
  std::snprintf(name, sizeof(name), "np%06x%06x", pid & 0xffffff, seq & 0xffffff);
  return name;
}

std::optional<uint32_t> PodLinkOwner(const std::string& name) {
  if (name.size() != kNameLen || name.rfind("np", 0) != 0) return std::nullopt;
  if (name.find_first_not_of("0123456789abcdef", 2) != std::string::npos) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(name.substr(2, 6), nullptr, 16));
}

int RemoveStalePodLinks() {
  std::vector<std::string> stale;
  if (struct if_nameindex* links = if_nameindex()) {
    for (struct if_nameindex* l = links; l->if_index != 0; ++l) {
      const auto owner = PodLinkOwner(l->if_name);
      if (owner && !IsLiveNodeplaned(*owner)) stale.emplace_back(l->if_name);
    }
    if_freenameindex(links);
  }
  int removed = 0;
  for (const std::string& name : stale) {
    if (DeleteLocalLink(name).ok()) ++removed;
  }
  return removed;
}

}  // namespace nodeplane::ctl
