// PolicySpec: NetworkPolicy compiled into identities and allow-sets (control/compile/
// policy_compile.h), the plain form dataplane/tables/policy_table.h is built from.
//
// Identities: every address belongs to exactly one identity — all addresses that every policy peer
// (selector or ipBlock) treats alike, and, for pods, that have the same container ports (named
// ports resolve on them). Allow-sets: per local pod and direction the union of the rules of every
// policy isolating it, as (peer identity, protocol) → port ranges, plus ranges allowed to any peer.
// A packet costs two address lookups and at most two allow lookups, whatever the number of policies.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "nodeplane/addr.h"

namespace nodeplane::dp {

// Protocol slots of an allow-set: TCP, UDP, SCTP and any other IP protocol (only rules without
// ports admit those; their "port" is 0).
enum class PolicyProto : uint8_t { kTcp = 0, kUdp, kSctp, kOther };
inline constexpr int kPolicyProtos = 4;

inline constexpr uint32_t kNoPolicySet = 0;  // not isolated in that direction: everything allowed

struct PolicyPortRange {
  uint16_t first = 0;
  uint16_t last = 0;  // inclusive
  friend bool operator==(const PolicyPortRange&, const PolicyPortRange&) = default;
};

// A /32 the dataplane knows by itself: a pod (local or remote) or an address of this node.
struct PolicyHostSpec {
  Ip4 ip;
  uint32_t identity = 0;
  uint32_t ingress_set = kNoPolicySet;  // local pods isolated for ingress
  uint32_t egress_set = kNoPolicySet;   // local pods isolated for egress
  bool node = false;  // this node's own address: its traffic to local pods is always allowed
};

// Every other address: sorted by `first`, the first starting at 0.0.0.0; each runs up to the next.
struct PolicyRangeSpec {
  Ip4 first;
  uint32_t identity = 0;
};

struct PolicySetSpec {
  std::array<std::vector<PolicyPortRange>, kPolicyProtos> any_peer;  // sorted, disjoint
};

struct PolicyAllowSpec {
  uint32_t set = 0;  // 1-based index into PolicySpec::sets
  uint32_t identity = 0;
  PolicyProto proto = PolicyProto::kTcp;
  std::vector<PolicyPortRange> ports;  // sorted, disjoint
};

struct PolicySpec {
  std::vector<PolicyHostSpec> hosts;
  std::vector<PolicyRangeSpec> ranges;  // empty: every other address is identity 0
  std::vector<PolicySetSpec> sets;      // set s is sets[s - 1]
  std::vector<PolicyAllowSpec> allows;
  uint32_t identities = 0;
};

}  // namespace nodeplane::dp
