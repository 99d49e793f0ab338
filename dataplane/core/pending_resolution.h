// PendingResolution: the few packets a worker holds while a remote node's underlay next hop is
// being resolved (ARP), so the first packets of a flow to a node just learned of are delayed, not
// lost — what the kernel's neighbour layer does with its unresolved queue. Bounded twice: per
// worker (kCapacity) and per remote node (kPerNode); past either, or kHoldSeconds after parking,
// a packet is dropped as neighbor_unresolved. Worker-owned: no sharing, no locks.
//   vxlan_encap parks (Edge::kHold); the worker releases once per loop iteration (Release):
//   packets whose node became resolved go back through vxlan_encap, expired ones are dropped.
#pragma once
#include <rte_mbuf.h>

#include <cstdint>

namespace nodeplane::dp {

class PendingResolution {
 public:
  static constexpr uint16_t kCapacity = 32;
  static constexpr uint16_t kPerNode = 4;
  static constexpr uint64_t kHoldSeconds = 1;

  // False when either bound is reached (the caller drops the packet).
  bool Park(rte_mbuf* m, uint32_t remote_slot, uint64_t deadline_tsc) noexcept {
    if (n_ == kCapacity) return false;
    uint16_t same = 0;
    for (uint16_t i = 0; i < n_; ++i) same += slot_[i] == remote_slot;
    if (same >= kPerNode) return false;
    pkts_[n_] = m;
    slot_[n_] = remote_slot;
    deadline_[n_] = deadline_tsc;
    ++n_;
    return true;
  }

  // Hands every parked packet to `decide(m, slot, deadline)`, which returns true to take it (the
  // caller then owns it) or false to keep it parked. Keeps the parking order.
  template <typename Decide>
  void Release(Decide&& decide) noexcept {
    uint16_t kept = 0;
    for (uint16_t i = 0; i < n_; ++i) {
      if (decide(pkts_[i], slot_[i], deadline_[i])) continue;
      pkts_[kept] = pkts_[i];
      slot_[kept] = slot_[i];
      deadline_[kept] = deadline_[i];
      ++kept;
    }
    n_ = kept;
  }

  uint16_t size() const noexcept { return n_; }

  ~PendingResolution() {
    if (n_ != 0) rte_pktmbuf_free_bulk(pkts_, n_);
  }

 private:
  uint16_t n_ = 0;
  rte_mbuf* pkts_[kCapacity];
  uint32_t slot_[kCapacity];
  uint64_t deadline_[kCapacity];
};

}  // namespace nodeplane::dp
