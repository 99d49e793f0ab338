// PolicyDenyRing: a worker's most recent NetworkPolicy drops, so a person can learn which local pod
// and which direction decided (nodeplanectl stats). One writer (the worker), overwritten in a
// circle; control copies it racily — an entry being rewritten may read torn, which a diagnostic
// tolerates (the drop counters themselves are exact).
#pragma once
#include <cstdint>

namespace nodeplane::dp {

enum class PolicyDirection : uint8_t { kEgress = 1, kIngress = 2 };

struct PolicyDeny {
  uint32_t src_ip = 0;    // network order, the connection's original direction
  uint32_t dst_ip = 0;    // network order, after DNAT
  uint16_t dst_port = 0;  // host order
  uint8_t l4_proto = 0;
  PolicyDirection direction = PolicyDirection::kEgress;  // egress: src is the deciding local pod
};

struct PolicyDenyRing {
  static constexpr uint32_t kSize = 64;  // a power of two
  uint64_t written = 0;                  // dp: wo, ctl: ro  entries ever written
  PolicyDeny entries[kSize];             // dp: wo, ctl: ro  [written % kSize] is the next one

  void Record(const PolicyDeny& d) noexcept {
    entries[written & (kSize - 1)] = d;
    ++written;
  }
};

}  // namespace nodeplane::dp
