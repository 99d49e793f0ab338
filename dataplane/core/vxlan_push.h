// VXLAN encapsulation of one packet (RFC 7348 §5): the remote node's precomputed outer headers
// prepended to the inner frame, with the three per-packet fields patched. Shared by vxlan_encap
// (every packet routed to a remote node) and ct_fastpath (established packets whose route is
// cached), so that both send exactly the same bytes. dataplane/stages/vxlan_encap.h has the rules.
#pragma once
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/unaligned.h"
#include "dataplane/tables/remote_node_table.h"

namespace nodeplane::dp::vxlan {

inline constexpr uint16_t kSourcePortBase = 49152;   // RFC 7348 §5: the dynamic/private range
inline constexpr uint16_t kSourcePortMask = 0x3fff;  // 16384 ports
inline constexpr uint16_t kOuterIpUdpVxlan = kVxlanEncapLen - kVxlanOuterIp4Offset;  // 36

// The inner flow: addresses and protocol, plus the ports of an unfragmented TCP/UDP/SCTP packet.
inline uint32_t InnerFlowHash(const rte_mbuf* pkt, const rte_ipv4_hdr* ip,
                              uint16_t l3_offset) noexcept {
  uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->next_proto_id);
  h = rte_hash_crc_4byte(ip->dst_addr, h);
  const uint8_t proto = ip->next_proto_id;
  const uint16_t l4 = static_cast<uint16_t>(l3_offset + (ip->version_ihl & 0xf) * 4);
  if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
      (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) == 0 &&
      rte_pktmbuf_data_len(pkt) >= l4 + 4) {
    uint32_t ports;
    std::memcpy(&ports, rte_pktmbuf_mtod_offset(pkt, const uint8_t*, l4), sizeof(ports));
    h = rte_hash_crc_4byte(ports, h);
  }
  return h;
}

// A tracked packet's connection (its conntrack record, fixed for the connection's life and shared
// by both directions) stands for its inner flow: a multiply of the record's address instead of
// hashing the headers again.
inline uint32_t ConnectionHash(const void* ct) noexcept {
  const auto record = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ct) >> 6);
  return (record * 0x9e3779b1u) >> 16;
}

// The hash the outer source port comes from: it spreads the underlay's ECMP and the receiver's RSS
// by inner flow.
inline uint32_t TrackedOuterHash(const rte_mbuf* pkt, const void* ct) noexcept {
  return (pkt->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0 ? pkt->hash.rss : ConnectionHash(ct);
}
inline uint32_t OuterHash(const rte_mbuf* pkt, const PacketMeta& m,
                          const rte_ipv4_hdr* inner_ip) noexcept {
  if (m.ct != nullptr) return TrackedOuterHash(pkt, m.ct);
  return (pkt->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0 ? pkt->hash.rss
                                                        : InnerFlowHash(pkt, inner_ip, m.l3_offset);
}

// The per-packet fields of the outer headers copied to `outer` from the node's template, for an
// inner frame of `inner_len` bytes (Ethernet + IPv4, nothing after it).
inline void PatchOuter(uint8_t* outer, const RemoteNodeEntry& node, uint32_t inner_len,
                       uint32_t hash) noexcept {
  const auto total = static_cast<uint16_t>(inner_len + kOuterIpUdpVxlan);
  const uint16_t total_be = __builtin_bswap16(total);
  uint8_t* ip = outer + kVxlanOuterIp4Offset;
  Store16(ip + offsetof(rte_ipv4_hdr, total_length), total_be);
  // RFC 1624 eqn. 3 with m = 0 (the template's length): HC' = ~(~HC + m'). The template's
  // checksum is read from the node, not from the bytes just copied (a load spanning two of the
  // copy's stores cannot be forwarded and stalls).
  const uint16_t template_csum =
      Load16(node.outer + kVxlanOuterIp4Offset + offsetof(rte_ipv4_hdr, hdr_checksum));
  uint32_t sum = static_cast<uint16_t>(~template_csum) + uint32_t{total_be};
  sum = (sum & 0xffff) + (sum >> 16);
  Store16(ip + offsetof(rte_ipv4_hdr, hdr_checksum), static_cast<uint16_t>(~sum));
  uint8_t* udp = outer + kVxlanOuterUdpOffset;
  Store16(udp + offsetof(rte_udp_hdr, dgram_len),
          __builtin_bswap16(static_cast<uint16_t>(total - sizeof(rte_ipv4_hdr))));
  Store16(udp + offsetof(rte_udp_hdr, src_port),
          __builtin_bswap16(static_cast<uint16_t>(kSourcePortBase | (hash & kSourcePortMask))));
}

// Writes the outer headers at `outer`, kVxlanEncapLen bytes before an inner frame of `inner_len`
// bytes: the node's template and its per-packet fields.
inline void WriteOuter(uint8_t* outer, const RemoteNodeEntry& node, uint32_t inner_len,
                       uint32_t hash) noexcept {
  std::memcpy(outer, node.outer, kVxlanEncapLen);
  PatchOuter(outer, node, inner_len, hash);
}

// The same, and the inner frame's Ethernet addresses (core/hop_macs.h MacsToVtep), in one copy of
// the node's frame head.
inline void WriteOuterAndInnerMacs(uint8_t* outer, const RemoteNodeEntry& node, uint32_t inner_len,
                                   uint32_t hash) noexcept {
  std::memcpy(outer, node.frame_head(), RemoteNodeEntry::kFrameHeadLen);
  PatchOuter(outer, node, inner_len, hash);
}

// Points the meta at the outer packet (from the node, not read back from the headers just written).
inline void MetaToOuter(PacketMeta& m, const RemoteNodeEntry& node, uint32_t vtep_ip) noexcept {
  m.l3_offset = kVxlanOuterIp4Offset;
  m.src_ip = vtep_ip;
  m.dst_ip = node.underlay_ip();
}

// Encapsulates `pkt` (its IPv4 packet at m.l3_offset) towards `node`, from `vtep_ip`, and points
// the meta at the outer packet. false: no headroom (the packet is unchanged but for trailing
// bytes beyond its IPv4 length, which are dropped).
inline bool Push(rte_mbuf* pkt, PacketMeta& m, const RemoteNodeEntry& node,
                 uint32_t vtep_ip) noexcept {
  const auto* inner_ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, m.l3_offset);
  const uint32_t hash = OuterHash(pkt, m, inner_ip);
  const uint32_t inner_len = m.l3_offset + rte_be_to_cpu_16(inner_ip->total_length);
  if (rte_pktmbuf_pkt_len(pkt) > inner_len) {
    rte_pktmbuf_trim(pkt, static_cast<uint16_t>(rte_pktmbuf_pkt_len(pkt) - inner_len));
  }
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(pkt, kVxlanEncapLen));
  if (outer == nullptr) [[unlikely]]
    return false;
  WriteOuter(outer, node, inner_len, hash);
  MetaToOuter(m, node, vtep_ip);
  return true;
}

}  // namespace nodeplane::dp::vxlan
