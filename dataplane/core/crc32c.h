// CRC32-C of bytes in memory, the same value as DPDK's rte_hash_crc(data, len, init), read
// through memcpy: rte_hash_crc loads the object as uint64_t words through a cast pointer, which
// breaks C++'s aliasing rules, and GCC at -O2 may then read the words before the caller's stores
// to the object (a key built just before hashing hashed as whatever the stack held before).
#pragma once
#include <rte_hash_crc.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nodeplane::dp {

inline uint32_t Crc32c(const void* data, size_t len, uint32_t init) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    init = rte_hash_crc_8byte(w, init);
  }
  if (len & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    init = rte_hash_crc_4byte(w, init);
    p += 4;
  }
  if (len & 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    init = rte_hash_crc_2byte(w, init);
    p += 2;
  }
  if (len & 1) init = rte_hash_crc_1byte(*p, init);
  return init;
}

}  // namespace nodeplane::dp
