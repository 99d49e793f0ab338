// Pod and host interface wiring: validation, the order of netlink steps, and undo on failure.
#include "control/netns/pod_interface.h"

#include <linux/if.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "control/netns/errors.h"
#include "control/netns/netlink_socket.h"
#include "control/netns/netns_thread.h"
#include "control/netns/rtnl_addr.h"
#include "control/netns/rtnl_link.h"
#include "control/netns/rtnl_route.h"

namespace nodeplane::ctl {
namespace {

constexpr uint32_t kMinIpv4Mtu = 68;  // RFC 791: every IPv4 link must carry 68 bytes

std::string NetnsWhat(const std::string& path) { return "netns " + Quoted(path); }

absl::Status ValidateMtu(uint32_t mtu) {
  if (mtu < kMinIpv4Mtu) {
    return absl::InvalidArgumentError("mtu " + std::to_string(mtu) +
                                      ": below the IPv4 minimum of " + std::to_string(kMinIpv4Mtu));
  }
  return absl::OkStatus();
}

absl::Status ValidateNetnsPath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("netns_path: empty");
  return absl::OkStatus();
}

// A host address: not 0/8 ("this network"), 127/8 (loopback), nor 224/3 (multicast, reserved,
// broadcast). The kernel would accept some of these and leave a pod that cannot talk.
bool IsUnicastHost(Ip4 ip) {
  const uint32_t first_octet = ip.host() >> 24;
  return first_octet != 0 && first_octet != 127 && first_octet < 224;
}

absl::Status ValidatePodConfig(const PodInterfaceConfig& cfg) {
  for (absl::Status s :
       {ValidateIfname(cfg.host_ifname, "host_ifname"), ValidateIfname(cfg.ifname, "ifname"),
        ValidateNetnsPath(cfg.netns_path), ValidateMtu(cfg.mtu)}) {
    if (!s.ok()) return s;
  }
  if (!IsUnicastHost(cfg.gateway)) {
    return absl::InvalidArgumentError("gateway: " + cfg.gateway.ToString() +
                                      " is not a unicast host address");
  }
  if (cfg.addrs.empty()) return absl::InvalidArgumentError("addrs: at least one address is needed");
  for (const Ip4& a : cfg.addrs) {
    if (!IsUnicastHost(a)) {
      return absl::InvalidArgumentError("addrs: " + a.ToString() +
                                        " is not a unicast host address");
    }
    if (a == cfg.gateway) {
      return absl::InvalidArgumentError("addrs: " + a.ToString() + " is also the gateway");
    }
  }
  return absl::OkStatus();
}

// Everything after the move, on a socket in the pod's namespace. Up before routes: the kernel
// refuses a route through a link that is down.
absl::Status ConfigureInPod(nl::Socket& pod, const LinkInfo& link, const PodInterfaceConfig& cfg) {
  if (link.mtu != cfg.mtu) {
    if (absl::Status s = SetLinkMtu(pod, link, cfg.mtu); !s.ok()) return s;
  }
  for (const Ip4& a : cfg.addrs) {
    if (absl::Status s = AddIpv4Addr(pod, link, Ip4Prefix{a, 32}); !s.ok()) return s;
  }
  auto lo = GetLink(pod, "lo");
  if (!lo.ok()) return lo.status();
  if (absl::Status s = SetLinkUp(pod, *lo, true); !s.ok()) return s;
  if (absl::Status s = SetLinkUp(pod, link, true); !s.ok()) return s;
  if (absl::Status s = ReplaceIpv4Route(pod, link, {Ip4Prefix{cfg.gateway, 32}, std::nullopt});
      !s.ok()) {
    return s;
  }
  return ReplaceIpv4Route(pod, link, {Ip4Prefix{Ip4{0}, 0}, cfg.gateway});
}

// Puts the link back as ConfigurePodInterface found it: in the caller's namespace, old name, old
// MTU, old up/down state (the move itself dropped the addresses and routes we added). If it cannot
// go back it is deleted, so no half-configured interface stays in the pod. Returns what happened.
std::string UndoMove(nl::Socket& host, nl::Socket& pod, const LinkInfo& in_pod, int home_netns_fd,
                     const LinkInfo& original) {
  (void)SetLinkUp(pod, in_pod, false);
  (void)SetLinkMtu(pod, in_pod, original.mtu);
  absl::Status back = MoveLink(pod, in_pod, home_netns_fd, original.name);
  if (back.ok()) {
    std::string done = "link moved back to the caller's netns as " + Quoted(original.name);
    if (original.flags & IFF_UP) {
      auto home = GetLink(host, original.name);
      absl::Status up = home.ok() ? SetLinkUp(host, *home, true) : home.status();
      if (!up.ok()) done += " (left down: " + std::string(up.message()) + ")";
    }
    return done;
  }
  absl::Status del = DeleteLink(pod, in_pod);
  if (del.ok()) {
    return "could not move the link back (" + std::string(back.message()) + "), deleted it";
  }
  return "could not move the link back (" + std::string(back.message()) + ") nor delete it (" +
         std::string(del.message()) + "): " + Quoted(in_pod.name) + " is left in the pod netns";
}

}  // namespace

