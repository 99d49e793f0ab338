// Ports: adds and removes DPDK ports at run time (hot-plug through rte_dev_probe), configured with
// one tx queue per worker and up to one rx queue per worker. Control thread only. A port is
// removed only after a snapshot without it has been published, so no worker polls or sends to it.
#pragma once
#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "nodeplane/addr.h"

namespace nodeplane::dp {

struct PortInfo {
  uint16_t port_id = 0;
  uint16_t rx_queues = 0;
  uint16_t tx_queues = 0;
  Mac mac;
  uint16_t mtu = 1500;  // rte_eth_dev_get_mtu: the largest IPv4 packet the port sends
  std::string name;     // the DPDK device name (the devargs up to the first comma)
};

class Ports {
 public:
  static constexpr uint16_t kRxDesc = 512;
  static constexpr uint16_t kTxDesc = 512;

  Ports(rte_mempool* pool, uint16_t workers) : pool_(pool), workers_(workers) {}

  // Probes `devargs` (e.g. "net_tap_p1,iface=np1"), configures and starts it. With `control_tx`,
  // one more tx queue than workers when the device has it (queue index = workers, for a control
  // thread's own sends; info->tx_queues says whether it got it).
  bool Add(const std::string& devargs, PortInfo* info, std::string* error, bool control_tx = false);
  // Stops, closes and unplugs it. The caller has already published a snapshot without it.
  bool Remove(uint16_t port_id, std::string* error);

 private:
  bool Configure(uint16_t port_id, PortInfo* info, std::string* error, bool control_tx);

  rte_mempool* pool_;
  uint16_t workers_;
};

// The mbuf pool every port receives into; each mbuf carries a PacketMeta in its private area.
rte_mempool* CreatePacketPool(uint32_t mbufs, std::string* error);

}  // namespace nodeplane::dp
