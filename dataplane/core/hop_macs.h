// The Ethernet addresses of a routed packet, written the same by every stage that routes one:
// ip4_forward, ct_fastpath (which repeats it for established connections) and host_exception.
#pragma once
#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {

inline void SetMacs(rte_ether_hdr* eth, const std::array<uint8_t, 6>& dst,
                    const std::array<uint8_t, 6>& src) noexcept {
  std::memcpy(eth->dst_addr.addr_bytes, dst.data(), RTE_ETHER_ADDR_LEN);
  std::memcpy(eth->src_addr.addr_bytes, src.data(), RTE_ETHER_ADDR_LEN);
}

// Out of `out` to what is behind it (a pod's eth0, the host's interface), from the port's MAC.
inline void MacsToPort(rte_ether_hdr* eth, const PortEntry& out) noexcept {
  SetMacs(eth, out.peer_mac, out.mac);
}

// The inner frame for a remote node: to the MAC its VTEP accepts, from ours (the node entry keeps
// both, as ct_fastpath copies them with the outer headers: vxlan::WriteOuterAndInnerMacs).
inline void MacsToVtep(rte_ether_hdr* eth, const RemoteNodeEntry& node) noexcept {
  SetMacs(eth, node.vtep_mac, node.inner_src_mac);
}

// A remote node itself on the underlay, unencapsulated: to its next hop's MAC from the uplink's,
// the Ethernet addresses its VXLAN template carries (tables/remote_node_table.h).
inline void MacsToNodeOnUnderlay(rte_ether_hdr* eth, const RemoteNodeEntry& node) noexcept {
  std::memcpy(eth, node.outer, 2 * RTE_ETHER_ADDR_LEN);
}

}  // namespace nodeplane::dp
