// A pod's port: the DPDK port on the dataplane side and the interface it shows inside the pod's
// network namespace, created and destroyed together so neither outlives the other.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "control/model/desired_state.h"
#include "control/netns/pod_interface.h"
#include "dataplane/core/ports.h"

namespace nodeplane::ctl {

// Both kinds behave the same seen from the pod (an eth0 with its own MAC) and from the dataplane;
// they differ in how frames cross the kernel. Measured side by side in perf/pod_ports/.
enum class PodPortType {
  kTap,       // DPDK net_tap; its kernel side is moved into the pod
  kAfPacket,  // a veth pair: one end moved into the pod, the other served by DPDK net_af_packet
  // A DPDK net_ring loopback with no kernel side and no network namespace: whoever drives the
  // dataplane reads and writes the pod's frames itself (the NetworkPolicy conformance runner).
  // Not selectable for nodeplaned.
  kRing,
};

// "tap", "af_packet".
std::string_view PodPortTypeName(PodPortType type);
std::optional<PodPortType> ParsePodPortType(std::string_view name);

// The largest pod MTU an af_packet port carries. Its ring frames are 2048 bytes (so a received
// frame fits one default mbuf), and the kernel's frame header and alignment take 66 of them, so
// Ethernet frames up to 1982 bytes fit; 1900 keeps a margin (a VLAN tag, a larger header).
inline constexpr uint32_t kAfPacketMaxMtu = 1900;

struct PodPort {
  dp::PortInfo port;  // the DPDK side
  Mac pod_mac;        // the MAC of the interface inside the pod (the next hop the dataplane uses)
};

// Creates the port and wires `cfg.ifname` into `cfg.netns_path` (cfg.host_ifname is chosen here).
// `name` (at most 13 characters) names the DPDK device and the kernel links in nodeplaned's
// namespace. On failure nothing is left behind.
absl::StatusOr<PodPort> CreatePodPort(PodPortType type, dp::Ports& ports, const std::string& name,
                                      PodInterfaceConfig cfg);

// Removes the port; the pod's interface goes with it. Called after a snapshot without the port
// has been published. Idempotent: whatever is already gone is skipped.
void DestroyPodPort(PodPortType type, dp::Ports& ports, const Attachment& att);

}  // namespace nodeplane::ctl
