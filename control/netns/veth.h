// A veth pair for a pod port served by a packet socket (DPDK net_af_packet): the host end stays in
// nodeplaned's namespace and belongs to the dataplane alone, the peer becomes the pod's eth0
// (moved there by ConfigurePodInterface). Works on the calling thread's network namespace.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/netns/rtnl_link.h"

namespace nodeplane::ctl {

struct VethPair {
  LinkInfo host;  // up, silent (see CreateVethPair)
  LinkInfo peer;  // down; its MAC is the pod's MAC once it is moved into the pod
};

// Creates `host_ifname` and its peer `peer_ifname`, both with MTU `mtu`.
//
// The host end is made silent before it comes up, so the kernel neither sends on it nor takes in
// what arrives on it (the packet socket sees every frame before the kernel's protocols do):
// IPv6 disabled (net.ipv6.conf.IF.disable_ipv6: no link-local address, so no ND, RS or MLD),
// no ARP (IFF_NOARP), strict reverse-path filtering (net.ipv4.conf.IF.rp_filter = 1: a packet
// from a pod address arriving there, e.g. a broadcast, has no route back through it and is
// dropped), and no IPv4 address. Then it is brought up.
//
// On the peer, transmit checksum offload and every segmentation offload (TSO, tunnel and SCTP
// segmentation, GSO lists) are turned off, software GSO excepted: what the pod sends is then
// checksummed and segmented to its MTU by the kernel before it crosses to the host end, since a
// packet socket hands over frames as they are, partial checksums and 64 KB frames included. The
// settings stay with the link when it moves to another namespace. FailedPrecondition if one of
// them cannot be turned off.
//
// Errors: InvalidArgument for a bad name or MTU (nothing touched); AlreadyExists if a name is
// taken. On any failure after the pair exists it is deleted again.
absl::StatusOr<VethPair> CreateVethPair(const std::string& host_ifname,
                                        const std::string& peer_ifname, uint32_t mtu);

// Deletes `ifname` in the caller's namespace; OK if there is no such link. Deleting either end of
// a veth pair deletes both, wherever the other end is.
absl::Status DeleteLocalLink(const std::string& ifname);

}  // namespace nodeplane::ctl
