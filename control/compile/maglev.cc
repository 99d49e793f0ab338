#include "control/compile/maglev.h"

#include <algorithm>

namespace nodeplane::ctl {
namespace {

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; static_cast<uint64_t>(d) * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

// splitmix64's finaliser: a well-mixed 64-bit hash of the key, with a seed per use.
uint64_t Mix(uint64_t x, uint64_t seed) {
  x += seed + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint32_t MaglevTableSize(size_t n) {
  uint32_t m = std::max<uint32_t>(kMinSlots, static_cast<uint32_t>(n) * kSlotsPerBackend);
  while (!IsPrime(m)) ++m;
  return m;
}

std::vector<uint16_t> BuildMaglevTable(const std::vector<MaglevBackend>& backends, uint32_t size) {
  uint32_t max_weight = 0;
  for (const MaglevBackend& b : backends) max_weight = std::max(max_weight, b.weight);
  if (backends.empty() || max_weight == 0 || size < 2) return {};
  // Each backend's preference list is offset, offset+skip, ... (mod size): a permutation, since
  // size is prime and 0 < skip < size.
  const size_t n = backends.size();
  std::vector<uint32_t> offset(n), skip(n), next(n, 0);
  std::vector<uint64_t> credit(n, 0);
  for (size_t i = 0; i < n; ++i) {
    offset[i] = static_cast<uint32_t>(Mix(backends[i].key, 1) % size);
    skip[i] = static_cast<uint32_t>(Mix(backends[i].key, 2) % (size - 1)) + 1;
  }
  constexpr uint16_t kEmpty = 0xffff;
  std::vector<uint16_t> table(size, kEmpty);
  uint32_t filled = 0;
  // Round robin over the backends; a backend gains its weight in credit per round and takes one
  // slot per max_weight of credit, so its share of the table follows its weight. Integers, so a
  // backend of weight w takes exactly its slot every max_weight/w rounds (no rounding drift).
  while (filled < size) {
    for (size_t i = 0; i < n && filled < size; ++i) {
      credit[i] += backends[i].weight;
      while (credit[i] >= max_weight && filled < size) {
        credit[i] -= max_weight;
        uint32_t c;
        do {
          c = static_cast<uint32_t>((offset[i] + static_cast<uint64_t>(next[i]) * skip[i]) % size);
          ++next[i];
        } while (table[c] != kEmpty);
        table[c] = static_cast<uint16_t>(i);
        ++filled;
      }
    }
  }
  return table;
}

}  // namespace nodeplane::ctl
