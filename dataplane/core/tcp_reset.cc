#include "dataplane/core/tcp_reset.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

namespace nodeplane::dp {

bool MakeTcpReset(rte_mbuf* pkt, uint16_t l3_offset, uint16_t l4_offset,
                  const std::array<uint8_t, 6>& our_mac) noexcept {
  if (pkt->nb_segs != 1) return false;
  if (rte_pktmbuf_data_len(pkt) < l4_offset + sizeof(rte_tcp_hdr)) return false;
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, l3_offset);
  auto* tcp = rte_pktmbuf_mtod_offset(pkt, rte_tcp_hdr*, l4_offset);
  if (tcp->tcp_flags & RTE_TCP_RST_FLAG) return false;
  const uint16_t ip_len = rte_be_to_cpu_16(ip->total_length);
  const uint16_t tcp_hlen = static_cast<uint16_t>((tcp->data_off >> 4) * 4);
  const uint16_t l4_len = static_cast<uint16_t>(ip_len - (l4_offset - l3_offset));
  const uint32_t payload = l4_len > tcp_hlen ? l4_len - tcp_hlen : 0;
  const uint8_t flags = tcp->tcp_flags;
  uint32_t seq = 0, ack = 0;
  uint8_t out_flags = RTE_TCP_RST_FLAG;
  if (flags & RTE_TCP_ACK_FLAG) {
    seq = tcp->recv_ack;  // already network order
  } else {
    const uint32_t len = payload + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
    ack = rte_cpu_to_be_32(rte_be_to_cpu_32(tcp->sent_seq) + len);
    out_flags |= RTE_TCP_ACK_FLAG;
  }
  // Ethernet and addresses back to the sender.
  eth->dst_addr = eth->src_addr;
  std::memcpy(eth->src_addr.addr_bytes, our_mac.data(), RTE_ETHER_ADDR_LEN);
  const uint32_t src = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  const uint16_t sport = tcp->src_port;
  tcp->src_port = tcp->dst_port;
  tcp->dst_port = sport;
  tcp->sent_seq = seq;
  tcp->recv_ack = ack;
  tcp->data_off = static_cast<uint8_t>((sizeof(rte_tcp_hdr) / 4) << 4);
  tcp->tcp_flags = out_flags;
  tcp->rx_win = 0;
  tcp->tcp_urp = 0;
  // Just the headers: no options, no payload.
  const uint16_t new_ip_len = static_cast<uint16_t>(l4_offset - l3_offset + sizeof(rte_tcp_hdr));
  const uint32_t frame = l4_offset + sizeof(rte_tcp_hdr);
  if (rte_pktmbuf_pkt_len(pkt) > frame) rte_pktmbuf_trim(pkt, rte_pktmbuf_pkt_len(pkt) - frame);
  ip->total_length = rte_cpu_to_be_16(new_ip_len);
  ip->time_to_live = 64;
  ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  ip->packet_id = 0;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  tcp->cksum = 0;
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  pkt->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
  return true;
}

}  // namespace nodeplane::dp
