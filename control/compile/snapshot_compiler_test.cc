// Unit tests of CompileSnapshot: attached pods become pod ports with /32 routes, the node's
// addresses route to the host port, uplink and host ports carry the runtime MACs, and the output
// depends on nothing but the input (deterministic, insertion-order independent).
#include "control/compile/snapshot_compiler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
Mac M(const char* s) { return *Mac::Parse(s); }

std::string Describe(const dp::PortSpec& p) {
  return "port " + std::to_string(p.port_id) + " kind " + std::to_string(static_cast<int>(p.kind)) +
         " mac " + p.mac.ToString() + " peer " + p.peer_mac.ToString() + " gw " +
         p.gateway_ip.ToString() + " pod " + p.pod_ip.ToString() + " rxq " +
         std::to_string(p.rx_queues) + " txq " + std::to_string(p.tx_queues);
}

// A readable, complete rendering of a spec: equal specs render equal.
std::string Describe(const dp::SnapshotSpec& s) {
  std::string out = "generation " + std::to_string(s.generation) + ", workers " +
                    std::to_string(s.worker_count) + "\n";
  for (const auto& p : s.ports) out += Describe(p) + "\n";
  for (const auto& r : s.routes) {
    out += "route " + r.dst.ToString() + " -> " + std::to_string(r.port_id) + "\n";
  }
  return out;
}

void AddPod(DesiredState& s, const std::string& name, const char* ip, uint16_t port,
            const char* mac) {
  const PodKey key{"default", name};
  s.pods[key] = PodModel{.key = key, .ips = {A(ip)}, .node_name = "node-a"};
  s.attachments[key] =
      Attachment{.key = key, .mac = M(mac), .port_id = port, .rx_queues = 1, .tx_queues = 2};
}

DesiredState TwoPods() {
  DesiredState s;
  s.node = NodeModel{.name = "node-a",
                     .addresses = {Ip4Prefix{A("192.168.1.10"), 24}, Ip4Prefix{A("10.0.0.5"), 32}},
                     .pod_cidrs = {*Ip4Prefix::Parse("10.244.1.0/24")},
                     .pod_gateway = A("169.254.1.1")};
  AddPod(s, "a", "10.244.1.2", 2, "02:00:0a:f4:01:02");
  AddPod(s, "b", "10.244.1.3", 3, "02:00:0a:f4:01:03");
  const PodKey remote{"default", "elsewhere"};
  s.pods[remote] = PodModel{.key = remote, .ips = {A("10.244.2.7")}, .node_name = "node-b"};
  return s;
}

RuntimePorts Runtime() {
  RuntimePorts rt;
  rt.worker_count = 2;
  rt.uplink = RuntimePort{0, M("02:00:00:00:00:10"), 2, 2};
  rt.host = RuntimePort{1, M("02:00:00:00:00:11"), 1, 2};
  return rt;
}

const dp::PortSpec* Find(const dp::SnapshotSpec& s, uint16_t id) {
  for (const auto& p : s.ports) {
    if (p.port_id == id) return &p;
  }
  return nullptr;
}

TEST(CompileSnapshot, AttachedPodsBecomePodPortsWithRoutes) {
  const dp::SnapshotSpec spec = CompileSnapshot(TwoPods(), Runtime(), 9);
  const dp::PortSpec* a = Find(spec, 2);
  ASSERT_NE(a, nullptr) << Describe(spec);
  EXPECT_EQ(a->kind, dp::PortKind::kPod);
  EXPECT_EQ(a->mac, kGatewayMac) << "pods see the gateway MAC";
  EXPECT_EQ(a->peer_mac, M("02:00:0a:f4:01:02")) << "frames to the pod go to its eth0";
  EXPECT_EQ(a->gateway_ip, A("169.254.1.1"));
  EXPECT_EQ(a->pod_ip, A("10.244.1.2"));
  EXPECT_EQ(a->rx_queues, 1);
  EXPECT_EQ(a->tx_queues, 2);
  ASSERT_NE(Find(spec, 3), nullptr);
  EXPECT_EQ(Find(spec, 3)->pod_ip, A("10.244.1.3"));

  int pod_routes = 0;
  for (const auto& r : spec.routes) {
    if (r.dst == A("10.244.1.2")) {
      EXPECT_EQ(r.port_id, 2);
    }
    if (r.dst == A("10.244.1.3")) {
      EXPECT_EQ(r.port_id, 3);
    }
    if (r.dst == A("10.244.1.2") || r.dst == A("10.244.1.3")) ++pod_routes;
    EXPECT_NE(r.dst, A("10.244.2.7")) << "a pod on another node is not routed locally";
  }
  EXPECT_EQ(pod_routes, 2) << Describe(spec);
}

