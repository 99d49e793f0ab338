// PolicyTable: compiled NetworkPolicy (dataplane/core/policy_spec.h), as the policy stage reads it.
// Built once by the control thread with its Snapshot, read-only afterwards, freed with the Snapshot
// after the RCU grace period.
//
// Per packet: one bulk hash lookup gives each address its identity and, for a local pod, its
// allow-sets (other addresses: a binary search over the ipBlock intervals, only for misses); one
// bulk hash lookup of (set, peer identity, protocol) gives the port ranges allowed. The number of
// policies, rules and pods changes the sizes of the tables, not the work per packet.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/core/policy_spec.h"

struct rte_hash;

namespace nodeplane::dp {

class PolicyTable {
 public:
  struct Host {
    uint32_t identity = 0;
    uint32_t ingress_set = kNoPolicySet;
    uint32_t egress_set = kNoPolicySet;
    uint32_t node = 0;  // 1: an address of this node
  };
  struct Query {
    uint32_t set;       // != kNoPolicySet
    uint32_t identity;  // the peer's
    PolicyProto proto;
    uint16_t port;      // the destination port, host order (0 for kOther)
  };

  PolicyTable() = default;
  ~PolicyTable();
  PolicyTable(const PolicyTable&) = delete;
  PolicyTable& operator=(const PolicyTable&) = delete;

  // Control thread. Fails (error set) on a spec the table cannot hold.
  bool Build(const PolicySpec& spec, std::string* error);

  // False when no pod is isolated in any direction: the stage has nothing to do.
  bool active() const noexcept { return !sets_.empty(); }

  // Worker. n <= 64 addresses (network order).
  void LookupHosts(const uint32_t* ip_be, uint16_t n, Host* out) const noexcept;
  // Worker. n <= 64 queries; allowed[i] says whether query i's set admits it.
  void Allowed(const Query* q, uint16_t n, bool* allowed) const noexcept;

  size_t hosts() const { return host_entries_.size(); }
  size_t allow_rows() const { return allow_rows_; }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t count = 0;
  };
  struct Set {
    std::array<Span, kPolicyProtos> any_peer;
  };

  uint32_t RangeIdentity(uint32_t ip_host) const noexcept;
  bool InSpan(Span s, uint16_t port) const noexcept;

  rte_hash* hosts_ = nullptr;   // dp: ro, ctl: rw before publish. ip → index into host_entries_
  std::vector<Host> host_entries_;
  std::vector<uint32_t> range_first_;     // host order, ascending, [0] == 0
  std::vector<uint32_t> range_identity_;
  std::vector<Set> sets_;                 // set s at [s - 1]
  rte_hash* allows_ = nullptr;  // dp: ro, ctl: rw before publish. AllowKey → Span (packed)
  std::vector<PolicyPortRange> ports_;
  size_t allow_rows_ = 0;
};

}  // namespace nodeplane::dp
