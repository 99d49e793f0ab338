// The one IPv4 header validation of the dataplane, shared by eth_parse (the received frame) and
// vxlan_decap (the inner frame of a VXLAN packet), so both accept and reject exactly the same
// headers: version, header length, total length against the frame, header checksum.
#pragma once
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "nodeplane/drop_reason.h"

namespace nodeplane::dp {

// The one's-complement sum of an IPv4 header (RFC 1071), folded to 16 bits, in the header's own
// byte order: 0xffff when its checksum verifies. Adds 32-bit words into 64 bits (IPv4 headers
// are multiples of 4 bytes) — half the additions of a 16-bit loop, and straight-line code for
// the usual 20 bytes.
inline uint16_t Ip4HeaderSum(const void* header, uint32_t hlen) noexcept {
  const auto* p = static_cast<const uint8_t*>(header);
  auto word = [p](uint32_t at) {
    uint32_t w;
    __builtin_memcpy(&w, p + at, sizeof(w));
    return uint64_t{w};
  };
  uint64_t sum = word(0) + word(4) + word(8) + word(12) + word(16);
  for (uint32_t at = 20; at < hlen; at += 4) sum += word(at);
  // Fold 64 → 32 → 16 bits, each time adding the carry back in (one's-complement addition).
  const uint32_t high = static_cast<uint32_t>(sum >> 32);
  uint32_t s32 = static_cast<uint32_t>(sum) + high;
  s32 += s32 < high ? 1u : 0u;
  uint32_t s16 = (s32 & 0xffff) + (s32 >> 16);
  s16 = (s16 & 0xffff) + (s16 >> 16);
  return static_cast<uint16_t>(s16);
}

// Validates the IPv4 header at `l3_offset` of `pkt` (header in the first segment). `l3_end` is the
// offset where the frame's IPv4 packet must end by (the frame length for a received frame; the end
// of the VXLAN payload for an inner frame). `checksum_verified`: a NIC already checked the header
// checksum (RTE_MBUF_F_RX_IP_CKSUM_GOOD on this very header), so it is not summed again.
// Returns DropReason::kUnspecified when the header is valid, else why it is not.
inline DropReason CheckIp4Header(const rte_mbuf* pkt, uint16_t l3_offset, uint32_t l3_end,
                                 bool checksum_verified) noexcept {
  const uint32_t data_len = rte_pktmbuf_data_len(pkt);
  if (data_len < l3_offset + sizeof(rte_ipv4_hdr) || l3_end < l3_offset) {
    return DropReason::kIp4Truncated;
  }
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, l3_offset);
  uint16_t hlen = sizeof(rte_ipv4_hdr);
  // Version 4 without options is nearly every packet: one compare, and a 20-byte sum below.
  if (ip->version_ihl != 0x45) [[unlikely]] {
    if ((ip->version_ihl >> 4) != 4) return DropReason::kIp4BadVersion;
    hlen = static_cast<uint16_t>((ip->version_ihl & 0xf) * 4);
    if (hlen < sizeof(rte_ipv4_hdr) || hlen > data_len - l3_offset) return DropReason::kIp4BadIhl;
  }
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < hlen || total > l3_end - l3_offset) return DropReason::kIp4BadTotalLength;
  if (!checksum_verified) {
    const uint16_t sum = hlen == sizeof(rte_ipv4_hdr) ? Ip4HeaderSum(ip, sizeof(rte_ipv4_hdr))
                                                      : Ip4HeaderSum(ip, hlen);
    if (sum != 0xffff) return DropReason::kIp4BadChecksum;
  }
  return DropReason::kUnspecified;
}

// A hop: TTL one less (the caller checked it is above 1), header checksum updated. RFC 1624 eqn. 3,
// HC' = ~(~HC + ~m + m'): the TTL's 16-bit word m drops by 0x0100, so ~m + m' = ~0x0100 = 0xfeff.
// (HC + 0x0100 would give 0xffff where a full computation gives 0.)
inline void DecrementTtl(rte_ipv4_hdr* ip) noexcept {
  --ip->time_to_live;
  uint32_t sum = static_cast<uint16_t>(~ip->hdr_checksum) + uint32_t{RTE_BE16(0xfeff)};
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = static_cast<uint16_t>(~sum);
}

}  // namespace nodeplane::dp
