// LocalRouteTable: IPv4 /32 → output port, for the addresses this node delivers itself (its pods and
// its own addresses). Written once by the control thread when a Snapshot is built, then read-only;
// freed with its Snapshot after the RCU grace period. Readers use one bulk lookup per burst.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct rte_hash;

namespace nodeplane::dp {

class LocalRouteTable {
 public:
  static constexpr uint16_t kMiss = 0xffff;

  LocalRouteTable() = default;
  ~LocalRouteTable();
  LocalRouteTable(const LocalRouteTable&) = delete;
  LocalRouteTable& operator=(const LocalRouteTable&) = delete;

  // Control thread. `routes` are (address in network order, port id); duplicates are an error.
  bool Build(const std::vector<std::pair<uint32_t, uint16_t>>& routes, std::string* error);

  // Worker. Looks up n <= 64 addresses (network order); out_port[i] = kMiss when absent.
  void LookupBulk(const uint32_t* dst, uint16_t n, uint16_t* out_port) const noexcept;
  uint16_t Lookup(uint32_t dst) const noexcept;

  size_t size() const { return size_; }

 private:
  rte_hash* hash_ = nullptr;  // dp: ro, ctl: rw before publish
  size_t size_ = 0;
};

}  // namespace nodeplane::dp
