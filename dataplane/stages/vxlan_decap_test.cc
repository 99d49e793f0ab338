// Unit tests of vxlan_decap: VXLAN from a remote node's VTEP to ours, with our VNI, is stripped to
// its inner frame and delivered to the local pod; every malformed, misaddressed or spoofed case is
// dropped under its own reason; what is not VXLAN for us passes on untouched.
#include "dataplane/stages/vxlan_decap.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/stages/overlay_testing.h"

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

// What a pod on node B sends to pod A, as node B's VTEP puts it in VXLAN.
Pkt InnerFromB() {
  return Pkt()
      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
      .Ip4(Overlay::PodOnB(), Topo::PodAIp())
      .Udp(4000, 5001)
      .Payload("hello over the overlay");
}

OuterFields Outer(void (*edit)(OuterFields&) = nullptr) {
  OuterFields o;
  if (edit != nullptr) edit(o);
  return o;
}

class VxlanDecapTest : public ::testing::Test {
 protected:
  OverlayWorld world_;
};

TEST_F(VxlanDecapTest, VxlanFromARemoteNodeBecomesItsInnerFrame) {
  OverlayHarness<VxlanDecapStage> h(*world_.snap);
  const Bytes inner = InnerFromB();
  const auto out = h.Run(VxlanFrame(inner), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.decided_by, "vxlan_decap");
  EXPECT_TRUE(testing::SameFrame(inner, out.bytes));
  EXPECT_TRUE(out.meta.from_overlay);
  EXPECT_EQ(out.meta.l3_offset, 14);
  EXPECT_EQ(out.meta.src_ip, Overlay::PodOnB().be);
  EXPECT_EQ(out.meta.dst_ip, Topo::PodAIp().be);
  EXPECT_EQ(out.meta.in_port, Topo::kUplink);
  EXPECT_EQ(h.events(Counter::kVxlanDecapsulated), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST_F(VxlanDecapTest, DecapsulatedPacketIsRoutedToThePodWithTtlMinusOne) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  const auto out = h.Run(VxlanFrame(InnerFromB()), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA);
  EXPECT_FALSE(out.meta.punt);
  const Bytes want = Pkt()
                         .Eth(Topo::GatewayMac(), Topo::PodAMac())
                         .Ip4(Overlay::PodOnB(), Topo::PodAIp())
                         .Ttl(63)
                         .Udp(4000, 5001)
                         .Payload("hello over the overlay");
  EXPECT_TRUE(testing::SameFrame(want, out.bytes));
}

TEST_F(VxlanDecapTest, ReservedFlagBitsAreIgnored) {
  OverlayHarness<VxlanDecapStage> h(*world_.snap);
  const auto out =
      h.Run(VxlanFrame(InnerFromB(), Outer([](OuterFields& o) { o.flags = 0xff; })), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.from_overlay);
}

TEST_F(VxlanDecapTest, BytesAfterTheUdpPayloadAreCutOff) {
  OverlayHarness<VxlanDecapStage> h(*world_.snap);
  const Bytes inner = InnerFromB();
  Bytes frame = VxlanFrame(inner);
  // Four trailing bytes inside the outer IPv4 packet but beyond the UDP datagram.
  frame.insert(frame.end(), {1, 2, 3, 4});
  const uint16_t total = static_cast<uint16_t>(frame.size() - 14);
  frame[16] = static_cast<uint8_t>(total >> 8);
  frame[17] = static_cast<uint8_t>(total);
  frame[24] = frame[25] = 0;
  const uint16_t sum = testing::InetChecksum(frame.data() + 14, 20);
  frame[24] = static_cast<uint8_t>(sum >> 8);
  frame[25] = static_cast<uint8_t>(sum);
  const auto out = h.Run(frame, Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(testing::SameFrame(inner, out.bytes));
}

struct DropCase {
  std::string name;
  Bytes frame;
  DropReason reason;
  std::string_view decided_by = "vxlan_decap";
  friend void PrintTo(const DropCase& c, std::ostream* os) { *os << c.name; }
};

// Sets the outer UDP length field (the outer IPv4 header and its checksum stay as built).
Bytes WithUdpLength(Bytes frame, uint16_t len) {
  frame[38] = static_cast<uint8_t>(len >> 8);
  frame[39] = static_cast<uint8_t>(len);
  return frame;
}

std::vector<DropCase> DropCases() {
  const Bytes inner = InnerFromB();
  return {
      {"WrongVni", VxlanFrame(inner, Outer([](OuterFields& o) { o.vni = 43; })),
       DropReason::kVxlanWrongVni},
      {"NoIFlag", VxlanFrame(inner, Outer([](OuterFields& o) { o.flags = 0x00; })),
       DropReason::kVxlanBadFlags},
      {"OnlyOtherFlags", VxlanFrame(inner, Outer([](OuterFields& o) { o.flags = 0xf7; })),
       DropReason::kVxlanBadFlags},
      {"UdpLengthShorterThanVxlanAndInnerEthernet", WithUdpLength(VxlanFrame(inner), 29),
       DropReason::kVxlanTruncated},
      {"UdpLengthBeyondTheIpPacket",
       WithUdpLength(VxlanFrame(inner), static_cast<uint16_t>(16 + inner.size() + 1)),
       DropReason::kVxlanTruncated},
      {"NoInnerEthernet", VxlanFrame(Bytes(10, 0)), DropReason::kVxlanTruncated},
      {"InnerArp",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .ArpRequest(Overlay::NodeBVtepMac(), Overlay::PodOnB(), Topo::PodAIp())),
       DropReason::kVxlanInnerNotIp4},
      {"InnerIp6",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .EthType(testing::kEthTypeIp6)
                      .Payload(Bytes(40, 0x60))),
       DropReason::kVxlanInnerNotIp4},
      {"InnerBadChecksum", VxlanFrame(InnerFromB().BadIp4Checksum()), DropReason::kIp4BadChecksum},
      {"InnerBadVersion", VxlanFrame(InnerFromB().Ip4Version(6)), DropReason::kIp4BadVersion},
      {"InnerBadIhl", VxlanFrame(InnerFromB().Ihl(4)), DropReason::kIp4BadIhl},
      {"InnerTotalLengthBeyondThePayload", VxlanFrame(InnerFromB().TotalLength(200)),
       DropReason::kIp4BadTotalLength},
      {"InnerIpv4HeaderTruncated", VxlanFrame(Bytes(inner.begin(), inner.begin() + 14 + 12)),
       DropReason::kIp4Truncated},
      {"InnerSourceIsAnotherNodesPod",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .Ip4(Overlay::PodOnC(), Topo::PodAIp())
                      .Udp(1, 2)),
       DropReason::kVxlanInnerSpoofed},
      {"InnerSourceIsOurOwnPod",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .Ip4(Topo::PodBIp(), Topo::PodAIp())
                      .Udp(1, 2)),
       DropReason::kVxlanInnerSpoofed},
      {"SenderIsNoKnownNode",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.ip_src = *Ip4::Parse("192.168.1.99"); })),
       DropReason::kVxlanInnerSpoofed},
      {"SenderIsAnotherNodeThanTheInnerSourcesOwner",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.ip_src = Overlay::NodeCIp(); })),
       DropReason::kVxlanInnerSpoofed},
      {"ToAnotherVtepAddressAtOurMac",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.ip_dst = *Ip4::Parse("192.168.1.77"); })),
       DropReason::kVxlanOtherVtep},
      {"ToABroadcastAddress", VxlanFrame(inner, Outer([](OuterFields& o) {
                                           o.ip_dst = *Ip4::Parse("255.255.255.255");
                                           o.eth_dst = *Mac::Parse("ff:ff:ff:ff:ff:ff");
                                         })),
       DropReason::kVxlanOtherVtep},
      {"FirstFragment", VxlanFrame(inner, Outer([](OuterFields& o) { o.frag = 0x2000; })),
       DropReason::kVxlanOuterFragment},
      {"InnerDestinationIsARemotePod",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .Ip4(Overlay::PodOnB(), Overlay::PodOnC())
                      .Udp(1, 2)),
       DropReason::kVxlanInnerNoPod, "ip4_lookup"},
      {"InnerDestinationIsNowhere",
       VxlanFrame(Pkt()
                      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                      .Ip4(Overlay::PodOnB(), *Ip4::Parse("8.8.8.8"))
                      .Udp(1, 53)),
       DropReason::kVxlanInnerNoPod, "ip4_lookup"},
      {"InnerTtlExpiresWithoutAnErrorSentBack", VxlanFrame(InnerFromB().Ttl(1)),
       DropReason::kIp4TtlExceeded, "ip4_forward"},
  };
}

