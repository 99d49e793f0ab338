// Unit tests of vxlan_encap (with ip4_lookup and ip4_forward before it, as in the pipeline): a
// pod's packet to a remote pod leaves the uplink inside exactly the hand-built VXLAN header, with a
// verifying outer checksum, the inner packet untouched but for TTL and MACs, and a UDP source port
// from the inner flow; unresolved next hops, missing headroom and oversize packets are handled.
#include "dataplane/stages/vxlan_encap.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dataplane/stages/overlay_testing.h"
#include "dataplane/tables/conntrack.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::OuterFields;
using testing::Overlay;
using testing::OverlayHarness;
using testing::OverlayWorld;
using testing::Pkt;
using testing::Topo;
using testing::VxlanFrame;

constexpr uint16_t kOuterLen = 50;

Pkt FromPodA(Ip4 dst, uint16_t sport = 4000) {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), dst).Udp(sport, 5001);
}

uint16_t SourcePort(const Bytes& frame) {
  return static_cast<uint16_t>((frame[34] << 8) | frame[35]);
}

// What node B must receive for `inner` sent by pod A: our headers around the inner frame with
// TTL−1 and the inner MACs B's VTEP expects.
Bytes ExpectedOnTheWire(Pkt inner_before, uint8_t ttl_before, uint16_t sport) {
  const Bytes inner = inner_before.Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                          .Ttl(static_cast<uint8_t>(ttl_before - 1));
  OuterFields o = testing::OuterToB();
  o.sport = sport;
  o.dport = Overlay::kPort;
  o.vni = Overlay::kVni;
  return VxlanFrame(inner, o);
}

class VxlanEncapTest : public ::testing::Test {
 protected:
  OverlayWorld world_;
};

TEST_F(VxlanEncapTest, PodToRemotePodLeavesTheUplinkInVxlan) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const Pkt sent = FromPodA(Overlay::PodOnB()).Payload("to a pod on node B");
  const auto out = h.Run(sent, Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext) << out.decided_by << " " << DropReasonName(out.meta.drop);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  const uint16_t sport = SourcePort(out.bytes);
  EXPECT_GE(sport, 49152) << "RFC 7348 §5";
  EXPECT_TRUE(testing::SameFrame(ExpectedOnTheWire(sent, 64, sport), out.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 1u);
  EXPECT_EQ(h.events(Counter::kRouted), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST_F(VxlanEncapTest, OuterChecksumVerifiesAndInnerChecksumsAreUntouched) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  for (uint16_t size : {0, 1, 17, 200, 1000, 1422}) {
    SCOPED_TRACE(size);
    const Bytes sent = FromPodA(Overlay::PodOnB()).Payload(Bytes(size, 0x5a));
    const auto out = h.Run(sent, Topo::kPodA);
    ASSERT_EQ(out.bytes.size(), sent.size() + kOuterLen);
    EXPECT_EQ(testing::InetChecksum(out.bytes.data() + 14, 20), 0) << "outer IPv4 header";
    EXPECT_EQ((out.bytes[16] << 8) | out.bytes[17], sent.size() + 36) << "outer total length";
    EXPECT_EQ((out.bytes[38] << 8) | out.bytes[39], sent.size() + 16) << "UDP length";
    EXPECT_EQ(testing::InetChecksum(out.bytes.data() + kOuterLen + 14, 20), 0) << "inner IPv4";
    // The inner UDP header and payload are byte for byte what the pod sent.
    EXPECT_EQ(Bytes(out.bytes.begin() + kOuterLen + 34, out.bytes.end()),
              Bytes(sent.begin() + 34, sent.end()));
  }
}

TEST_F(VxlanEncapTest, SourcePortIsTheRssHashWhenTheNicGaveOne) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(FromPodA(Overlay::PodOnB()), Topo::kPodA, RTE_MBUF_F_RX_RSS_HASH, 0x12345);
  EXPECT_EQ(SourcePort(out.bytes), 0xc000 | (0x12345 & 0x3fff));
}

TEST_F(VxlanEncapTest, SourcePortFollowsTheInnerFlow) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  std::vector<Bytes> flows;
  for (uint16_t i = 0; i < 64; ++i) flows.push_back(FromPodA(Overlay::PodOnB(), 10000 + i));
  const auto first = h.RunBurst(flows, Topo::kPodA);
  const auto again = h.RunBurst(flows, Topo::kPodA);
  std::set<uint16_t> ports;
  for (size_t i = 0; i < flows.size(); ++i) {
    ASSERT_EQ(first[i].edge, Edge::kNext);
    EXPECT_EQ(SourcePort(first[i].bytes), SourcePort(again[i].bytes)) << "stable per flow";
    EXPECT_GE(SourcePort(first[i].bytes), 49152);
    ports.insert(SourcePort(first[i].bytes));
  }
  EXPECT_GE(ports.size(), 56u) << "64 flows should spread over (nearly) 64 ports";
  // ICMP has no ports: the addresses alone decide, still inside the range.
  const auto icmp = h.Run(Pkt()
                              .Eth(Topo::PodAMac(), Topo::GatewayMac())
                              .Ip4(Topo::PodAIp(), Overlay::PodOnB())
                              .IcmpEcho(1, 1),
                          Topo::kPodA);
  EXPECT_GE(SourcePort(icmp.bytes), 49152);
}

