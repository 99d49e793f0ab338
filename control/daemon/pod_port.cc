#include "control/daemon/pod_port.h"

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <cstdio>

#include "control/netns/veth.h"

namespace nodeplane::ctl {
namespace {

constexpr std::string_view kTapPrefix = "net_tap_";
constexpr std::string_view kAfPacketPrefix = "net_af_packet_";

// The packet rings of an af_packet port, per queue and direction: 1024 frames of 2048 bytes, two
// frames per 4 KiB block so no block needs more than one page (4 MiB of locked memory per queue
// pair). 1024 frames buffer about what a tap's kernel queue does (1000 packets); with 512, TCP
// between two pods retransmitted tens of thousands of segments in 5 s whenever the worker was
// preempted (perf/pod_ports/README.md). Transmit bypasses the veth's qdisc: the dataplane queues.
constexpr const char* kAfPacketRing = ",qdisc_bypass=1,blocksz=4096,framesz=2048,framecnt=1024";

absl::StatusOr<PodPort> CreateTapPort(dp::Ports& ports, const std::string& name,
                                      PodInterfaceConfig cfg) {
  PodPort out;
  std::string error;
  // net_tap creates the kernel interface `name` in our namespace; it is then moved into the pod.
  // The tap's kernel side carries the port's own MAC, so that is the pod's MAC too.
  if (!ports.Add(std::string(kTapPrefix) + name + ",iface=" + name, &out.port, &error)) {
    return absl::ResourceExhaustedError("pod port: " + error);
  }
  cfg.host_ifname = name;
  if (absl::Status s = ConfigurePodInterface(cfg); !s.ok()) {
    ports.Remove(out.port.port_id, &error);
    return s;
  }
  out.pod_mac = out.port.mac;
  return out;
}

// The veth's host end is `name`, its peer `name` + "p" until it becomes the pod's interface.
absl::StatusOr<PodPort> CreateAfPacketPort(dp::Ports& ports, const std::string& name,
                                           PodInterfaceConfig cfg) {
  if (cfg.mtu > kAfPacketMaxMtu) {
    return absl::InvalidArgumentError("mtu " + std::to_string(cfg.mtu) + ": above " +
                                      std::to_string(kAfPacketMaxMtu) +
                                      ", the largest an af_packet pod port carries");
  }
  const std::string peer = name + "p";
  auto veth = CreateVethPair(name, peer, cfg.mtu);
  if (!veth.ok()) return veth.status();

  PodPort out;
  std::string error;
  // One queue pair per worker (every EAL lcore runs one): each worker transmits on its own queue.
  const std::string devargs = std::string(kAfPacketPrefix) + name + ",iface=" + name +
                              ",qpairs=" + std::to_string(rte_lcore_count()) + kAfPacketRing;
  if (!ports.Add(devargs, &out.port, &error)) {
    (void)DeleteLocalLink(name);
    return absl::ResourceExhaustedError("pod port: " + error);
  }
  cfg.host_ifname = peer;
  if (absl::Status s = ConfigurePodInterface(cfg); !s.ok()) {
    ports.Remove(out.port.port_id, &error);
    (void)DeleteLocalLink(name);  // takes the peer along, wherever the undo left it
    return s;
  }
  out.pod_mac = veth->peer.mac;  // a veth keeps its MAC when it changes namespace and name
  return out;
}

// The pod's MAC: locally administered, the pod's IPv4 address in the last four bytes.
// Named by a counter, not by `name`: net_ring names its rings after the device, and ring names
// hold at most 31 characters.
absl::StatusOr<PodPort> CreateRingPort(dp::Ports& ports, const PodInterfaceConfig& cfg) {
  static uint32_t seq = 0;  // control thread only (the Applier serialises)
  PodPort out;
  std::string error;
  if (!ports.Add("net_ring_p" + std::to_string(seq++), &out.port, &error)) {
    return absl::ResourceExhaustedError("pod port: " + error);
  }
  const uint32_t ip = cfg.addrs.empty() ? 0 : cfg.addrs.front().host();
  out.pod_mac = Mac{{0x02, 0x00, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                     static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)}};
  return out;
}

}  // namespace

std::string_view PodPortTypeName(PodPortType type) {
  switch (type) {
    case PodPortType::kTap:
      return "tap";
    case PodPortType::kAfPacket:
      return "af_packet";
    case PodPortType::kRing:
      return "ring";
  }
  return "?";
}

std::optional<PodPortType> ParsePodPortType(std::string_view name) {
  for (PodPortType t : {PodPortType::kTap, PodPortType::kAfPacket}) {
    if (name == PodPortTypeName(t)) return t;
  }
  return std::nullopt;
}

absl::StatusOr<PodPort> CreatePodPort(PodPortType type, dp::Ports& ports, const std::string& name,
                                      PodInterfaceConfig cfg) {
  switch (type) {
    case PodPortType::kTap:
      return CreateTapPort(ports, name, std::move(cfg));
    case PodPortType::kAfPacket:
      return CreateAfPacketPort(ports, name, std::move(cfg));
    case PodPortType::kRing:
      return CreateRingPort(ports, cfg);
  }
  return absl::InvalidArgumentError("pod port: unknown type");
}

void DestroyPodPort(PodPortType type, dp::Ports& ports, const Attachment& att) {
  std::string error;
  // Only while the id still names this device: after a first destroy it may be another port's.
  uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(att.device.c_str(), &port_id) == 0 && port_id == att.port_id &&
      !ports.Remove(att.port_id, &error)) {
    std::fprintf(stderr, "nodeplaned: removing port of %s: %s\n", att.key.ToString().c_str(),
                 error.c_str());
  }
  if (type == PodPortType::kAfPacket && att.device.starts_with(kAfPacketPrefix)) {
    // Deleting the host end deletes the pod's end too.
    const std::string host_end = att.device.substr(kAfPacketPrefix.size());
    if (absl::Status s = DeleteLocalLink(host_end); !s.ok()) {
      std::fprintf(stderr, "nodeplaned: deleting veth of %s: %s\n", att.key.ToString().c_str(),
                   std::string(s.message()).c_str());
    }
  }
  if (type == PodPortType::kRing) return;  // no kernel side
  (void)DeleteLinkInNetns(att.netns, att.ifname);  // normally gone with the port already
}

}  // namespace nodeplane::ctl
