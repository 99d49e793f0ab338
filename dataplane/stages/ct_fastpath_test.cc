// ct_fastpath: an established connection's packets leave from right after ct_lookup, byte for byte
// as the routing stages would send them — and only when the route they remembered still holds:
// under the same snapshot, from the same input port, with nothing about the packet itself (TTL,
// size) asking for the slow path's answer. Runs the full stage chain (StageHarness to the last
// stage), so "slow path" below is every stage after ct_fastpath.
#include "dataplane/stages/ct_fastpath.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "dataplane/core/ct_route.h"
#include "dataplane/stages/host_exception.h"
#include "dataplane/stages/overlay_testing.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/service_table.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::Overlay;
using testing::OverlayTopologySpec;
using testing::OverlayWorld;
using testing::Pkt;
using testing::StageHarness;
using testing::Topo;
using testing::VxlanFrame;

const Ip4 kVip = A("10.96.0.10");
constexpr uint16_t kVipPort = 80;
constexpr uint16_t kTargetPort = 8080;
constexpr uint16_t kClientPort = 41000;

uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

// This node with the overlay, a conntrack table and one ClusterIP whose only backend is `backend`
// (on node B, or pod B of this node).
struct World {
  explicit World(Ip4 backend) {
    std::string error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "fastpath_ct")) << error;
    EXPECT_TRUE(services.Init(16, nullptr, &error)) << error;
    ServiceEntrySpec s;
    s.service_id = 1;
    s.kind = ServiceAddressKind::kClusterIp;
    s.has_any_endpoint = true;
    s.backends.push_back({backend.be, Be16(kTargetPort), backend.be == Topo::PodBIp().be, 1});
    s.cluster_table.assign(7, 0);
    EXPECT_TRUE(services.Set(ServiceTableKey{kVip.be, Be16(kVipPort), IPPROTO_TCP, 0}, s, &error))
        << error;
    Wire(*overlay.snap);
  }
  void Wire(Snapshot& snap) {
    snap.conntrack = &ct;
    snap.services = &services;
  }
  // The same tables published again: a new snapshot, so a new epoch.
  void Republish() {
    std::string error;
    overlay.snap = BuildSnapshot(OverlayTopologySpec(), &overlay.fib, &error);
    ASSERT_NE(overlay.snap, nullptr) << error;
    Wire(*overlay.snap);
  }
  const Snapshot& snap() const { return *overlay.snap; }
  OverlayWorld overlay;
  Conntrack ct;
  ServiceTable services;
};

Bytes FromPodA(uint8_t flags, uint8_t ttl = 64) {
  return Pkt()
      .Eth(Topo::PodAMac(), Topo::GatewayMac())
      .Ip4(Topo::PodAIp(), kVip)
      .Ttl(ttl)
      .Tcp(kClientPort, kVipPort, flags)
      .Payload("GET /");
}

// The backend on node B answering pod A, inside B's VXLAN frame.
Bytes FromBackendOnB(uint8_t flags) {
  const Bytes inner = Pkt()
                          .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                          .Ip4(Overlay::PodOnB(), Topo::PodAIp())
                          .Tcp(kTargetPort, kClientPort, flags);
  return VxlanFrame(inner);
}

using Chain = StageHarness<HostExceptionStage>;  // every stage

// Pod A's connection through the slow path: its SYN, then its first ACK (which leaves the route).
void Establish(Chain& chain) {
  chain.Run(FromPodA(testing::kTcpSyn), Topo::kPodA);
  chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
}

TEST(CtFastpath, AnEstablishedPacketLeavesAsTheSlowPathSentTheOneBefore) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  ASSERT_EQ(chain.Run(FromPodA(testing::kTcpSyn), Topo::kPodA).edge, Edge::kNext);
  ASSERT_EQ(chain.Run(FromBackendOnB(testing::kTcpSyn | testing::kTcpAck), Topo::kUplink).edge,
            Edge::kNext);
  // The first established packet in each direction takes the slow path and leaves its route.
  const auto slow = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(slow.edge, Edge::kNext) << DropReasonName(slow.meta.drop) << " by " << slow.decided_by;
  EXPECT_NE(slow.decided_by, CtFastpathStage::kName);
  ASSERT_EQ(slow.meta.remote, Overlay::kSlotB);
  const uint64_t routed = chain.events(Counter::kRouted);
  const uint64_t encapsulated = chain.events(Counter::kVxlanEncapsulated);

  const auto fast = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(fast.edge, Edge::kTx) << DropReasonName(fast.meta.drop) << " by " << fast.decided_by;
  EXPECT_EQ(fast.decided_by, CtFastpathStage::kName);
  EXPECT_EQ(fast.bytes, slow.bytes) << "the same packet must leave byte for byte the same";
  EXPECT_EQ(fast.meta.out_port, Topo::kUplink);
  EXPECT_EQ(fast.meta.remote, Overlay::kSlotB);
  EXPECT_EQ(fast.meta.l3_offset, slow.meta.l3_offset);
  EXPECT_EQ(fast.meta.src_ip, slow.meta.src_ip);
  EXPECT_EQ(fast.meta.dst_ip, slow.meta.dst_ip);
  EXPECT_EQ(chain.events(Counter::kCtFastpath), 1u);
  EXPECT_EQ(chain.events(Counter::kRouted), routed + 1);
  EXPECT_EQ(chain.events(Counter::kVxlanEncapsulated), encapsulated + 1);
  EXPECT_EQ(chain.leaked_mbufs(), 0);
}