// With conntrack, a connection's record stands for its flow: the packet that opens it and the
// ones after it leave with one source port, and connections spread over the range.
TEST_F(VxlanEncapTest, SourcePortFollowsTheConnectionWhenTracked) {
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 256}, nullptr, &error, "encap_ct")) << error;
  world_.snap->conntrack = &ct;
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  std::vector<Bytes> flows;
  for (uint16_t i = 0; i < 64; ++i) flows.push_back(FromPodA(Overlay::PodOnB(), 10000 + i));
  const auto first = h.RunBurst(flows, Topo::kPodA);
  const auto again = h.RunBurst(flows, Topo::kPodA);
  EXPECT_EQ(ct.connections(), 64u);
  std::set<uint16_t> ports;
  for (size_t i = 0; i < flows.size(); ++i) {
    ASSERT_EQ(first[i].edge, Edge::kNext);
    ASSERT_EQ(again[i].edge, Edge::kNext);
    EXPECT_EQ(SourcePort(first[i].bytes), SourcePort(again[i].bytes)) << "one port per connection";
    EXPECT_GE(SourcePort(first[i].bytes), 49152);
    ports.insert(SourcePort(first[i].bytes));
  }
  EXPECT_GE(ports.size(), 56u) << "64 connections should spread over (nearly) 64 ports";
  world_.snap->conntrack = nullptr;
}

TEST_F(VxlanEncapTest, EthernetPaddingDoesNotTravel) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const Pkt sent = Pkt()
                       .Eth(Topo::PodAMac(), Topo::GatewayMac())
                       .Ip4(Topo::PodAIp(), Overlay::PodOnB())
                       .IcmpEcho(7, 1);  // 42 bytes
  const auto out = h.Run(Pkt(sent).PadTo(60), Topo::kPodA);
  EXPECT_TRUE(testing::SameFrame(ExpectedOnTheWire(sent, 64, SourcePort(out.bytes)), out.bytes));
}

TEST_F(VxlanEncapTest, UnresolvedNextHopIsDroppedNeighborUnresolved) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(FromPodA(Overlay::PodOnC()), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.decided_by, "vxlan_encap");
  EXPECT_EQ(out.meta.drop, DropReason::kNeighborUnresolved);
  EXPECT_EQ(h.drops(DropReason::kNeighborUnresolved), 1u);
}

TEST_F(VxlanEncapTest, ExactlyMtuSizedPacketFits) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  // Inner IPv4 of 1450 bytes + 50 = 1500 = the uplink MTU (outer IPv4 total length).
  const auto out =
      h.Run(FromPodA(Overlay::PodOnB()).DontFragment().Payload(Bytes(1450 - 28, 1)), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop);
  EXPECT_EQ((out.bytes[16] << 8) | out.bytes[17], 1500);
}

TEST_F(VxlanEncapTest, TooBigWithDfBecomesFragmentationNeededWithTheMtuThatFits) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const Bytes sent = FromPodA(Overlay::PodOnB()).DontFragment().Payload(Bytes(1451 - 28, 1));
  const auto out = h.Run(sent, Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.decided_by, "ip4_forward");
  EXPECT_EQ(out.meta.out_port, Topo::kPodA);
  const Bytes& e = out.bytes;
  const Mac pod_a = Topo::PodAMac();
  EXPECT_EQ(Bytes(e.begin(), e.begin() + 6), Bytes(pod_a.bytes.begin(), pod_a.bytes.end()));
  EXPECT_EQ(e[23], testing::kProtoIcmp);
  EXPECT_EQ(Bytes(e.begin() + 26, e.begin() + 30), Bytes({169, 254, 1, 1})) << "from the gateway";
  EXPECT_EQ(Bytes(e.begin() + 30, e.begin() + 34), Bytes({10, 244, 1, 2})) << "to pod A";
  EXPECT_EQ(e[34], 3) << "destination unreachable";
  EXPECT_EQ(e[35], 4) << "fragmentation needed";
  EXPECT_EQ((e[38] << 8) | e[39], 0) << "unused";
  EXPECT_EQ((e[40] << 8) | e[41], 1450) << "next-hop MTU = uplink MTU - 50";
  EXPECT_EQ(testing::InetChecksum(e.data() + 34, e.size() - 34), 0) << "ICMP checksum";
  // The quoted header is the packet as the pod sent it (TTL not yet decremented).
  EXPECT_EQ(Bytes(e.begin() + 42, e.begin() + 62), Bytes(sent.begin() + 14, sent.begin() + 34));
  EXPECT_EQ(h.drops(DropReason::kEncapTooBig), 1u);
  EXPECT_EQ(h.events(Counter::kIcmpFragNeededSent), 1u);
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
}

