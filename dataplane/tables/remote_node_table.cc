#include "dataplane/tables/remote_node_table.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include <cstring>

#include "dataplane/tables/fib.h"

namespace nodeplane::dp {

void BuildVxlanTemplate(const OverlaySpec& overlay, const Mac& uplink_mac,
                        const RemoteNodeSpec& node, uint8_t out[kVxlanEncapLen]) {
  std::memset(out, 0, kVxlanEncapLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
  if (node.next_hop_mac) {
    std::memcpy(eth->dst_addr.addr_bytes, node.next_hop_mac->bytes.data(), RTE_ETHER_ADDR_LEN);
  }
  std::memcpy(eth->src_addr.addr_bytes, uplink_mac.bytes.data(), RTE_ETHER_ADDR_LEN);
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(out + kVxlanOuterIp4Offset);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = 0;  // patched per packet
  ip->packet_id = 0;
  ip->fragment_offset = 0;  // DF clear: the underlay may fragment, as Linux VXLAN does by default
  ip->time_to_live = kVxlanOuterTtl;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = overlay.vtep_ip.be;
  ip->dst_addr = node.underlay_ip.be;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);  // for total_length 0; the worker adds the real length

  auto* udp = reinterpret_cast<rte_udp_hdr*>(out + kVxlanOuterUdpOffset);
  udp->src_port = 0;  // patched per packet: the inner flow's hash
  udp->dst_port = rte_cpu_to_be_16(node.udp_port);
  udp->dgram_len = 0;  // patched per packet
  udp->dgram_cksum = 0;

  auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);
  vx->vx_flags = RTE_BE32(0x08000000);  // I: the VNI is valid; every other bit reserved, 0
  vx->vx_vni = rte_cpu_to_be_32(node.vni << 8);
}

bool RemoteNodeTable::Build(const OverlaySpec& overlay, const Mac& uplink_mac,
                            const std::vector<RemoteNodeSpec>& nodes, std::string* error) {
  uint32_t max_slot = 0;
  for (const RemoteNodeSpec& n : nodes) {
    if (n.slot == 0 || n.slot > Fib::kMaxSlot) {
      *error = "remote node " + n.underlay_ip.ToString() +
               ": slot out of range: " + std::to_string(n.slot);
      return false;
    }
    if (n.vni == 0 || n.vni > 0xffffff) {
      *error = "remote node " + n.underlay_ip.ToString() + ": VNI out of range";
      return false;
    }
    max_slot = std::max(max_slot, n.slot);
  }
  entries_.assign(nodes.empty() ? 0 : max_slot + 1, RemoteNodeEntry{});
  for (const RemoteNodeSpec& n : nodes) {
    RemoteNodeEntry& e = entries_[n.slot];
    if (e.in_use) {
      *error = "remote node slot used twice: " + std::to_string(n.slot);
      return false;
    }
    BuildVxlanTemplate(overlay, uplink_mac, n, e.outer);
    e.in_use = true;
    e.resolved = n.next_hop_mac.has_value();
    e.vtep_mac = n.vtep_mac.bytes;
    e.inner_src_mac = overlay.vtep_mac.bytes;
  }
  count_ = nodes.size();
  return true;
}

}  // namespace nodeplane::dp
