// UplinkPeers: the Ethernet address behind which a client outside the cluster reached this node
// (the source MAC of the first packet of its connection on the uplink), so that the replies of
// NodePort, load-balancer and external-IP connections go back out of the uplink to it — the
// client itself on the underlay segment, or the router it came through. Learned by ct_commit for
// connections that enter from the uplink; read by ip4_lookup and ip4_forward for conntrack replies
// whose destination is neither a pod nor a remote pod CIDR.
// Direct-mapped (a client's slot from a hash of its address; a newer client may take an older
// one's slot: its replies then find no peer and are dropped as no_route until it sends again).
// Process-wide and long-lived like the conntrack table; written by workers without locks: a slot
// is two 64-bit words that both carry the address, so a reader that sees half of another writer's
// update finds the addresses disagree and reads a miss.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace nodeplane::dp {

class UplinkPeers {
 public:
  UplinkPeers() = default;
  ~UplinkPeers();
  UplinkPeers(const UplinkPeers&) = delete;
  UplinkPeers& operator=(const UplinkPeers&) = delete;

  // Control thread, once: `slots` rounded up to a power of two; EAL memory.
  bool Init(uint32_t slots, std::string* error);

  // Workers. Addresses in network order.
  void Learn(uint32_t ip_be, const uint8_t* mac) noexcept {
    Slot& s = slots_[Index(ip_be)];
    const uint64_t w0 = uint64_t{ip_be} | (uint64_t{mac[0]} << 32) | (uint64_t{mac[1]} << 40) |
                        (uint64_t{mac[2]} << 48) | (uint64_t{mac[3]} << 56);
    const uint64_t w1 = uint64_t{mac[4]} | (uint64_t{mac[5]} << 8) | (uint64_t{ip_be} << 16);
    if (s.w0.load(std::memory_order_relaxed) == w0 && s.w1.load(std::memory_order_relaxed) == w1) {
      return;  // already known: no store, no cache-line ping-pong
    }
    s.w0.store(w0, std::memory_order_relaxed);
    s.w1.store(w1, std::memory_order_relaxed);
  }
  bool Find(uint32_t ip_be, std::array<uint8_t, 6>* mac) const noexcept {
    if (slots_ == nullptr) return false;
    const Slot& s = slots_[Index(ip_be)];
    const uint64_t w0 = s.w0.load(std::memory_order_relaxed);
    const uint64_t w1 = s.w1.load(std::memory_order_relaxed);
    if (static_cast<uint32_t>(w0) != ip_be || static_cast<uint32_t>(w1 >> 16) != ip_be ||
        ip_be == 0) {
      return false;
    }
    *mac = {static_cast<uint8_t>(w0 >> 32), static_cast<uint8_t>(w0 >> 40),
            static_cast<uint8_t>(w0 >> 48), static_cast<uint8_t>(w0 >> 56),
            static_cast<uint8_t>(w1), static_cast<uint8_t>(w1 >> 8)};
    return true;
  }

 private:
  struct Slot {
    std::atomic<uint64_t> w0;  // dp: rw  address | MAC bytes 0-3
    std::atomic<uint64_t> w1;  // dp: rw  MAC bytes 4-5 | address << 16
  };
  uint32_t Index(uint32_t ip_be) const noexcept {
    return static_cast<uint32_t>((uint64_t{ip_be} * 0x9e3779b97f4a7c15ull) >> 32) & mask_;
  }
  Slot* slots_ = nullptr;
  uint32_t mask_ = 0;
};

}  // namespace nodeplane::dp
