#include "dataplane/tables/affinity_table.h"

#include <rte_cycles.h>

#include <new>

namespace nodeplane::dp {
namespace {

uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint32_t Check(uint64_t key, uint64_t value, uint32_t seconds) {
  return static_cast<uint32_t>(Mix(key ^ Mix(value ^ seconds)));
}

uint32_t TscSeconds() { return static_cast<uint32_t>(rte_rdtsc() / rte_get_tsc_hz()); }

}  // namespace

bool AffinityTable::Init(uint32_t slots, std::string* error) {
  uint32_t n = 1;
  while (n < slots) n <<= 1;
  slots_.reset(new (std::nothrow) Slot[n]);
  if (!slots_) {
    *error = "affinity table: out of memory";
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    slots_[i].key.store(0, std::memory_order_relaxed);
    slots_[i].value.store(0, std::memory_order_relaxed);
    slots_[i].stamp.store(0, std::memory_order_relaxed);
  }
  mask_ = n - 1;
  if (clock_ == nullptr) clock_ = TscSeconds;
  return true;
}

bool AffinityTable::Lookup(uint32_t client_be, uint32_t service_id, uint32_t now_s,
                           uint32_t timeout_s, Choice* out) const noexcept {
  if (!slots_) return false;
  const uint64_t key = (uint64_t{client_be} << 32) | service_id;
  const Slot& s = slots_[Mix(key) & mask_];
  if (s.key.load(std::memory_order_acquire) != key) return false;
  const uint64_t value = s.value.load(std::memory_order_acquire);
  const uint64_t stamp = s.stamp.load(std::memory_order_acquire);
  const uint32_t seconds = static_cast<uint32_t>(stamp >> 32);
  if (static_cast<uint32_t>(stamp) != Check(key, value, seconds)) return false;  // torn or empty
  if (now_s - seconds > timeout_s) return false;
  out->ip_be = static_cast<uint32_t>(value >> 32);
  out->port_be = static_cast<uint16_t>(value >> 16);
  out->index = static_cast<uint16_t>(value);
  return true;
}

void AffinityTable::Record(uint32_t client_be, uint32_t service_id, const Choice& c,
                           uint32_t now_s) noexcept {
  if (!slots_) return;
  const uint64_t key = (uint64_t{client_be} << 32) | service_id;
  const uint64_t value = (uint64_t{c.ip_be} << 32) | (uint64_t{c.port_be} << 16) | c.index;
  Slot& s = slots_[Mix(key) & mask_];
  s.key.store(key, std::memory_order_release);
  s.value.store(value, std::memory_order_release);
  s.stamp.store((uint64_t{now_s} << 32) | Check(key, value, now_s), std::memory_order_release);
}

}  // namespace nodeplane::dp
