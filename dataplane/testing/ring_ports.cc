// RingPorts: net_ring loopback vdevs for pipeline tests.
#include "dataplane/testing/ring_ports.h"

#include <rte_ethdev.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp::testing {

RingPorts::RingPorts(uint16_t workers) : ports_(Eal().pool, workers) {}

RingPorts::~RingPorts() {
  for (uint16_t id : added_) {
    Drain(id);  // give the mbufs back before the port goes
    std::string error;
    if (!ports_.Remove(id, &error)) std::fprintf(stderr, "RingPorts: %s\n", error.c_str());
  }
}

uint16_t RingPorts::Add() {
  static std::atomic<unsigned> seq{0};
  const std::string name = "net_ring_t" + std::to_string(seq.fetch_add(1));
  PortInfo info;
  std::string error;
  if (!ports_.Add(name, &info, &error)) {
    std::fprintf(stderr, "RingPorts: %s\n", error.c_str());
    std::abort();
  }
  added_.push_back(info.port_id);
  return info.port_id;
}

void RingPorts::Inject(uint16_t port, const std::vector<Bytes>& frames) {
  std::vector<rte_mbuf*> mbufs;
  for (const Bytes& f : frames) mbufs.push_back(ToMbuf(f, port));
  uint16_t sent = 0;
  while (sent < mbufs.size()) {
    const uint16_t n =
        rte_eth_tx_burst(port, 0, mbufs.data() + sent, static_cast<uint16_t>(mbufs.size() - sent));
    if (n == 0) {
      std::fprintf(stderr, "RingPorts: port %u's ring is full\n", port);
      std::abort();
    }
    sent = static_cast<uint16_t>(sent + n);
  }
}

std::vector<Bytes> RingPorts::Drain(uint16_t port) {
  std::vector<Bytes> out;
  rte_eth_dev_info dev{};
  rte_eth_dev_info_get(port, &dev);
  for (uint16_t q = 0; q < dev.nb_rx_queues; ++q) {
    std::vector<Bytes> more = DrainQueue(port, q);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<Bytes> RingPorts::DrainQueue(uint16_t port, uint16_t queue) {
  std::vector<Bytes> out;
  rte_mbuf* pkts[32];
  uint16_t n;
  while ((n = rte_eth_rx_burst(port, queue, pkts, 32)) != 0) {
    for (uint16_t i = 0; i < n; ++i) {
      out.push_back(FromMbuf(pkts[i]));
      rte_pktmbuf_free(pkts[i]);
    }
  }
  return out;
}

}  // namespace nodeplane::dp::testing
