// LocalRouteTable: IPv4 /32 → output port, for the addresses this node delivers itself (its pods and
// its own addresses). Written once by the control thread when a Snapshot is built, then read-only;
// freed with its Snapshot after the RCU grace period. Readers use one bulk lookup per burst.
// An open-addressing table of its own rather than rte_hash: a node has at most a few hundred such
// addresses, so keys and ports sit in two small arrays (a few KiB, in L1/L2) probed linearly from a
// CRC32 hash, at most half full — a hit costs one or two loads, where rte_hash's bucket/signature
// machinery cost about 29 cycles per packet in the encap benchmark.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nodeplane::dp {

class LocalRouteTable {
 public:
  static constexpr uint16_t kMiss = 0xffff;

  LocalRouteTable() = default;
  ~LocalRouteTable();
  LocalRouteTable(const LocalRouteTable&) = delete;
  LocalRouteTable& operator=(const LocalRouteTable&) = delete;

  // Control thread. `routes` are (address in network order, port id); duplicates and 0.0.0.0 (the
  // empty-slot marker) are errors.
  bool Build(const std::vector<std::pair<uint32_t, uint16_t>>& routes, std::string* error);

  // Worker. Looks up n <= 64 addresses (network order); out_port[i] = kMiss when absent.
  void LookupBulk(const uint32_t* dst, uint16_t n, uint16_t* out_port) const noexcept;
  uint16_t Lookup(uint32_t dst) const noexcept;

  size_t size() const { return size_; }

 private:
  uint32_t Slot(uint32_t key) const noexcept;

  // dp: ro, ctl: rw before publish. One EAL allocation on the worker's NUMA socket (hugepage
  // memory: no TLB misses on lookups): `slots` keys then `slots` ports. Capacity a power of two,
  // at least twice the routes.
  uint32_t* keys_ = nullptr;   // network order; 0 = empty
  uint16_t* ports_ = nullptr;
  uint32_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace nodeplane::dp
