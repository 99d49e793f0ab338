// Unit tests of CompileSnapshot's overlay part: this node's VTEP (only with a VTEP address and an
// uplink), each remote node with its slot, effective VNI/port/VTEP MAC and, from the neighbour map,
// its underlay next hop's MAC (unset: unresolved).
#include <gtest/gtest.h>

#include <string>

#include "control/compile/snapshot_compiler.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
Mac M(const char* s) { return *Mac::Parse(s); }
Ip4Prefix P(const char* s) { return *Ip4Prefix::Parse(s); }

DesiredState State() {
  DesiredState s;
  s.node = NodeModel{.name = "node-a",
                     .addresses = {Ip4Prefix{A("192.168.1.10"), 24}},
                     .pod_cidrs = {P("10.244.1.0/24")},
                     .pod_gateway = A("169.254.1.1"),
                     .vtep = A("192.168.1.10"),
                     .vni = 42,
                     .vxlan_port = 4789,
                     .vtep_mac = M("ee:ee:ee:ee:ee:ee")};
  s.remote_nodes["node-b"] = RemoteNodeModel{
      .name = "node-b", .underlay = A("192.168.1.20"), .pod_cidrs = {P("10.244.2.0/24")}};
  s.remote_nodes["node-c"] = RemoteNodeModel{.name = "node-c",
                                             .underlay = A("192.168.1.30"),
                                             .pod_cidrs = {P("10.244.3.0/24")},
                                             .vni = 7,
                                             .udp_port = 8472,
                                             .vtep_mac = M("02:00:00:00:0c:ee")};
  return s;
}

RuntimePorts Runtime(uint16_t mtu = 1500) {
  RuntimePorts rt;
  rt.uplink = RuntimePort{0, M("02:00:00:00:00:10"), 1, 1, mtu};
  return rt;
}

TEST(CompileOverlay, ThisNodesVtepComesFromTheNodeAndTheUplinksMtu) {
  const dp::SnapshotSpec spec = CompileSnapshot(State(), Runtime(9000), 1);
  EXPECT_TRUE(spec.overlay.enabled);
  EXPECT_EQ(spec.overlay.vtep_ip, A("192.168.1.10"));
  EXPECT_EQ(spec.overlay.vni, 42u);
  EXPECT_EQ(spec.overlay.udp_port, 4789);
  EXPECT_EQ(spec.overlay.vtep_mac, M("ee:ee:ee:ee:ee:ee"));
  EXPECT_EQ(spec.overlay.uplink_mtu, 9000);
}

TEST(CompileOverlay, NoUplinkOrNoVtepMeansNoOverlay) {
  EXPECT_FALSE(CompileSnapshot(State(), RuntimePorts{}, 1).overlay.enabled);
  DesiredState no_vtep = State();
  no_vtep.node->vtep = Ip4{};
  EXPECT_FALSE(CompileSnapshot(no_vtep, Runtime(), 1).overlay.enabled);
  DesiredState no_node = State();
  no_node.node.reset();
  EXPECT_FALSE(CompileSnapshot(no_node, Runtime(), 1).overlay.enabled);
}

TEST(CompileOverlay, RemoteNodesGetTheirSlotsAndEffectiveSettings) {
  const dp::SnapshotSpec spec = CompileSnapshot(State(), Runtime(), 1, NeighborMap{},
                                                RemoteSlots{{"node-b", 5}, {"node-c", 2}});
  ASSERT_EQ(spec.remote_nodes.size(), 2u);
  const dp::RemoteNodeSpec& b = spec.remote_nodes[0];
  EXPECT_EQ(b.slot, 5u);
  EXPECT_EQ(b.underlay_ip, A("192.168.1.20"));
  EXPECT_EQ(b.vni, 42u) << "0 means this node's VNI";
  EXPECT_EQ(b.udp_port, 4789) << "0 means 4789";
  EXPECT_EQ(b.vtep_mac, M("ee:ee:ee:ee:ee:ee")) << "unset means ee:ee:ee:ee:ee:ee";
  const dp::RemoteNodeSpec& c = spec.remote_nodes[1];
  EXPECT_EQ(c.slot, 2u);
  EXPECT_EQ(c.vni, 7u);
  EXPECT_EQ(c.udp_port, 8472);
  EXPECT_EQ(c.vtep_mac, M("02:00:00:00:0c:ee"));
}

