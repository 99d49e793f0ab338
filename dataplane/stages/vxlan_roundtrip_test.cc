// The overlay end to end between two nodes' pipelines: what node A's vxlan_encap sends, node B's
// vxlan_decap turns back into exactly the packet pod A sent, with TTL−1 (A's routing hop) and the
// inner MACs of the two VTEPs — inner checksums untouched, the outer checksum verifying — and B
// then delivers it to its pod. For UDP, TCP and ICMP, small and full-size packets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/stages/overlay_testing.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::Overlay;
using testing::OverlayHarness;
using testing::OverlayWorld;
using testing::Pkt;
using testing::Topo;

constexpr uint16_t kPodOnBPort = testing::kNodeBPodPort;
Mac PodOnBMac() { return testing::NodeBPodMac(); }
using testing::NodeBSpec;

struct NodeB {
  NodeB() {
    std::string error;
    if (!fib.Init(Fib::Limits{.max_routes = 64, .tbl8_groups = 8}, nullptr, &error) ||
        !fib.Add(*Ip4Prefix::Parse("10.244.1.0/24"), 1, &error)) {
      ADD_FAILURE() << error;
    }
    snap = BuildSnapshot(NodeBSpec(), &fib, &error);
    if (snap == nullptr) ADD_FAILURE() << error;
  }
  Fib fib;
  std::unique_ptr<Snapshot> snap;
};

struct Flow {
  std::string name;
  Pkt (*make)(uint8_t ttl);
  friend void PrintTo(const Flow& f, std::ostream* os) { *os << f.name; }
};

Pkt Base(uint8_t ttl) {
  return Pkt()
      .Eth(Topo::PodAMac(), Topo::GatewayMac())
      .Ip4(Topo::PodAIp(), Overlay::PodOnB())
      .Ttl(ttl);
}

std::vector<Flow> Flows() {
  return {
      {"SmallUdp", [](uint8_t t) { return Base(t).Udp(33000, 53).Payload("q"); }},
      {"TcpSyn", [](uint8_t t) { return Base(t).DontFragment().Tcp(40000, 80, testing::kTcpSyn); }},
      {"TcpWithData",
       [](uint8_t t) {
         return Base(t)
             .DontFragment()
             .Tcp(40000, 80, testing::kTcpAck, 7, 9)
             .Payload(Bytes(700, 0x33));
       }},
      {"IcmpEcho", [](uint8_t t) { return Base(t).IcmpEcho(99, 3).Payload(Bytes(56, 0xab)); }},
      {"FullSizeUdp",
       [](uint8_t t) { return Base(t).DontFragment().Udp(1, 2).Payload(Bytes(1450 - 28, 7)); }},
      {"WithIpOptions",
       [](uint8_t t) {
         return Base(t).Ip4Options({0x01, 0x01, 0x01, 0x00}).Udp(5, 6).Payload("opt");
       }},
      {"LowTtl", [](uint8_t t) { return Base(static_cast<uint8_t>(t - 61)).Udp(7, 8); }},
  };
}

class VxlanRoundTrip : public ::testing::TestWithParam<Flow> {
 protected:
  static void SetUpTestSuite() {
    a_ = new OverlayWorld;
    b_ = new NodeB;
  }
  static void TearDownTestSuite() {
    delete a_;
    delete b_;
  }
  inline static OverlayWorld* a_ = nullptr;
  inline static NodeB* b_ = nullptr;
};

TEST_P(VxlanRoundTrip, DecapOfEncapIsThePacketWithTtlMinusOne) {
  const Flow& f = GetParam();
  const Bytes sent = f.make(64);
  const uint8_t ttl = sent[22];

  OverlayHarness<HostExceptionStage> node_a(*a_->snap);
  const auto wire = node_a.Run(sent, Topo::kPodA);
  ASSERT_EQ(wire.edge, Edge::kNext) << DropReasonName(wire.meta.drop);
  ASSERT_EQ(wire.meta.out_port, Topo::kUplink);
  EXPECT_EQ(testing::InetChecksum(wire.bytes.data() + 14, 20), 0) << "outer IPv4 checksum";
  EXPECT_EQ(wire.bytes.size(), sent.size() + 50);

  // What the pod sent, after A's routing hop: TTL−1 and the VTEPs' MACs. Built independently.
  Pkt hop = f.make(64);
  const Bytes routed =
      hop.Ttl(static_cast<uint8_t>(ttl - 1)).Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac());

  OverlayHarness<VxlanDecapStage> decap(*b_->snap);
  const auto inner = decap.Run(wire.bytes, Topo::kUplink);
  ASSERT_EQ(inner.edge, Edge::kNext) << DropReasonName(inner.meta.drop);
  EXPECT_TRUE(inner.meta.from_overlay);
  EXPECT_TRUE(testing::SameFrame(routed, inner.bytes));
  // Every byte after the IPv4 header (L4 header and checksum, payload) is what the pod sent.
  const size_t l4 = 14 + (sent[14] & 0xf) * 4;
  EXPECT_EQ(Bytes(inner.bytes.begin() + l4, inner.bytes.end()),
            Bytes(sent.begin() + l4, sent.end()));

  OverlayHarness<HostExceptionStage> node_b(*b_->snap);
  const auto delivered = node_b.Run(wire.bytes, Topo::kUplink);
  ASSERT_EQ(delivered.edge, Edge::kNext) << DropReasonName(delivered.meta.drop);
  EXPECT_EQ(delivered.meta.out_port, kPodOnBPort);
  Pkt last = f.make(64);
  const Bytes at_pod = last.Ttl(static_cast<uint8_t>(ttl - 2)).Eth(Topo::GatewayMac(), PodOnBMac());
  EXPECT_TRUE(testing::SameFrame(at_pod, delivered.bytes));
  EXPECT_EQ(node_a.leaked_mbufs() + node_b.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(Flows, VxlanRoundTrip, ::testing::ValuesIn(Flows()),
                         [](const auto& info) { return info.param.name; });

TEST(VxlanRoundTripBurst, SixtyFourFlowsCrossInOneBurstEach) {
  OverlayWorld a;
  NodeB b;
  std::vector<Bytes> sent;
  for (uint16_t i = 0; i < 64; ++i)
    sent.push_back(Base(64).Udp(static_cast<uint16_t>(20000 + i), 9).Payload(Bytes(i, 1)));
  OverlayHarness<HostExceptionStage> node_a(*a.snap);
  const auto wire = node_a.RunBurst(sent, Topo::kPodA);
  std::vector<Bytes> frames;
  for (const auto& w : wire) frames.push_back(w.bytes);
  OverlayHarness<HostExceptionStage> node_b(*b.snap);
  const auto delivered = node_b.RunBurst(frames, Topo::kUplink);
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(delivered[i].edge, Edge::kNext) << DropReasonName(delivered[i].meta.drop);
    EXPECT_EQ(delivered[i].meta.out_port, kPodOnBPort);
    EXPECT_EQ(delivered[i].bytes.size(), sent[i].size());
    EXPECT_EQ(delivered[i].bytes[22], 62) << "TTL: one hop on each node";
  }
  EXPECT_EQ(node_b.events(Counter::kVxlanDecapsulated), 64u);
}

}  // namespace
}  // namespace nodeplane::dp