absl::Status ConfigurePodInterface(const PodInterfaceConfig& cfg) {
  if (absl::Status s = ValidatePodConfig(cfg); !s.ok()) return s;
  const std::string ns_what = NetnsWhat(cfg.netns_path);

  auto pod_ns = OpenNetns(cfg.netns_path);
  if (!pod_ns.ok()) return pod_ns.status();
  auto home_ns = OpenThreadNetns();
  if (!home_ns.ok()) return WithPrefix(home_ns.status(), "caller's own netns");
  auto host = nl::Socket::Open();
  if (!host.ok()) return host.status();
  auto original = GetLink(*host, cfg.host_ifname);
  if (!original.ok()) return WithPrefix(original.status(), "caller's netns");
  auto pod = nl::Socket::OpenInNetns(pod_ns->get());
  if (!pod.ok()) return WithPrefix(pod.status(), ns_what);

  // The move would fail on a clash too (EEXIST), but this says which name clashed.
  auto clash = FindLink(*pod, cfg.ifname);
  if (!clash.ok()) return WithPrefix(clash.status(), ns_what);
  if (clash->has_value()) {
    return absl::AlreadyExistsError(ns_what + ": link " + Quoted(cfg.ifname) + " already exists");
  }
  if (absl::Status s = MoveLink(*host, *original, pod_ns->get(), cfg.ifname); !s.ok()) {
    return WithPrefix(s, ns_what);
  }

  // From here on the link is in the pod: every failure is undone.
  auto in_pod = GetLink(*pod, cfg.ifname);
  if (!in_pod.ok()) {  // someone renamed or deleted it in between; nothing we can address to undo
    return WithPrefix(in_pod.status(),
                      ns_what + ": after moving " + Quoted(cfg.host_ifname) + " in");
  }
  absl::Status s = ConfigureInPod(*pod, *in_pod, cfg);
  if (s.ok()) return s;
  const std::string undo = UndoMove(*host, *pod, *in_pod, home_ns->get(), *original);
  return absl::Status(s.code(), ns_what + ": " + std::string(s.message()) + "; undo: " + undo);
}

absl::Status CheckNetns(const std::string& netns_path) {
  if (absl::Status s = ValidateNetnsPath(netns_path); !s.ok()) return s;
  return OpenNetns(netns_path).status();
}

absl::Status DeleteLinkInNetns(const std::string& netns_path, const std::string& ifname) {
  if (absl::Status s = ValidateNetnsPath(netns_path); !s.ok()) return s;
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  struct stat st;
  if (::stat(netns_path.c_str(), &st) != 0 && errno == ENOENT) return absl::OkStatus();

  const std::string ns_what = NetnsWhat(netns_path);
  auto ns = OpenNetns(netns_path);
  if (!ns.ok()) return ns.status();
  auto sock = nl::Socket::OpenInNetns(ns->get());
  if (!sock.ok()) return WithPrefix(sock.status(), ns_what);
  auto link = FindLink(*sock, ifname);
  if (!link.ok()) return WithPrefix(link.status(), ns_what);
  if (!link->has_value()) return absl::OkStatus();
  absl::Status s = DeleteLink(*sock, **link);
  if (absl::IsNotFound(s)) return absl::OkStatus();  // gone since we looked
  return WithPrefix(s, ns_what);
}

