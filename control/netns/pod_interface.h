// Wiring a pod's network interface (and the node's exception port) with raw rtnetlink.
//
// nodeplaned creates a DPDK port per pod; its kernel side (a net_tap's tap, or the peer of a veth
// pair whose other end a net_af_packet port serves: veth.h) appears in nodeplaned's own namespace
// under a temporary name and is moved into the pod here. Everything is done through
// netlink sockets; a pod namespace is reached through a socket opened on a throwaway thread, so the
// calling (gRPC/control) thread never changes namespace. Requires CAP_NET_ADMIN and CAP_SYS_ADMIN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct PodInterfaceConfig {
  std::string host_ifname;      // interface in the caller's current netns to move (tap, veth peer)
  std::string netns_path;       // target namespace: /run/netns/NAME or /proc/PID/ns/net
  std::string ifname = "eth0";  // name inside the pod
  uint32_t mtu = 1500;
  std::vector<nodeplane::Ip4> addrs;  // each assigned as /32 (routed model, like Calico)
  nodeplane::Ip4
      gateway;  // link-local gateway, e.g. 169.254.1.1, answered by the dataplane via proxy ARP
};

// Moves `host_ifname` into the namespace renamed to `ifname` (one request: a name clash leaves it
// where it was), sets the MTU, adds the /32 addresses, brings up lo and the interface, and adds
// `gateway/32 dev ifname scope link` and `default via gateway dev ifname`.
// Errors: InvalidArgument for a bad config (nothing touched); NotFound if the netns or the host
// link is missing; AlreadyExists if `ifname` is taken in the pod. If a step after the move fails,
// the link is moved back to the caller's namespace under its old name and MTU (moving drops its
// addresses and routes), or deleted if that fails too; the message says what failed and the undo.
absl::Status ConfigurePodInterface(const PodInterfaceConfig& cfg);

// OK if `netns_path` is a network namespace; NotFound if it does not exist or is something else.
absl::Status CheckNetns(const std::string& netns_path);

// Deletes `ifname` inside the namespace. OK if the link is already gone, and also if the namespace
// path no longer exists (a deleted namespace took its links with it; CNI DEL must be idempotent).
// NotFound if the path exists but is not a network namespace.
absl::Status DeleteLinkInNetns(const std::string& netns_path, const std::string& ifname);

// Whether the link exists in that namespace. NotFound if the namespace does not.
absl::StatusOr<bool> LinkExistsInNetns(const std::string& netns_path, const std::string& ifname);

// For the node's own exception port (a tap in nodeplaned's own netns that the host kernel uses):
// sets the MTU and exactly these IPv4 addresses (others on the link are removed; prefix routes come
// with them) and brings it up. Addresses keep their host bits: {10.0.0.1, 24}.
// Removing addresses can make the kernel drop routes through the link: call ReplaceRoute after.
absl::Status ConfigureHostInterface(const std::string& ifname,
                                    const std::vector<nodeplane::Ip4Prefix>& addrs, uint32_t mtu);

// Adds or replaces `prefix dev ifname scope link [mtu M]` in the caller's netns (main table), e.g.
// to reach pod CIDRs through the exception port; mtu 0: the link's. InvalidArgument if the prefix
// has host bits set.
absl::Status ReplaceRoute(const nodeplane::Ip4Prefix& prefix, const std::string& ifname,
                          uint32_t mtu = 0);

// Removes `prefix dev ifname` from the caller's netns (main table). OK if it is already gone.
absl::Status DeleteRoute(const nodeplane::Ip4Prefix& prefix, const std::string& ifname);

}  // namespace nodeplane::ctl
