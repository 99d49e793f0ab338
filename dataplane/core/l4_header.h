// The one place the dataplane reads the transport header of an IPv4 packet into PacketMeta, shared
// by eth_parse (the received frame) and vxlan_decap (the inner frame), so conntrack, Services and
// NetworkPolicy all see the same 5-tuple. It never drops: stages that need ports decide what a
// packet without them means (meta.l4 says why they are absent).
#pragma once
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>
#include <cstdint>

#include "dataplane/core/packet_meta.h"

namespace nodeplane::dp {

// Source and destination port, side by side in TCP, UDP and SCTP headers and in PacketMeta.
static_assert(offsetof(PacketMeta, dst_port) == offsetof(PacketMeta, src_port) + 2);
inline void CopyPorts(const uint8_t* l4, PacketMeta& m) noexcept {
  __builtin_memcpy(reinterpret_cast<uint8_t*>(&m) + offsetof(PacketMeta, src_port), l4, 4);
}

// FillTransport for what is neither a whole UDP nor a whole TCP header.
inline void FillOtherTransport(uint8_t proto, const uint8_t* l4, uint32_t l4_len,
                               PacketMeta& m) noexcept {
  switch (proto) {
    case IPPROTO_UDP:
    case IPPROTO_TCP:
      break;  // cut short: FillTransport took the whole ones
    case IPPROTO_SCTP:
      if (l4_len < sizeof(rte_sctp_hdr)) break;
      CopyPorts(l4, m);
      m.l4 = L4Status::kPorts;
      return;
    case IPPROTO_ICMP: {
      if (l4_len < sizeof(rte_icmp_hdr)) break;
      const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
      if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
          icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
        m.src_port = icmp->icmp_ident;
        m.dst_port = icmp->icmp_ident;
      }
      m.l4 = L4Status::kPorts;
      return;
    }
    default:
      m.l4 = L4Status::kOtherProtocol;
      return;
  }
  m.l4 = L4Status::kTruncated;
}

// Fills meta.{l4, src_port, dst_port, tcp_flags} from the transport header of protocol `proto` at
// `l4`, of which `l4_len` bytes are in the first segment. Ports, network order, and tcp_flags must
// be zero on entry (they stay zero where the header has none). ICMP echo request/reply carry their
// identifier in both ports (how conntrack tells echo flows apart) and the ICMP type in tcp_flags'
// place is not recorded; other ICMP messages keep ports 0.
inline void FillTransport(uint8_t proto, const uint8_t* l4, uint32_t l4_len,
                          PacketMeta& m) noexcept {
  // UDP and TCP, nearly every packet, tested first and each with its own stores.
  if (proto == IPPROTO_UDP && l4_len >= sizeof(rte_udp_hdr)) [[likely]] {
    CopyPorts(l4, m);
    m.l4 = L4Status::kPorts;
    return;
  }
  if (proto == IPPROTO_TCP && l4_len >= sizeof(rte_tcp_hdr)) {
    CopyPorts(l4, m);
    m.tcp_flags = reinterpret_cast<const rte_tcp_hdr*>(l4)->tcp_flags;
    m.l4 = L4Status::kPorts;
    return;
  }
  FillOtherTransport(proto, l4, l4_len, m);
}

// Fills meta.{l4_proto, l4_offset, l4, src_port, dst_port, tcp_flags} for the IPv4 header at
// meta.l3_offset (already validated by core/ip4_header.h), as FillTransport describes.
// `ip` is that header and `l3_avail` the bytes from it to the end of the first segment.
inline void FillL4(const rte_ipv4_hdr* ip, uint32_t l3_avail, PacketMeta& m) noexcept {
  const uint32_t ihl = (ip->version_ihl & 0xfu) * 4;
  m.l4_proto = ip->next_proto_id;
  m.l4_offset = static_cast<uint16_t>(m.l3_offset + ihl);
  m.src_port = 0;
  m.dst_port = 0;
  m.tcp_flags = 0;
  if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    m.l4 = L4Status::kFragment;
    return;
  }
  const uint32_t total = __builtin_bswap16(ip->total_length);
  const uint32_t l3_len = l3_avail < total ? l3_avail : total;
  FillTransport(m.l4_proto, reinterpret_cast<const uint8_t*>(ip) + ihl,
                l3_len > ihl ? l3_len - ihl : 0, m);
}

// FillL4 for a header without options that is not a fragment, whose packet has `l3_len` bytes
// (at least the header's 20) in the first segment, into a meta whose ports and tcp_flags are still
// zero (eth_parse's fresh one): the same fields, without re-deriving what the caller checked.
inline void FillL4WithoutOptions(const rte_ipv4_hdr* ip, uint32_t l3_len, PacketMeta& m) noexcept {
  m.l4_proto = ip->next_proto_id;
  m.l4_offset = static_cast<uint16_t>(m.l3_offset + sizeof(rte_ipv4_hdr));
  FillTransport(m.l4_proto, reinterpret_cast<const uint8_t*>(ip + 1), l3_len - sizeof(rte_ipv4_hdr),
                m);
}

// The same for the IPv4 header at meta.l3_offset of `pkt`.
inline void FillL4(const rte_mbuf* pkt, PacketMeta& m) noexcept {
  FillL4(rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, m.l3_offset),
         rte_pktmbuf_data_len(pkt) - m.l3_offset, m);
}

}  // namespace nodeplane::dp