TEST(CompileOverlay, NextHopMacsComeFromTheNeighbourMap) {
  const NeighborMap neighbors{{A("192.168.1.20"), M("02:00:00:00:00:20")},
                              {A("192.168.1.99"), M("02:00:00:00:00:99")}};
  const dp::SnapshotSpec spec =
      CompileSnapshot(State(), Runtime(), 1, neighbors, RemoteSlots{{"node-b", 1}, {"node-c", 2}});
  ASSERT_EQ(spec.remote_nodes.size(), 2u);
  ASSERT_TRUE(spec.remote_nodes[0].next_hop_mac.has_value());
  EXPECT_EQ(*spec.remote_nodes[0].next_hop_mac, M("02:00:00:00:00:20"));
  EXPECT_FALSE(spec.remote_nodes[1].next_hop_mac.has_value()) << "node-c is unresolved";
}

TEST(CompileOverlay, WithoutSlotsNodesAreNumberedInNameOrderFromOne) {
  const dp::SnapshotSpec spec = CompileSnapshot(State(), Runtime(), 1);
  ASSERT_EQ(spec.remote_nodes.size(), 2u);
  EXPECT_EQ(spec.remote_nodes[0].slot, 1u);
  EXPECT_EQ(spec.remote_nodes[1].slot, 2u);
}

TEST(CompileOverlay, ANodeWithoutASlotIsLeftOut) {
  const dp::SnapshotSpec spec =
      CompileSnapshot(State(), Runtime(), 1, NeighborMap{}, RemoteSlots{{"node-c", 3}});
  ASSERT_EQ(spec.remote_nodes.size(), 1u);
  EXPECT_EQ(spec.remote_nodes[0].underlay_ip, A("192.168.1.30"));
}

TEST(CompileOverlay, TheNextHopIsTheVtepItself) {
  EXPECT_EQ(UnderlayNextHop(State().remote_nodes.at("node-b")), A("192.168.1.20"));
}

// SNAT source of Service traffic from outside to backends on other nodes: inside this node's pod
// CIDR (so they accept it from our VTEP and route replies back), never a pod's address.
TEST(CompileOverlay, TheOverlaySourceIsThePodCidrsNetworkAddress) {
  EXPECT_EQ(CompileSnapshot(State(), Runtime(), 1).overlay.snat_ip, A("10.244.1.0"));
  DesiredState two = State();
  two.node->pod_cidrs = {P("10.250.64.0/18"), P("10.244.1.0/24")};
  EXPECT_EQ(CompileSnapshot(two, Runtime(), 1).overlay.snat_ip, A("10.250.64.0")) << "the first";
}

TEST(CompileOverlay, NoOverlaySourceWithoutAPodCidrOrAnOverlay) {
  DesiredState none = State();
  none.node->pod_cidrs.clear();
  EXPECT_EQ(CompileSnapshot(none, Runtime(), 1).overlay.snat_ip, Ip4{});
  DesiredState tiny = State();
  tiny.node->pod_cidrs = {P("10.244.1.8/31")};
  EXPECT_EQ(CompileSnapshot(tiny, Runtime(), 1).overlay.snat_ip, Ip4{}) << "no spare address";
  EXPECT_EQ(CompileSnapshot(State(), RuntimePorts{}, 1).overlay.snat_ip, Ip4{}) << "no uplink";
}

}  // namespace
}  // namespace nodeplane::ctl
