// ControlTx: frames the control plane wants sent on a port (ARP requests for underlay next hops),
// handed to a worker that sends them from its own tx queue. Needed because an uplink may have one
// tx queue per worker and none to spare (net_af_packet, net_tap): control never touches a queue a
// worker owns.
//   Producers: control threads (multi-producer enqueue), never blocking: full → the caller frees.
//   Consumer:  worker 0, once per loop iteration, a bounded number of frames (kDrainMax).
// The port is carried in the mbuf's `port` field; the frame is sent as is.
#pragma once
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <memory>
#include <string>

namespace nodeplane::dp {

class ControlTx {
 public:
  static constexpr unsigned kDrainMax = 8;  // per iteration: control frames never crowd out traffic

  // `capacity` is rounded up to a power of two; nullptr (and *error) when the ring cannot be made.
  static std::unique_ptr<ControlTx> Create(const std::string& name, unsigned capacity, int socket_id,
                                           std::string* error);
  ~ControlTx();  // frees frames nobody sent
  ControlTx(const ControlTx&) = delete;
  ControlTx& operator=(const ControlTx&) = delete;

  // Control side: queues `m` for `port`; false when full (the caller still owns `m`).
  bool Offer(rte_mbuf* m, uint16_t port) noexcept {
    m->port = port;
    return rte_ring_mp_enqueue(ring_, m) == 0;
  }
  // Worker side (one consumer): up to `max` frames.
  unsigned Drain(rte_mbuf** out, unsigned max) noexcept {
    return rte_ring_sc_dequeue_burst(ring_, reinterpret_cast<void**>(out), max, nullptr);
  }

 private:
  explicit ControlTx(rte_ring* ring) : ring_(ring) {}
  rte_ring* ring_;  // ctl: enqueue (MP), dp: dequeue (SC); owned
};

}  // namespace nodeplane::dp