TEST_F(VxlanEncapTest, TooBigWithoutDfIsDroppedEncapTooBig) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(FromPodA(Overlay::PodOnB()).Payload(Bytes(1451 - 28, 1)), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kEncapTooBig);
  EXPECT_EQ(h.events(Counter::kIcmpFragNeededSent), 0u);
}

TEST_F(VxlanEncapTest, ExpiringTtlTowardsARemotePodGetsTimeExceeded) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(FromPodA(Overlay::PodOnB()).Ttl(1), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA);
  EXPECT_EQ(out.bytes[34], 11);
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
}

TEST_F(VxlanEncapTest, LocalTrafficIsNotEncapsulated) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const Bytes sent = FromPodA(Topo::PodBIp());
  const auto out = h.Run(sent, Topo::kPodA);
  EXPECT_EQ(out.meta.out_port, Topo::kPodB);
  EXPECT_EQ(out.meta.remote, kNoRemote);
  EXPECT_EQ(out.bytes.size(), sent.size());
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
}

TEST_F(VxlanEncapTest, NoHeadroomIsDroppedEncapNoHeadroom) {
  const Bytes sent = FromPodA(Overlay::PodOnB());
  rte_mbuf* m = rte_pktmbuf_alloc(testing::Eal().pool);
  ASSERT_NE(m, nullptr);
  m->data_off = 20;  // less than the 50 bytes the outer headers need
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(sent.size())), sent.data(), sent.size());
  PacketMeta& meta = Meta(m);
  meta = PacketMeta{};
  meta.cls = PacketClass::kIp4;
  meta.l3_offset = 14;
  meta.in_port = Topo::kPodA;
  meta.out_port = Topo::kUplink;
  meta.remote = Overlay::kSlotB;
  WorkerCounters counters;
  StageContext ctx{*world_.snap, counters, 0};
  Burst b;
  b.pkts[b.n++] = m;
  Verdicts v;
  VxlanEncapStage::Process(ctx, b, v);
  EXPECT_EQ(v.edge[0], Edge::kDrop);
  EXPECT_EQ(meta.drop, DropReason::kEncapNoHeadroom);
  rte_pktmbuf_free(m);
}

TEST(VxlanEncapOff, WithoutAFibOrOverlayRemotePodsAreNoRoute) {
  testing::Eal();
  const SnapshotSpec spec = testing::OverlayTopologySpec();
  std::string error;
  auto no_fib = BuildSnapshot(spec, nullptr, &error);
  ASSERT_NE(no_fib, nullptr) << error;
  SnapshotSpec off = spec;
  off.overlay.enabled = false;
  OverlayWorld disabled(off);
  for (const Snapshot* snap : {no_fib.get(), disabled.snap.get()}) {
    OverlayHarness<HostExceptionStage> h(*snap);
    const auto out = h.Run(FromPodA(Overlay::PodOnB()), Topo::kPodA);
    EXPECT_EQ(out.edge, Edge::kDrop);
    EXPECT_EQ(out.meta.drop, DropReason::kNoRoute);
  }
}

TEST_F(VxlanEncapTest, DestinationsInNoRemoteCidrAreNoRoute) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(FromPodA(*Ip4::Parse("10.99.0.1")), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.decided_by, "ip4_lookup");
  EXPECT_EQ(out.meta.drop, DropReason::kNoRoute);
}

TEST_F(VxlanEncapTest, ABurstToSeveralDestinationsIsSortedOutPerPacket) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  std::vector<Bytes> frames;
  const Ip4 dst[4] = {Overlay::PodOnB(), Topo::PodBIp(), Overlay::PodOnC(),
                      *Ip4::Parse("10.99.0.1")};
  for (uint16_t i = 0; i < 64; ++i) frames.push_back(FromPodA(dst[i % 4], 2000 + i));
  const auto out = h.RunBurst(frames, Topo::kPodA);
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(i);
    switch (i % 4) {
      case 0:
        EXPECT_EQ(out[i].meta.out_port, Topo::kUplink);
        EXPECT_EQ(out[i].bytes.size(), frames[i].size() + kOuterLen);
        break;
      case 1:
        EXPECT_EQ(out[i].meta.out_port, Topo::kPodB);
        break;
      case 2:
        EXPECT_EQ(out[i].meta.drop, DropReason::kNeighborUnresolved);
        break;
      case 3:
        EXPECT_EQ(out[i].meta.drop, DropReason::kNoRoute);
        break;
    }
  }
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 16u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
