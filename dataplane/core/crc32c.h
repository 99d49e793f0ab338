// CRC32-C of bytes in memory, the same value as DPDK's rte_hash_crc(data, len, init), read
// through memcpy: rte_hash_crc loads the object as uint64_t words through a cast pointer, which
// breaks C++'s aliasing rules, and GCC at -O2 may then read the words before the caller's stores
// to the object (a key built just before hashing hashed as whatever the stack held before).
// With SSE4.2 in the build's baseline (-march=corei7) the instructions are used directly:
// rte_hash_crc_* check at run time, per call, which implementation DPDK selected.
#pragma once
#include <rte_hash_crc.h>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nodeplane::dp {

namespace crc32c_step {
#if defined(__SSE4_2__)
inline uint32_t U64(uint64_t w, uint32_t c) noexcept {
  return static_cast<uint32_t>(_mm_crc32_u64(c, w));
}
inline uint32_t U32(uint32_t w, uint32_t c) noexcept { return _mm_crc32_u32(c, w); }
inline uint32_t U16(uint16_t w, uint32_t c) noexcept { return _mm_crc32_u16(c, w); }
inline uint32_t U8(uint8_t w, uint32_t c) noexcept { return _mm_crc32_u8(c, w); }
#else
inline uint32_t U64(uint64_t w, uint32_t c) noexcept { return rte_hash_crc_8byte(w, c); }
inline uint32_t U32(uint32_t w, uint32_t c) noexcept { return rte_hash_crc_4byte(w, c); }
inline uint32_t U16(uint16_t w, uint32_t c) noexcept { return rte_hash_crc_2byte(w, c); }
inline uint32_t U8(uint8_t w, uint32_t c) noexcept { return rte_hash_crc_1byte(w, c); }
#endif
}  // namespace crc32c_step

inline uint32_t Crc32c(const void* data, size_t len, uint32_t init) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    init = crc32c_step::U64(w, init);
  }
  if (len & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    init = crc32c_step::U32(w, init);
    p += 4;
  }
  if (len & 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    init = crc32c_step::U16(w, init);
    p += 2;
  }
  if (len & 1) init = crc32c_step::U8(*p, init);
  return init;
}

}  // namespace nodeplane::dp