TEST(CompileSnapshot, NodeAddressesRouteToTheHostPort) {
  const dp::SnapshotSpec spec = CompileSnapshot(TwoPods(), Runtime(), 9);
  int host_routes = 0;
  for (const auto& r : spec.routes) {
    if (r.dst == A("192.168.1.10") || r.dst == A("10.0.0.5")) {
      EXPECT_EQ(r.port_id, 1) << r.dst.ToString();
      ++host_routes;
    }
  }
  EXPECT_EQ(host_routes, 2) << Describe(spec);
  EXPECT_EQ(spec.routes.size(), 4u) << Describe(spec);
}

TEST(CompileSnapshot, UplinkAndHostPortsCarryTheRuntimeMacs) {
  const dp::SnapshotSpec spec = CompileSnapshot(TwoPods(), Runtime(), 9);
  const dp::PortSpec* up = Find(spec, 0);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->kind, dp::PortKind::kUplink);
  EXPECT_EQ(up->mac, M("02:00:00:00:00:10"));
  EXPECT_EQ(up->gateway_ip, A("192.168.1.10")) << "errors leave the uplink from the node address";
  EXPECT_EQ(up->rx_queues, 2);
  const dp::PortSpec* host = Find(spec, 1);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->kind, dp::PortKind::kHost);
  EXPECT_EQ(host->mac, kGatewayMac);
  EXPECT_EQ(host->peer_mac, M("02:00:00:00:00:11"));
  EXPECT_EQ(host->gateway_ip, A("192.168.1.10"));
  EXPECT_EQ(spec.generation, 9u);
  EXPECT_EQ(spec.worker_count, 2);
  EXPECT_EQ(spec.ports.size(), 4u);
}

TEST(CompileSnapshot, WithoutHostPortNodeAddressesAreNotRouted) {
  RuntimePorts rt = Runtime();
  rt.host.reset();
  const dp::SnapshotSpec spec = CompileSnapshot(TwoPods(), rt, 1);
  EXPECT_EQ(spec.routes.size(), 2u) << Describe(spec);
  EXPECT_EQ(Find(spec, 1), nullptr);
}

TEST(CompileSnapshot, WithoutNodePodsUseTheDefaultGateway) {
  DesiredState s;
  AddPod(s, "a", "10.244.1.2", 2, "02:00:0a:f4:01:02");
  const dp::SnapshotSpec spec = CompileSnapshot(s, Runtime(), 1);
  ASSERT_NE(Find(spec, 2), nullptr);
  EXPECT_EQ(Find(spec, 2)->gateway_ip, A(kDefaultPodGateway));
  EXPECT_EQ(Find(spec, 0)->gateway_ip, Ip4{}) << "no node address to send errors from";
  EXPECT_EQ(spec.routes.size(), 1u) << Describe(spec);
}

TEST(CompileSnapshot, NoPortsNoPodsGivesAnEmptySpec) {
  const dp::SnapshotSpec spec = CompileSnapshot(DesiredState{}, RuntimePorts{}, 1);
  EXPECT_TRUE(spec.ports.empty());
  EXPECT_TRUE(spec.routes.empty());
  EXPECT_EQ(spec.worker_count, 1);
}

TEST(CompileSnapshot, SameInputSameSpec) {
  EXPECT_EQ(Describe(CompileSnapshot(TwoPods(), Runtime(), 5)),
            Describe(CompileSnapshot(TwoPods(), Runtime(), 5)));
}

TEST(CompileSnapshot, InsertionOrderDoesNotMatter) {
  DesiredState forward = TwoPods();
  DesiredState backward;
  backward.node = forward.node;
  AddPod(backward, "b", "10.244.1.3", 3, "02:00:0a:f4:01:03");
  AddPod(backward, "a", "10.244.1.2", 2, "02:00:0a:f4:01:02");
  const PodKey remote{"default", "elsewhere"};
  backward.pods[remote] = forward.pods[remote];
  EXPECT_EQ(Describe(CompileSnapshot(forward, Runtime(), 5)),
            Describe(CompileSnapshot(backward, Runtime(), 5)));
}

}  // namespace
}  // namespace nodeplane::ctl