// One world (and its 64 MiB Fib) per parameterised suite.
template <typename Case>
class WithWorld : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { world_ = new OverlayWorld; }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  inline static OverlayWorld* world_ = nullptr;
};

class VxlanDecapDrops : public WithWorld<DropCase> {};

TEST_P(VxlanDecapDrops, AreDroppedUnderTheirReason) {
  const DropCase& c = GetParam();
  OverlayHarness<HostExceptionStage> h(*world_->snap);
  const auto out = h.Run(c.frame, Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.decided_by, c.decided_by);
  EXPECT_EQ(out.meta.drop, c.reason) << DropReasonName(out.meta.drop);
  EXPECT_EQ(h.drops(c.reason), 1u);
  EXPECT_EQ(h.events(Counter::kIcmpTimeExceededSent), 0u) << "nothing goes back onto the underlay";
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(VxlanDecap, VxlanDecapDrops, ::testing::ValuesIn(DropCases()),
                         [](const auto& info) { return info.param.name; });

struct PassCase {
  std::string name;
  Bytes frame;
  uint16_t in_port;
  uint16_t out_port;  // where host_exception or ip4_lookup sends it
  friend void PrintTo(const PassCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<PassCase> PassCases() {
  const Bytes inner = InnerFromB();
  return {
      {"UdpToOurVtepOnAnotherPortIsHostTraffic",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.dport = 8472; })), Topo::kUplink,
       Topo::kHost},
      {"NonFirstFragmentToOurVtepIsHostTraffic",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.frag = 185; })), Topo::kUplink, Topo::kHost},
      {"TcpToOurVtepIsHostTraffic",
       Pkt()
           .Eth(Overlay::NodeBMac(), Topo::UplinkMac())
           .Ip4(Overlay::NodeBIp(), Topo::NodeIp())
           .Tcp(40000, 4789),
       Topo::kUplink, Topo::kHost},
      {"VxlanPortToALocalPodIsPlainUdpForIt",
       VxlanFrame(inner, Outer([](OuterFields& o) { o.ip_dst = Topo::PodBIp(); })), Topo::kUplink,
       Topo::kPodB},
      {"VxlanFromTheHostIsTheHostsTraffic", VxlanFrame(inner, Outer([](OuterFields& o) {
                                                         o.eth_src = Topo::HostMac();
                                                         o.eth_dst = Topo::GatewayMac();
                                                         o.ip_src = Topo::NodeIp();
                                                         o.ip_dst = Overlay::NodeBIp();
                                                       })),
       Topo::kHost, Topo::kUplink},
  };
}