absl::StatusOr<bool> LinkExistsInNetns(const std::string& netns_path, const std::string& ifname) {
  if (absl::Status s = ValidateNetnsPath(netns_path); !s.ok()) return s;
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  auto ns = OpenNetns(netns_path);
  if (!ns.ok()) return ns.status();
  auto sock = nl::Socket::OpenInNetns(ns->get());
  if (!sock.ok()) return WithPrefix(sock.status(), NetnsWhat(netns_path));
  auto link = FindLink(*sock, ifname);
  if (!link.ok()) return WithPrefix(link.status(), NetnsWhat(netns_path));
  return link->has_value();
}

absl::Status ConfigureHostInterface(const std::string& ifname, const std::vector<Ip4Prefix>& addrs,
                                    uint32_t mtu) {
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  if (absl::Status s = ValidateMtu(mtu); !s.ok()) return s;
  for (const Ip4Prefix& a : addrs) {
    if (a.len > 32) {
      return absl::InvalidArgumentError("addrs: " + a.ToString() + ": prefix length over 32");
    }
    if (!IsUnicastHost(a.addr)) {
      return absl::InvalidArgumentError("addrs: " + a.ToString() +
                                        " is not a unicast host address");
    }
  }

  auto sock = nl::Socket::Open();
  if (!sock.ok()) return sock.status();
  auto link = GetLink(*sock, ifname);
  if (!link.ok()) return link.status();
  if (link->mtu != mtu) {
    if (absl::Status s = SetLinkMtu(*sock, *link, mtu); !s.ok()) return s;
  }
  // Add before removing, so the link never has no address (the kernel then drops its routes).
  auto add_all = [&]() -> absl::Status {
    for (const Ip4Prefix& a : addrs) {
      if (absl::Status s = AddIpv4Addr(*sock, *link, a); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  if (absl::Status s = add_all(); !s.ok()) return s;
  auto existing = ListIpv4Addrs(*sock, *link);
  if (!existing.ok()) return existing.status();
  bool removed = false;
  for (const Ip4Prefix& e : *existing) {
    if (std::find(addrs.begin(), addrs.end(), e) != addrs.end()) continue;
    absl::Status s = DeleteIpv4Addr(*sock, *link, e);
    if (!s.ok() && !absl::IsNotFound(s)) return s;  // NotFound: went with a deleted primary
    removed = true;
  }
  // Deleting a primary address deletes the secondaries of its subnet (unless
  // promote_secondaries is set), which may include wanted ones: add them again.
  if (removed) {
    if (absl::Status s = add_all(); !s.ok()) return s;
  }
  return SetLinkUp(*sock, *link, true);
}

absl::Status ReplaceRoute(const Ip4Prefix& prefix, const std::string& ifname, uint32_t mtu) {
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  if (prefix.len > 32) {
    return absl::InvalidArgumentError("prefix " + prefix.ToString() + ": length over 32");
  }
  const uint32_t host_bits = prefix.len == 32 ? 0 : ~uint32_t{0} >> prefix.len;
  if ((prefix.addr.host() & host_bits) != 0) {
    return absl::InvalidArgumentError("prefix " + prefix.ToString() + ": host bits set");
  }
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return sock.status();
  auto link = GetLink(*sock, ifname);
  if (!link.ok()) return link.status();
  return ReplaceIpv4Route(*sock, *link, {prefix, std::nullopt, mtu});
}

absl::Status DeleteRoute(const Ip4Prefix& prefix, const std::string& ifname) {
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  if (prefix.len > 32) {
    return absl::InvalidArgumentError("prefix " + prefix.ToString() + ": length over 32");
  }
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return sock.status();
  auto link = GetLink(*sock, ifname);
  if (!link.ok()) return absl::IsNotFound(link.status()) ? absl::OkStatus() : link.status();
  absl::Status s = DeleteIpv4Route(*sock, *link, {prefix, std::nullopt, 0});
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace nodeplane::ctl
