// NeighborEvents: the bounded, lock-free channel from the workers to the control plane's underlay
// resolver (control/daemon/neighbor_resolver.h). A worker that sees an ARP packet on the uplink
// from an address the snapshot lists as wanted (Snapshot::wanted_neighbors) reports (address, MAC)
// here; the resolver drains it every ~100 ms.
//   Producers: any worker (multi-producer enqueue), never blocking: a full ring drops the event
//              and the caller counts it (Counter::kNeighborEventsLost).
//   Consumer:  one control thread (RING_F_SC_DEQ).
// One rte_ring of fixed-size elements (rte_ring_create_elem); nothing is allocated per event.
#pragma once
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace nodeplane::dp {

struct NeighborEvent {
  uint32_t ip = 0;              // network order: the ARP sender's protocol address
  std::array<uint8_t, 6> mac{}; // the ARP sender's hardware address
  uint16_t reserved = 0;
};
static_assert(sizeof(NeighborEvent) == 12 && sizeof(NeighborEvent) % 4 == 0);

class NeighborEvents {
 public:
  // `capacity` is rounded up to a power of two; nullptr (and *error) when the ring cannot be made.
  static std::unique_ptr<NeighborEvents> Create(const std::string& name, unsigned capacity,
                                                int socket_id, std::string* error);
  ~NeighborEvents();
  NeighborEvents(const NeighborEvents&) = delete;
  NeighborEvents& operator=(const NeighborEvents&) = delete;

  // Worker side: false when the ring is full (the event is lost; the caller counts it).
  bool Offer(const NeighborEvent& e) noexcept {
    return rte_ring_mp_enqueue_elem(ring_, const_cast<NeighborEvent*>(&e), sizeof(e)) == 0;
  }
  // Control side (one thread): up to `max` events into `out`; returns how many.
  unsigned Drain(NeighborEvent* out, unsigned max) noexcept {
    return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(NeighborEvent), max, nullptr);
  }
  unsigned capacity() const noexcept { return rte_ring_get_capacity(ring_); }

 private:
  explicit NeighborEvents(rte_ring* ring) : ring_(ring) {}
  rte_ring* ring_;  // dp: enqueue (MP), ctl: dequeue (SC); owned
};

}  // namespace nodeplane::dp
