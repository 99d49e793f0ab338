#include "dataplane/core/icmp_error.h"

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

namespace nodeplane::dp {
namespace {

constexpr uint16_t kQuotedPayload = 8;
constexpr uint16_t kNewHeaders = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);

bool IsIcmpError(const rte_ipv4_hdr* ip, uint16_t hlen, uint16_t avail) {
  if (ip->next_proto_id != IPPROTO_ICMP || avail < hlen + 1) return false;
  const uint8_t type = reinterpret_cast<const uint8_t*>(ip)[hlen];
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

}  // namespace

bool MakeIcmp4Error(rte_mbuf* pkt, uint16_t l3_offset, uint8_t type, uint8_t code,
                    uint32_t rest_of_header_be, const IcmpErrorFrom& from) noexcept {
  if (pkt->nb_segs != 1) return false;
  auto* orig = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, l3_offset);
  const uint16_t hlen = static_cast<uint16_t>((orig->version_ihl & 0xf) * 4);
  const uint16_t total = rte_be_to_cpu_16(orig->total_length);
  const uint16_t avail = static_cast<uint16_t>(rte_pktmbuf_data_len(pkt) - l3_offset);
  if ((rte_be_to_cpu_16(orig->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0) return false;
  if (IsIcmpError(orig, hlen, avail)) return false;
  const uint8_t first_octet = static_cast<uint8_t>(rte_be_to_cpu_32(orig->src_addr) >> 24);
  if (first_octet >= 224 || orig->src_addr == 0 || orig->src_addr == 0xffffffff) return false;
  if (rte_pktmbuf_headroom(pkt) < kNewHeaders) return false;

  const uint16_t quote = std::min<uint16_t>(std::min<uint16_t>(total, avail), hlen + kQuotedPayload);
  const uint32_t src_back = orig->src_addr;
  auto* old_eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  rte_ether_addr back_to = old_eth->src_addr;

  rte_pktmbuf_trim(pkt, static_cast<uint16_t>(rte_pktmbuf_pkt_len(pkt) - l3_offset - quote));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(pkt, kNewHeaders));
  eth->dst_addr = back_to;
  std::memcpy(eth->src_addr.addr_bytes, from.mac.data(), RTE_ETHER_ADDR_LEN);
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  // The old Ethernet header now overlaps the new IP/ICMP headers; the quote starts after them.
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(reinterpret_cast<uint8_t*>(eth) + l3_offset);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0xc0;  // internetwork control, as routers send errors
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kNewHeaders + quote));
  ip->packet_id = 0;
  ip->fragment_offset = 0;
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_ICMP;
  ip->src_addr = from.ip;
  ip->dst_addr = src_back;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  icmp->icmp_cksum = 0;
  std::memcpy(&icmp->icmp_ident, &rest_of_header_be, sizeof(rest_of_header_be));
  // RFC 792: the one's complement of the one's complement sum (0 stays 0: ICMP, unlike UDP, has
  // no "no checksum" value to avoid).
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, sizeof(rte_icmp_hdr) + quote));
  return true;
}

}  // namespace nodeplane::dp
