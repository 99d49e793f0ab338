// The standard test topology and SpecBuilder.
#include "dataplane/testing/topology.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp::testing {

Mac Topo::GatewayMac() { return M("ee:ee:ee:ee:ee:ee"); }
Mac Topo::UplinkMac() { return M("02:00:00:00:00:10"); }
Mac Topo::HostMac() { return M("02:00:00:00:00:11"); }
Mac Topo::PodAMac() { return M("02:00:0a:f4:01:02"); }
Mac Topo::PodBMac() { return M("02:00:0a:f4:01:03"); }
Mac Topo::RouterMac() { return M("02:00:00:00:00:99"); }
Ip4 Topo::NodeIp() { return A("192.168.1.10"); }
Ip4 Topo::PodGateway() { return A("169.254.1.1"); }
Ip4 Topo::PodAIp() { return A("10.244.1.2"); }
Ip4 Topo::PodBIp() { return A("10.244.1.3"); }
Ip4 Topo::RemoteIp() { return A("192.168.1.20"); }

SpecBuilder& SpecBuilder::Uplink(uint16_t id, Mac mac, Ip4 node_ip) {
  spec_.ports.push_back(PortSpec{id, PortKind::kUplink, mac, Mac{}, node_ip, Ip4{}, 1, tx_queues_});
  return *this;
}

SpecBuilder& SpecBuilder::Host(uint16_t id, Mac gateway_mac, Mac kernel_mac, Ip4 node_ip) {
  spec_.ports.push_back(
      PortSpec{id, PortKind::kHost, gateway_mac, kernel_mac, node_ip, Ip4{}, 1, tx_queues_});
  return *this;
}

SpecBuilder& SpecBuilder::Pod(uint16_t id, Ip4 pod_ip, Mac pod_mac, Mac gateway_mac,
                              Ip4 gateway_ip) {
  spec_.ports.push_back(
      PortSpec{id, PortKind::kPod, gateway_mac, pod_mac, gateway_ip, pod_ip, 1, tx_queues_});
  return *this;
}

SpecBuilder& SpecBuilder::Route(Ip4 dst, uint16_t port) {
  spec_.routes.push_back(RouteSpec{dst, port});
  return *this;
}

SpecBuilder& SpecBuilder::Workers(uint16_t n) {
  spec_.worker_count = n;
  return *this;
}

SpecBuilder& SpecBuilder::Generation(uint64_t g) {
  spec_.generation = g;
  return *this;
}

SpecBuilder& SpecBuilder::TxQueues(uint16_t n) {
  tx_queues_ = n;
  return *this;
}

std::unique_ptr<Snapshot> SpecBuilder::Build() const {
  Eal();
  std::string error;
  auto snap = BuildSnapshot(spec_, &error);
  if (snap == nullptr) {
    std::fprintf(stderr, "test topology rejected: %s\n", error.c_str());
    std::abort();
  }
  return snap;
}

namespace {

SpecBuilder Base(bool uplink, bool host, const TopoPorts& id) {
  SpecBuilder b;
  if (uplink) b.Uplink(id.uplink, Topo::UplinkMac(), Topo::NodeIp());
  if (host) b.Host(id.host, Topo::GatewayMac(), Topo::HostMac(), Topo::NodeIp());
  b.Pod(id.pod_a, Topo::PodAIp(), Topo::PodAMac(), Topo::GatewayMac(), Topo::PodGateway())
      .Pod(id.pod_b, Topo::PodBIp(), Topo::PodBMac(), Topo::GatewayMac(), Topo::PodGateway())
      .Route(Topo::PodAIp(), id.pod_a)
      .Route(Topo::PodBIp(), id.pod_b);
  if (host) b.Route(Topo::NodeIp(), id.host);
  return b;
}

}  // namespace

SpecBuilder StandardTopology(TopoPorts ids) { return Base(true, true, ids); }
SpecBuilder TopologyWithoutHost() { return Base(true, false, {}); }
SpecBuilder TopologyWithoutUplink() { return Base(false, true, {}); }

}  // namespace nodeplane::dp::testing
