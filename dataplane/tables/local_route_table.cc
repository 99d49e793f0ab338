#include "dataplane/tables/local_route_table.h"

#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

namespace nodeplane::dp {
namespace {

constexpr uint32_t kMinSlots = 64;

}  // namespace

LocalRouteTable::~LocalRouteTable() { rte_free(keys_); }

uint32_t LocalRouteTable::Slot(uint32_t key) const noexcept {
  return rte_hash_crc_4byte(key, 0) & mask_;
}

bool LocalRouteTable::Build(const std::vector<std::pair<uint32_t, uint16_t>>& routes,
                            std::string* error) {
  uint32_t slots = kMinSlots;
  while (slots < routes.size() * 2) slots *= 2;  // at most half full: short probe runs
  rte_free(keys_);
  keys_ = static_cast<uint32_t*>(rte_zmalloc_socket(
      "np_local_routes", slots * (sizeof(uint32_t) + sizeof(uint16_t)), RTE_CACHE_LINE_SIZE,
      static_cast<int>(rte_socket_id())));
  if (keys_ == nullptr) {
    *error = "route table: out of EAL memory";
    return false;
  }
  ports_ = reinterpret_cast<uint16_t*>(keys_ + slots);
  for (uint32_t i = 0; i < slots; ++i) ports_[i] = kMiss;
  mask_ = slots - 1;
  size_ = 0;
  for (const auto& [addr, port] : routes) {
    if (addr == 0) {
      *error = "route table: 0.0.0.0 is not a routable address";
      return false;
    }
    uint32_t s = Slot(addr);
    while (keys_[s] != 0 && keys_[s] != addr) s = (s + 1) & mask_;
    if (keys_[s] == addr) {
      *error = "route table: duplicate address";
      return false;
    }
    keys_[s] = addr;
    ports_[s] = port;
    ++size_;
  }
  return true;
}

namespace {

// Terminates: the table is never more than half full, so an empty slot is always reached.
[[gnu::always_inline]] inline uint16_t Probe(const uint32_t* keys, const uint16_t* ports,
                                             uint32_t slot, uint32_t mask, uint32_t dst) noexcept {
  for (uint32_t s = slot;; s = (s + 1) & mask) {
    if (keys[s] == dst) return ports[s];
    if (keys[s] == 0) return LocalRouteTable::kMiss;
  }
}

}  // namespace

uint16_t LocalRouteTable::Lookup(uint32_t dst) const noexcept {
  if (keys_ == nullptr) return kMiss;
  return Probe(keys_, ports_, Slot(dst), mask_, dst);
}

void LocalRouteTable::LookupBulk(const uint32_t* dst, uint16_t n,
                                 uint16_t* out_port) const noexcept {
  if (keys_ == nullptr) {
    for (uint16_t i = 0; i < n; ++i) out_port[i] = kMiss;
    return;
  }
  for (uint16_t i = 0; i < n; ++i) out_port[i] = Probe(keys_, ports_, Slot(dst[i]), mask_, dst[i]);
}

}  // namespace nodeplane::dp
