#include "dataplane/tables/local_route_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include <atomic>
#include <cstring>

namespace nodeplane::dp {
namespace {

constexpr uint32_t kMinEntries = 64;

std::string UniqueName() {
  static std::atomic<uint64_t> seq{0};
  return "np_lrt_" + std::to_string(seq.fetch_add(1));
}

}  // namespace

LocalRouteTable::~LocalRouteTable() {
  if (hash_ != nullptr) rte_hash_free(hash_);
}

bool LocalRouteTable::Build(const std::vector<std::pair<uint32_t, uint16_t>>& routes,
                            std::string* error) {
  const std::string name = UniqueName();
  uint32_t entries = kMinEntries;
  while (entries < routes.size() * 2) entries *= 2;  // keep the load factor low: fewer probes
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = entries;
  params.key_len = sizeof(uint32_t);
  params.hash_func = rte_jhash;
  params.socket_id = static_cast<int>(rte_socket_id());
  hash_ = rte_hash_create(&params);
  if (hash_ == nullptr) {
    *error = std::string("route table: rte_hash_create: ") + rte_strerror(rte_errno);
    return false;
  }
  for (const auto& [addr, port] : routes) {
    if (rte_hash_lookup(hash_, &addr) >= 0) {
      *error = "route table: duplicate address";
      return false;
    }
    const int rc = rte_hash_add_key_data(hash_, &addr, reinterpret_cast<void*>(uintptr_t{port}));
    if (rc != 0) {
      *error = std::string("route table: add: ") + rte_strerror(-rc);
      return false;
    }
  }
  size_ = routes.size();
  return true;
}

void LocalRouteTable::LookupBulk(const uint32_t* dst, uint16_t n,
                                 uint16_t* out_port) const noexcept {
  const void* keys[64];
  void* data[64];
  for (uint16_t i = 0; i < n; ++i) keys[i] = &dst[i];
  uint64_t hits = 0;
  if (n > 0 && rte_hash_lookup_bulk_data(hash_, keys, n, &hits, data) < 0) hits = 0;
  for (uint16_t i = 0; i < n; ++i) {
    out_port[i] = ((hits >> i) & 1) ? static_cast<uint16_t>(reinterpret_cast<uintptr_t>(data[i]))
                                    : kMiss;
  }
}

uint16_t LocalRouteTable::Lookup(uint32_t dst) const noexcept {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &dst, &data) < 0) return kMiss;
  return static_cast<uint16_t>(reinterpret_cast<uintptr_t>(data));
}

}  // namespace nodeplane::dp
