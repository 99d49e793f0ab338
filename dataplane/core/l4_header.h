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

#include <cstdint>

#include "dataplane/core/packet_meta.h"

namespace nodeplane::dp {

// Fills meta.{l4_proto, l4_offset, l4, src_port, dst_port, tcp_flags} for the IPv4 header at
// meta.l3_offset (already validated by core/ip4_header.h). Ports are network order. ICMP echo
// request/reply carry their identifier in both ports (how conntrack tells echo flows apart) and the
// ICMP type in tcp_flags' place is not recorded; other ICMP messages get ports 0.
// `ip` is that header and `l3_avail` the bytes from it to the end of the first segment.
inline void FillL4(const rte_ipv4_hdr* ip, uint32_t l3_avail, PacketMeta& m) noexcept {
  const uint16_t ihl = static_cast<uint16_t>((ip->version_ihl & 0xf) * 4);
  m.l4_proto = ip->next_proto_id;
  m.l4_offset = static_cast<uint16_t>(m.l3_offset + ihl);
  m.src_port = 0;
  m.dst_port = 0;
  m.tcp_flags = 0;
  if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    m.l4 = L4Status::kFragment;
    return;
  }
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  const uint32_t l3_len = l3_avail < total ? l3_avail : total;
  const uint32_t l4_len = l3_len > ihl ? l3_len - ihl : 0;
  const uint8_t* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  uint16_t ports[2];
  switch (m.l4_proto) {
    case IPPROTO_TCP:
      if (l4_len < sizeof(rte_tcp_hdr)) break;
      __builtin_memcpy(ports, l4, sizeof(ports));
      m.src_port = ports[0];
      m.dst_port = ports[1];
      m.tcp_flags = reinterpret_cast<const rte_tcp_hdr*>(l4)->tcp_flags;
      m.l4 = L4Status::kPorts;
      return;
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
      if (l4_len < (m.l4_proto == IPPROTO_UDP ? sizeof(rte_udp_hdr) : sizeof(rte_sctp_hdr))) break;
      __builtin_memcpy(ports, l4, sizeof(ports));
      m.src_port = ports[0];
      m.dst_port = ports[1];
      m.l4 = L4Status::kPorts;
      return;
    case IPPROTO_ICMP: {
      if (l4_len < sizeof(rte_icmp_hdr)) break;
      const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
      if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
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

// The same for the IPv4 header at meta.l3_offset of `pkt`.
inline void FillL4(const rte_mbuf* pkt, PacketMeta& m) noexcept {
  FillL4(rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, m.l3_offset),
         rte_pktmbuf_data_len(pkt) - m.l3_offset, m);
}

}  // namespace nodeplane::dp
