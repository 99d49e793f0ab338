// SpecBuilder and the standard test topology: a SnapshotSpec written the way tests read best
// (uplink, host port, pods), built into a real Snapshot on the test EAL.
#pragma once
#include <cstdint>
#include <memory>

#include "dataplane/core/snapshot.h"
#include "dataplane/core/snapshot_spec.h"
#include "nodeplane/addr.h"

namespace nodeplane::dp::testing {

// The addresses of the standard topology, shared by every stage test.
struct Topo {
  static constexpr uint16_t kUplink = 0;
  static constexpr uint16_t kHost = 1;
  static constexpr uint16_t kPodA = 2;
  static constexpr uint16_t kPodB = 3;
  static constexpr uint16_t kAbsent = 7;  // a port id no snapshot of the topology lists

  static Mac GatewayMac();  // ee:ee:ee:ee:ee:ee, ours on pod and host ports
  static Mac UplinkMac();   // 02:00:00:00:00:10, the NIC's
  static Mac HostMac();     // 02:00:00:00:00:11, the host kernel's tap
  static Mac PodAMac();     // 02:00:0a:f4:01:02, pod A's eth0
  static Mac PodBMac();     // 02:00:0a:f4:01:03
  static Mac RouterMac();   // 02:00:00:00:00:99, the next hop on the uplink's wire
  static Ip4 NodeIp();      // 192.168.1.10
  static Ip4 PodGateway();  // 169.254.1.1
  static Ip4 PodAIp();      // 10.244.1.2
  static Ip4 PodBIp();      // 10.244.1.3
  static Ip4 RemoteIp();    // 192.168.1.20, somewhere beyond the uplink
};

class SpecBuilder {
 public:
  SpecBuilder& Uplink(uint16_t id, Mac mac, Ip4 node_ip);
  SpecBuilder& Host(uint16_t id, Mac gateway_mac, Mac kernel_mac, Ip4 node_ip);
  SpecBuilder& Pod(uint16_t id, Ip4 pod_ip, Mac pod_mac, Mac gateway_mac, Ip4 gateway_ip);
  SpecBuilder& Route(Ip4 dst, uint16_t port);
  SpecBuilder& Workers(uint16_t n);
  SpecBuilder& Generation(uint64_t g);
  SpecBuilder& TxQueues(uint16_t n);  // for every port added after this call

  const SnapshotSpec& spec() const { return spec_; }
  SnapshotSpec& mutable_spec() { return spec_; }
  // Aborts the binary with BuildSnapshot's error: a test's own topology must be valid.
  std::unique_ptr<Snapshot> Build() const;

 private:
  SnapshotSpec spec_;
  uint16_t tx_queues_ = 1;
};

// Port ids to lay the standard topology on (real ports in pipeline tests).
struct TopoPorts {
  uint16_t uplink = Topo::kUplink;
  uint16_t host = Topo::kHost;
  uint16_t pod_a = Topo::kPodA;
  uint16_t pod_b = Topo::kPodB;
};

// Uplink 0, host 1, pods A (2) and B (3), routes to both pods and the node address (→ host).
SpecBuilder StandardTopology(TopoPorts ids = {});
// The same without a host port and its route (punts have nowhere to go).
SpecBuilder TopologyWithoutHost();
// The same without an uplink (host traffic has nowhere to go).
SpecBuilder TopologyWithoutUplink();

}  // namespace nodeplane::dp::testing
