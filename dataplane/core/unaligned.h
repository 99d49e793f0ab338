// 16-bit header fields read and written where they lie, whatever their alignment (through memcpy,
// which compiles to one load or store).
#pragma once
#include <cstdint>
#include <cstring>

namespace nodeplane::dp {

inline uint16_t Load16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void Store16(uint8_t* p, uint16_t v) noexcept { std::memcpy(p, &v, sizeof(v)); }

}  // namespace nodeplane::dp
