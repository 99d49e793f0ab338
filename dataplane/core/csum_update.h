// Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')). Values are
// taken as they lie in the packet (network order): one's complement sums do not depend on byte
// order as long as every word is read the same way.
#pragma once
#include <cstdint>

namespace nodeplane::dp {

inline uint16_t CsumFold(uint32_t s) noexcept {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// The checksum `csum` after a 16-bit word changed from `from` to `to`.
inline uint16_t CsumUpdate16(uint16_t csum, uint16_t from, uint16_t to) noexcept {
  const uint32_t s = static_cast<uint16_t>(~csum) + static_cast<uint32_t>(static_cast<uint16_t>(~from)) + to;
  return static_cast<uint16_t>(~CsumFold(s));
}

// The same for a 32-bit field (an IPv4 address).
inline uint16_t CsumUpdate32(uint16_t csum, uint32_t from, uint32_t to) noexcept {
  const uint32_t s = static_cast<uint16_t>(~csum) +
                     static_cast<uint32_t>(static_cast<uint16_t>(~(from & 0xffff))) +
                     static_cast<uint16_t>(~(from >> 16)) + (to & 0xffff) + (to >> 16);
  return static_cast<uint16_t>(~CsumFold(s));
}

}  // namespace nodeplane::dp
