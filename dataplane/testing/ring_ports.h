// RingPorts: real DPDK ports for pipeline-level tests, as net_ring loopback vdevs added through
// dp::Ports (what a port transmits on queue q, it receives on queue q). Tests inject frames into
// RunPipeline or a Worker and read back what each port sent.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/core/ports.h"
#include "dataplane/testing/packet_builder.h"

namespace nodeplane::dp::testing {

class RingPorts {
 public:
  explicit RingPorts(uint16_t workers = 1);
  ~RingPorts();  // removes every port it added
  RingPorts(const RingPorts&) = delete;
  RingPorts& operator=(const RingPorts&) = delete;

  // Adds one loopback port; aborts the binary if the vdev cannot be created.
  uint16_t Add();

  // Puts frames on the port's receive side (queue 0), as if they had arrived from the wire.
  void Inject(uint16_t port, const std::vector<Bytes>& frames);
  // Takes everything the port has transmitted so far (all queues), oldest first per queue.
  std::vector<Bytes> Drain(uint16_t port);
  // Takes what was transmitted on one tx queue.
  std::vector<Bytes> DrainQueue(uint16_t port, uint16_t queue);

 private:
  Ports ports_;
  std::vector<uint16_t> added_;
};

}  // namespace nodeplane::dp::testing