class VxlanDecapPasses : public WithWorld<PassCase> {};

TEST_P(VxlanDecapPasses, OnUntouched) {
  const PassCase& c = GetParam();
  OverlayHarness<HostExceptionStage> h(*world_->snap);
  const auto out = h.Run(c.frame, c.in_port);
  EXPECT_EQ(out.edge, Edge::kNext) << out.decided_by << " " << DropReasonName(out.meta.drop);
  EXPECT_FALSE(out.meta.from_overlay);
  EXPECT_EQ(out.meta.out_port, c.out_port);
  EXPECT_EQ(h.events(Counter::kVxlanDecapsulated), 0u);
  if (c.out_port != Topo::kPodB) {
    EXPECT_TRUE(testing::SameFrame(c.frame, out.bytes));
  }
}

INSTANTIATE_TEST_SUITE_P(VxlanDecap, VxlanDecapPasses, ::testing::ValuesIn(PassCases()),
                         [](const auto& info) { return info.param.name; });

TEST(VxlanDecapOff, WithoutAnOverlayVxlanToTheNodeIsHostTraffic) {
  auto snap = testing::StandardTopology().Build();  // no VTEP, no remote nodes, no Fib
  OverlayHarness<HostExceptionStage> h(*snap);
  const Bytes frame = VxlanFrame(InnerFromB());
  const auto out = h.Run(frame, Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, Topo::kHost);
  EXPECT_TRUE(testing::SameFrame(frame, out.bytes));
}

TEST_F(VxlanDecapTest, ABurstMixesDecapsulatedDroppedAndPassedPacketsInOrder) {
  OverlayHarness<HostExceptionStage> h(*world_.snap);
  std::vector<Bytes> frames;
  for (int i = 0; i < 64; ++i) {
    Pkt inner = InnerFromB();
    inner.Udp(static_cast<uint16_t>(1000 + i), 5001);
    OuterFields o;
    if (i % 4 == 1) o.vni = 7;       // dropped: wrong VNI
    if (i % 4 == 2) o.dport = 8472;  // passed to the host
    frames.push_back(VxlanFrame(inner, o));
  }
  const auto out = h.RunBurst(frames, Topo::kUplink);
  for (int i = 0; i < 64; ++i) {
    SCOPED_TRACE(i);
    switch (i % 4) {
      case 1:
        EXPECT_EQ(out[i].edge, Edge::kDrop);
        EXPECT_EQ(out[i].meta.drop, DropReason::kVxlanWrongVni);
        break;
      case 2:
        EXPECT_EQ(out[i].meta.out_port, Topo::kHost);
        break;
      default:
        EXPECT_EQ(out[i].edge, Edge::kNext);
        EXPECT_EQ(out[i].meta.out_port, Topo::kPodA);
        EXPECT_EQ(out[i].bytes.size(), frames[i].size() - 50);
    }
  }
  EXPECT_EQ(h.events(Counter::kVxlanDecapsulated), 32u);
  EXPECT_EQ(h.drops(DropReason::kVxlanWrongVni), 16u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
