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

// a + b in one's-complement arithmetic: the carry out of the top comes back in at the bottom.
inline uint64_t OnesComplementAdd(uint64_t a, uint64_t b) noexcept {
  uint64_t sum;
  const bool carry = __builtin_add_overflow(a, b, &sum);
  return sum + (carry ? 1 : 0);
}

// The one's-complement sum of an IPv4 header (RFC 1071), folded to 32 bits: the fixed 20 bytes
// are two 64-bit words and a 32-bit one (options add 32-bit words); the sum works in any width that
// is a multiple of 16 bits.
inline uint32_t Ip4HeaderSum32(const void* header, uint32_t hlen) noexcept {
  const auto* p = static_cast<const uint8_t*>(header);
  uint64_t a, b;
  uint32_t c;
  __builtin_memcpy(&a, p, sizeof(a));
  __builtin_memcpy(&b, p + 8, sizeof(b));
  __builtin_memcpy(&c, p + 16, sizeof(c));
  uint64_t rest = c;  // at most eleven 32-bit words: no carry out of 64 bits
  for (uint32_t at = 20; at < hlen; at += 4) {
    uint32_t w;
    __builtin_memcpy(&w, p + at, sizeof(w));
    rest += w;
  }
  const uint64_t sum = OnesComplementAdd(OnesComplementAdd(a, b), rest);
  // A value plus itself rotated by half its width holds in its high half the one's-complement sum
  // of its two halves (the carry between them included): the fold to 32 bits.
  return static_cast<uint32_t>((sum + ((sum << 32) | (sum >> 32))) >> 32);
}

// The same fold from 32 to 16 bits, left in the high half.
inline uint32_t FoldToHigh16(uint32_t s32) noexcept { return s32 + ((s32 << 16) | (s32 >> 16)); }

// The sum folded to 16 bits, in the header's own byte order: 0xffff when its checksum verifies.
inline uint16_t Ip4HeaderSum(const void* header, uint32_t hlen) noexcept {
  return static_cast<uint16_t>(FoldToHigh16(Ip4HeaderSum32(header, hlen)) >> 16);
}

// Ip4HeaderSum(header, hlen) == 0xffff, with one compare less.
inline bool Ip4HeaderChecksumVerifies(const void* header, uint32_t hlen) noexcept {
  return FoldToHigh16(Ip4HeaderSum32(header, hlen)) >= 0xffff0000u;
}

// The checks of a header without options (version_ihl 0x45) once its total length is known:
// `l3_room` is the room for the IPv4 packet (from the header to where it must end by).
inline DropReason CheckIp4HeaderWithoutOptions(const rte_ipv4_hdr* ip, uint32_t total,
                                               uint32_t l3_room, bool checksum_verified) noexcept {
  if (total < sizeof(rte_ipv4_hdr) || total > l3_room) return DropReason::kIp4BadTotalLength;
  if (!checksum_verified && !Ip4HeaderChecksumVerifies(ip, sizeof(rte_ipv4_hdr))) {
    return DropReason::kIp4BadChecksum;
  }
  return DropReason::kUnspecified;
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
  // __builtin_bswap16 rather than rte_be_to_cpu_16, whose inline assembly the compiler cannot
  // combine with the compares that follow.
  const uint32_t total = __builtin_bswap16(ip->total_length);
  // Version 4 without options is nearly every packet: one compare.
  if (ip->version_ihl == 0x45) [[likely]] {
    return CheckIp4HeaderWithoutOptions(ip, total, l3_end - l3_offset, checksum_verified);
  }
  if ((ip->version_ihl >> 4) != 4) return DropReason::kIp4BadVersion;
  const uint32_t hlen = (ip->version_ihl & 0xfu) * 4;
  if (hlen < sizeof(rte_ipv4_hdr) || hlen > data_len - l3_offset) return DropReason::kIp4BadIhl;
  if (total < hlen || total > l3_end - l3_offset) return DropReason::kIp4BadTotalLength;
  if (!checksum_verified && !Ip4HeaderChecksumVerifies(ip, hlen))
    return DropReason::kIp4BadChecksum;
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