TEST(CtFastpath, RepliesFromTheOverlayReachTheLocalPodTheSameWay) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  chain.Run(FromPodA(testing::kTcpSyn), Topo::kPodA);
  const auto slow = chain.Run(FromBackendOnB(testing::kTcpSyn | testing::kTcpAck), Topo::kUplink);
  ASSERT_EQ(slow.edge, Edge::kNext) << DropReasonName(slow.meta.drop) << " by " << slow.decided_by;
  ASSERT_EQ(slow.meta.out_port, Topo::kPodA);
  const auto fast = chain.Run(FromBackendOnB(testing::kTcpSyn | testing::kTcpAck), Topo::kUplink);
  ASSERT_EQ(fast.edge, Edge::kTx) << " by " << fast.decided_by;
  EXPECT_EQ(fast.decided_by, CtFastpathStage::kName);
  EXPECT_EQ(fast.bytes, slow.bytes) << "reverse NAT to the VIP, TTL and pod A's MACs";
  EXPECT_EQ(fast.meta.out_port, Topo::kPodA);
  EXPECT_EQ(fast.meta.remote, kNoRemote);
}

TEST(CtFastpath, ALocalBackendIsReachedTheSameWay) {
  World w(Topo::PodBIp());
  Chain chain(w.snap());
  chain.Run(FromPodA(testing::kTcpSyn), Topo::kPodA);
  const auto slow = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(slow.edge, Edge::kNext) << DropReasonName(slow.meta.drop) << " by " << slow.decided_by;
  ASSERT_EQ(slow.meta.out_port, Topo::kPodB);
  const auto fast = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(fast.edge, Edge::kTx) << " by " << fast.decided_by;
  EXPECT_EQ(fast.bytes, slow.bytes);
  EXPECT_EQ(fast.meta.out_port, Topo::kPodB);
}

// Ethernet padding after the IPv4 packet is not carried into the VXLAN frame, fast or slow.
TEST(CtFastpath, APaddedFrameLeavesWithoutItsPadding) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  Establish(chain);
  const auto padded = [] {
    return Pkt()
        .Eth(Topo::PodAMac(), Topo::GatewayMac())
        .Ip4(Topo::PodAIp(), kVip)
        .Tcp(kClientPort, kVipPort, testing::kTcpAck)
        .Payload("GET /")
        .PadTo(80)
        .Build();
  };
  const auto slow_unpadded = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(slow_unpadded.edge, Edge::kTx) << " by " << slow_unpadded.decided_by;
  const auto fast = chain.Run(padded(), Topo::kPodA);
  ASSERT_EQ(fast.edge, Edge::kTx) << " by " << fast.decided_by;
  EXPECT_EQ(fast.decided_by, CtFastpathStage::kName);
  EXPECT_EQ(fast.bytes, slow_unpadded.bytes);
  EXPECT_EQ(chain.leaked_mbufs(), 0);
}

// The route was decided under one snapshot: under the next, the slow path decides again (once).
TEST(CtFastpath, ANewSnapshotSendsTheNextPacketThroughTheSlowPathOnce) {
  World w(Overlay::PodOnB());
  {
    Chain chain(w.snap());
    chain.Run(FromPodA(testing::kTcpSyn), Topo::kPodA);
    chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
    ASSERT_EQ(chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA).decided_by,
              CtFastpathStage::kName);
  }
  w.Republish();
  Chain chain(w.snap());
  const auto again = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA);
  EXPECT_EQ(again.edge, Edge::kNext);
  EXPECT_NE(again.decided_by, CtFastpathStage::kName);
  EXPECT_EQ(again.meta.remote, Overlay::kSlotB);
  EXPECT_EQ(chain.Run(FromPodA(testing::kTcpAck), Topo::kPodA).decided_by, CtFastpathStage::kName);
}

