// Unit tests of ip4_lookup and ip4_forward towards remote nodes: the Fib decides which node a pod's
// packet goes to (pods only; the host's and the uplink's traffic is never encapsulated), and
// ip4_forward rewrites the inner MACs for that node's VTEP.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/overlay_testing.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::Overlay;
using testing::OverlayHarness;
using testing::OverlayWorld;
using testing::Pkt;
using testing::Topo;

class OverlayForwardTest : public ::testing::Test {
 protected:
  OverlayWorld world_;
};

TEST_F(OverlayForwardTest, PodPacketToARemoteCidrGoesToThatNodesSlotViaTheUplink) {
  OverlayHarness<Ip4LookupStage> h(*world_.snap);
  const auto to_b = h.Run(Pkt()
                              .Eth(Topo::PodAMac(), Topo::GatewayMac())
                              .Ip4(Topo::PodAIp(), Overlay::PodOnB())
                              .Udp(1, 2),
                          Topo::kPodA);
  EXPECT_EQ(to_b.edge, Edge::kNext);
  EXPECT_EQ(to_b.meta.out_port, Topo::kUplink);
  EXPECT_EQ(to_b.meta.remote, Overlay::kSlotB);
  const auto to_c = h.Run(Pkt()
                              .Eth(Topo::PodAMac(), Topo::GatewayMac())
                              .Ip4(Topo::PodAIp(), Overlay::PodOnC())
                              .Udp(1, 2),
                          Topo::kPodA);
  EXPECT_EQ(to_c.meta.remote, Overlay::kSlotC);
}

TEST_F(OverlayForwardTest, SpoofedPodSourceIsDroppedBeforeTheFib) {
  OverlayHarness<Ip4LookupStage> h(*world_.snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodBIp(), Overlay::PodOnB())
                             .Udp(1, 2),
                         Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kSourceSpoofed);
  EXPECT_EQ(out.meta.remote, kNoRemote);
}

// The host's own packets to remote pods do travel the overlay: host_network_overlay_test.cc.
TEST_F(OverlayForwardTest, UplinkTrafficToRemoteCidrsIsNeverEncapsulated) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto from_uplink = h.Run(Pkt()
                                     .Eth(Topo::RouterMac(), Topo::UplinkMac())
                                     .Ip4(Topo::RemoteIp(), Overlay::PodOnB())
                                     .Udp(1, 2),
                                 Topo::kUplink);
  EXPECT_TRUE(from_uplink.meta.punt);
  EXPECT_EQ(from_uplink.meta.remote, kNoRemote);
  EXPECT_EQ(from_uplink.meta.out_port, Topo::kHost);
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
}

TEST_F(OverlayForwardTest, ForwardSetsTheInnerMacsForTheRemoteVtepAndDecrementsTtl) {
  OverlayHarness<Ip4ForwardStage> h(*world_.snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodAIp(), Overlay::PodOnB())
                             .Ttl(20)
                             .Udp(1, 2),
                         Topo::kPodA);
  const Bytes want = Pkt()
                         .Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                         .Ip4(Topo::PodAIp(), Overlay::PodOnB())
                         .Ttl(19)
                         .Udp(1, 2);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(testing::SameFrame(want, out.bytes));
}

TEST_F(OverlayForwardTest, ARemoteNodeMissingFromTheSnapshotIsNoRoute) {
  // A Fib route to a slot the snapshot does not hold (the ordering rules prevent it; this is the
  // defence if they were broken).
  std::string error;
  ASSERT_TRUE(world_.fib.Add(*Ip4Prefix::Parse("10.244.9.0/24"), 9, &error)) << error;
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodAIp(), *Ip4::Parse("10.244.9.1"))
                             .Udp(1, 2),
                         Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kNoRoute);
  EXPECT_EQ(out.decided_by, "ip4_forward");
}

}  // namespace
}  // namespace nodeplane::dp
