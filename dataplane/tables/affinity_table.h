// AffinityTable: sessionAffinity ClientIP — (client address, Service port) → the backend its last
// new connection got, and when. The "service id" is the Service port's (ServiceEntry::service_id):
// kube-proxy keeps affinity per Service port, so port 80's choice does not bind port 443.
// Shared by all workers and written by them, without locks: a fixed array of slots indexed by a
// hash of the pair, each slot three 64-bit words stored and loaded atomically one by one. A reader accepts a slot only if its key matches and its check word
// (a hash of key, backend and time) agrees, so a slot two workers wrote at once (words from both)
// reads as a miss and the connection is balanced by Maglev instead — which, with the same backend
// set, usually picks the same backend anyway. Collisions evict: affinity is kept for as many
// clients as there are slots, and a client that loses its slot starts afresh.
//
// The timeout counts from the client's last new connection to the Service port (as kube-proxy's
// `recent` match does); entries are never swept, they simply stop matching.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace nodeplane::dp {

class AffinityTable {
 public:
  using Clock = uint32_t (*)();  // seconds, monotonic

  struct Choice {
    uint32_t ip_be;
    uint16_t port_be;
    uint16_t index;  // into the Service entry's backends (checked against it by the caller)
  };

  // Control thread, at start-up. `slots` is rounded up to a power of two.
  bool Init(uint32_t slots, std::string* error);
  // Tests: a clock they control. Default: the TSC, in seconds.
  void SetClock(Clock clock) { clock_ = clock; }
  uint32_t Now() const noexcept { return clock_(); }

  // Worker. The backend recorded for (client, service) within `timeout_s` of `now_s`.
  bool Lookup(uint32_t client_be, uint32_t service_id, uint32_t now_s, uint32_t timeout_s,
              Choice* out) const noexcept;
  // Worker. Records (or refreshes) the choice for a new connection.
  void Record(uint32_t client_be, uint32_t service_id, const Choice& c, uint32_t now_s) noexcept;

  uint32_t slots() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<uint64_t> key;    // client << 32 | service id
    std::atomic<uint64_t> value;  // ip << 32 | port << 16 | index
    std::atomic<uint64_t> stamp;  // seconds << 32 | check
  };
  static_assert(std::atomic<uint64_t>::is_always_lock_free);

  std::unique_ptr<Slot[]> slots_;  // dp: rw (every worker), ctl: allocates at start-up
  uint32_t mask_ = 0;
  Clock clock_ = nullptr;
};

}  // namespace nodeplane::dp