// The route is remembered for pod A's port: the same tuple from pod B's port is a spoof, and the
// slow path's anti-spoofing check must see it.
TEST(CtFastpath, TheSameTupleFromAnotherPortIsJudgedByTheSlowPath) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  Establish(chain);
  const auto spoofed = chain.Run(FromPodA(testing::kTcpAck), Topo::kPodB);
  EXPECT_EQ(spoofed.edge, Edge::kDrop) << " by " << spoofed.decided_by;
  EXPECT_EQ(spoofed.meta.drop, DropReason::kSourceSpoofed);
  EXPECT_EQ(chain.events(Counter::kCtFastpath), 0u);
}

TEST(CtFastpath, AnExpiringTtlGetsTheSlowPathsTimeExceeded) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  Establish(chain);
  const auto out = chain.Run(FromPodA(testing::kTcpAck, /*ttl=*/1), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.decided_by, Ip4ForwardStage::kName);
  EXPECT_EQ(chain.drops(DropReason::kIp4TtlExceeded), 1u);
  EXPECT_EQ(chain.events(Counter::kIcmpTimeExceededSent), 1u);
}

TEST(CtFastpath, APacketTooBigToEncapsulateGetsTheSlowPathsAnswer) {
  World w(Overlay::PodOnB());
  Chain chain(w.snap());
  Establish(chain);
  const Bytes big = Pkt()
                        .Eth(Topo::PodAMac(), Topo::GatewayMac())
                        .Ip4(Topo::PodAIp(), kVip)
                        .DontFragment()
                        .Tcp(kClientPort, kVipPort, testing::kTcpAck)
                        .Payload(Bytes(1460, 0x5a));
  const auto out = chain.Run(big, Topo::kPodA);
  EXPECT_EQ(out.decided_by, Ip4ForwardStage::kName);
  EXPECT_EQ(chain.events(Counter::kIcmpFragNeededSent), 1u);
  EXPECT_EQ(chain.events(Counter::kCtFastpath), 0u);
}

// A record given to a new connection forgets where the previous one went.
TEST(CtFastpath, AReusedRecordRemembersNoRoute) {
  OverlayWorld overlay;
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 8}, nullptr, &error, "fastpath_reuse")) << error;
  auto add = [&](uint16_t port, CtEntry** e) {
    const CtKey k{Topo::PodAIp().be, Overlay::PodOnB().be, Be16(port), Be16(80), IPPROTO_TCP, {}};
    return ct.Add(k, 0, 0, 0, 0, CtProto::kTcpEstablished, 0, 1, e);
  };
  for (uint16_t i = 0; i < 8; ++i) {
    CtEntry* e = nullptr;
    ASSERT_EQ(add(1000 + i, &e), Conntrack::Insert::kOk);
    ct.Fastpath(e).route[0].store(CtRouteWord(overlay.snap->epoch, Topo::kPodA, false,
                                              CtRoute{Topo::kUplink, Overlay::kSlotB}));
    ct.Fastpath(e).route[1].store(~uint64_t{0});
  }
  ASSERT_EQ(ct.Flush(CtFilter{}), 8u);
  for (uint16_t i = 0; i < 8; ++i) {  // every record again
    CtEntry* e = nullptr;
    ASSERT_EQ(add(2000 + i, &e), Conntrack::Insert::kOk);
    EXPECT_EQ(ct.Fastpath(e).route[0].load(), 0u);
    EXPECT_EQ(ct.Fastpath(e).route[1].load(), 0u);
  }
}

TEST(CtRoute, AWordHoldsItsRouteOnlyForItsEpochAndInputSide) {
  const uint64_t word = CtRouteWord(7, Topo::kPodA, false, CtRoute{Topo::kUplink, 513});
  CtRoute r{};
  ASSERT_TRUE(CtRouteMatch(word, CtRouteKey(7, Topo::kPodA, false), &r));
  EXPECT_EQ(r.out_port, Topo::kUplink);
  EXPECT_EQ(r.remote, 513u);
  EXPECT_FALSE(CtRouteMatch(word, CtRouteKey(8, Topo::kPodA, false), &r));
  EXPECT_FALSE(CtRouteMatch(word, CtRouteKey(7, Topo::kPodB, false), &r));
  EXPECT_FALSE(CtRouteMatch(word, CtRouteKey(7, Topo::kPodA, true), &r));
  EXPECT_FALSE(CtRouteMatch(0, CtRouteKey(1, 0, false), &r)) << "a cleared word holds nothing";
}

}  // namespace
}  // namespace nodeplane::dp
