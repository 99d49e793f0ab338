#include "dataplane/core/ports.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/core/packet_meta.h"

namespace nodeplane::dp {
namespace {

std::string Errno(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

}  // namespace

rte_mempool* CreatePacketPool(uint32_t mbufs, std::string* error) {
  rte_mempool* pool = rte_pktmbuf_pool_create("np_pkts", mbufs, 256, sizeof(PacketMeta),
                                              RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) *error = std::string("mbuf pool: ") + rte_strerror(rte_errno);
  return pool;
}

bool Ports::Add(const std::string& devargs, PortInfo* info, std::string* error,
               bool control_tx) {
  info->name = devargs.substr(0, devargs.find(','));
  uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(info->name.c_str(), &port_id) == 0) {
    *error = "device " + info->name + " already exists";
    return false;
  }
  const int rc = rte_dev_probe(devargs.c_str());
  if (rc != 0) {
    *error = "probe " + devargs + ": " + Errno(rc);
    return false;
  }
  if (rte_eth_dev_get_port_by_name(info->name.c_str(), &port_id) != 0) {
    *error = "probe " + devargs + " created no ethernet port named " + info->name;
    rte_eal_hotplug_remove("vdev", info->name.c_str());
    return false;
  }
  if (!Configure(port_id, info, error, control_tx)) {
    std::string ignored;
    Remove(port_id, &ignored);
    return false;
  }
  return true;
}

bool Ports::Configure(uint16_t port_id, PortInfo* info, std::string* error, bool control_tx) {
  rte_eth_dev_info dev{};
  int rc = rte_eth_dev_info_get(port_id, &dev);
  if (rc != 0) {
    *error = "dev_info " + info->name + ": " + Errno(rc);
    return false;
  }
  if (dev.max_tx_queues < workers_) {
    *error = info->name + " has " + std::to_string(dev.max_tx_queues) + " tx queues, need one per worker";
    return false;
  }
  info->port_id = port_id;
  info->rx_queues = std::min<uint16_t>(workers_, dev.max_rx_queues);
  info->tx_queues = control_tx && dev.max_tx_queues > workers_ ? workers_ + 1 : workers_;
  rte_eth_conf conf{};
  if (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;  // eth_parse trusts a GOOD flag
  }
  if (info->rx_queues > 1) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
  conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & dev.flow_type_rss_offloads;
  rc = rte_eth_dev_configure(port_id, info->rx_queues, info->tx_queues, &conf);
  if (rc != 0 && info->tx_queues > workers_) {
    // Some devices (net_tap) want as many tx queues as rx queues: no control queue then.
    info->tx_queues = workers_;
    rc = rte_eth_dev_configure(port_id, info->rx_queues, info->tx_queues, &conf);
  }
  if (rc != 0) {
    *error = "configure " + info->name + ": " + Errno(rc);
    return false;
  }
  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < info->rx_queues; ++q) {
    rc = rte_eth_rx_queue_setup(port_id, q, kRxDesc, socket, nullptr, pool_);
    if (rc != 0) {
      *error = "rx queue " + info->name + ": " + Errno(rc);
      return false;
    }
  }
  for (uint16_t q = 0; q < info->tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(port_id, q, kTxDesc, socket, nullptr);
    if (rc != 0) {
      *error = "tx queue " + info->name + ": " + Errno(rc);
      return false;
    }
  }
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) {
    *error = "start " + info->name + ": " + Errno(rc);
    return false;
  }
  rte_ether_addr mac;
  rte_eth_macaddr_get(port_id, &mac);
  std::copy(mac.addr_bytes, mac.addr_bytes + 6, info->mac.bytes.begin());
  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(port_id, &mtu) == 0 && mtu != 0) info->mtu = mtu;
  return true;
}

bool Ports::Remove(uint16_t port_id, std::string* error) {
  rte_eth_dev_info dev{};
  const bool have_dev = rte_eth_dev_info_get(port_id, &dev) == 0 && dev.device != nullptr;
  rte_eth_dev_stop(port_id);
  int rc = rte_eth_dev_close(port_id);
  if (rc != 0) {
    *error = "close port " + std::to_string(port_id) + ": " + Errno(rc);
    return false;
  }
  if (have_dev) {
    rc = rte_dev_remove(dev.device);
    if (rc != 0) {
      *error = "unplug port " + std::to_string(port_id) + ": " + Errno(rc);
      return false;
    }
  }
  return true;
}

}  // namespace nodeplane::dp
