// Unit tests of the eth_parse stage: every drop reason it can give, what it writes into PacketMeta,
// and which frames it passes on (or marks as the host's).
#include "dataplane/stages/eth_parse.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include <ostream>
#include <string>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::M;
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;

Pkt FromPodA() {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp());
}

struct DropCase {
  std::string name;
  friend void PrintTo(const DropCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  uint16_t in_port;
  DropReason reason;
};

class EthParseDrops : public ::testing::TestWithParam<DropCase> {};

TEST_P(EthParseDrops, IsDroppedWithReason) {
  const DropCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(c.frame, c.in_port);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(DropReasonName(out.meta.drop), DropReasonName(c.reason));
  EXPECT_EQ(h.drops(c.reason), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    EthParseStage, EthParseDrops,
    ::testing::Values(
        DropCase{"FrameShorterThanEthernetHeader", Pkt().TruncateTo(13), Topo::kPodA,
                 DropReason::kEthTruncated},
        DropCase{"EmptyFrame", Pkt().TruncateTo(0), Topo::kPodA, DropReason::kEthTruncated},
        DropCase{"FrameFromPortMissingInSnapshot", FromPodA().Udp(1, 2), Topo::kAbsent,
                 DropReason::kPortUnavailable},
        DropCase{"Ip6FromPod", Pkt().EthType(testing::kEthTypeIp6).Payload(Bytes(40, 0)),
                 Topo::kPodA, DropReason::kEthertypeUnsupported},
        DropCase{"VlanTaggedFromPod", Pkt().EthType(0x8100).Payload(Bytes(46, 0)), Topo::kPodA,
                 DropReason::kEthertypeUnsupported},
        DropCase{"UplinkUnicastToAnotherMac",
                 Pkt()
                     .Eth(Topo::RouterMac(), M("02:00:00:00:00:77"))
                     .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                     .Udp(1, 2),
                 Topo::kUplink, DropReason::kEthOtherHost},
        DropCase{"Ip4HeaderCutShort", FromPodA().Udp(1, 2).TruncateTo(14 + 19), Topo::kPodA,
                 DropReason::kIp4Truncated},
        DropCase{"Ip4EthertypeWithNoHeaderAtAll", FromPodA().Udp(1, 2).TruncateTo(14), Topo::kPodA,
                 DropReason::kIp4Truncated},
        DropCase{"Ip4EthertypeCarryingVersion6", FromPodA().Udp(1, 2).Ip4Version(6), Topo::kPodA,
                 DropReason::kIp4BadVersion},
        DropCase{"IhlBelowFiveWords", FromPodA().Udp(1, 2).Ihl(4), Topo::kPodA,
                 DropReason::kIp4BadIhl},
        DropCase{"IhlZero", FromPodA().Udp(1, 2).Ihl(0), Topo::kPodA, DropReason::kIp4BadIhl},
        DropCase{"IhlBeyondTheFrame", FromPodA().Ip4Proto(253).Ihl(15), Topo::kPodA,
                 DropReason::kIp4BadIhl},
        DropCase{"TotalLengthBelowHeaderLength", FromPodA().Udp(1, 2).TotalLength(19), Topo::kPodA,
                 DropReason::kIp4BadTotalLength},
        DropCase{"TotalLengthBeyondTheFrame", FromPodA().Udp(1, 2).Payload("abcd").TotalLength(33),
                 Topo::kPodA, DropReason::kIp4BadTotalLength},
        DropCase{"FrameTruncatedAfterTheIpHeader",
                 FromPodA().Udp(1, 2).Payload(Bytes(100, 7)).TruncateTo(14 + 20 + 8), Topo::kPodA,
                 DropReason::kIp4BadTotalLength},
        DropCase{"BadHeaderChecksum", FromPodA().Udp(1, 2).BadIp4Checksum(), Topo::kPodA,
                 DropReason::kIp4BadChecksum},
        DropCase{"BadHeaderChecksumFromUplink",
                 Pkt()
                     .Eth(Topo::RouterMac(), Topo::UplinkMac())
                     .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                     .Udp(1, 2)
                     .BadIp4Checksum(),
                 Topo::kUplink, DropReason::kIp4BadChecksum},
        DropCase{"BadChecksumWithOptions",
                 FromPodA().Ip4Options({0x01, 0x01, 0x01, 0x00}).Udp(1, 2).BadIp4Checksum(),
                 Topo::kPodA, DropReason::kIp4BadChecksum}),
    [](const ::testing::TestParamInfo<DropCase>& info) { return info.param.name; });

TEST(EthParseStage, Ip4FromPodFillsMeta) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const Bytes frame = FromPodA().Udp(1000, 2000).Payload("x");
  const auto out = h.Run(frame, Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.cls, PacketClass::kIp4);
  EXPECT_EQ(out.meta.in_port, Topo::kPodA);
  EXPECT_EQ(out.meta.out_port, kNoPort);
  EXPECT_EQ(out.meta.l3_offset, 14);
  EXPECT_EQ(out.meta.src_ip, Topo::PodAIp().be);
  EXPECT_EQ(out.meta.dst_ip, Topo::PodBIp().be);
  EXPECT_FALSE(out.meta.punt);
  EXPECT_EQ(out.meta.drop, DropReason::kUnspecified);
  EXPECT_TRUE(SameFrame(frame, out.bytes)) << "eth_parse must not modify the frame";
}

uint16_t NetworkOrder(uint16_t v) { return rte_cpu_to_be_16(v); }

TEST(EthParseStage, UdpAndTcpPortsAreFilled) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto udp = h.Run(FromPodA().Udp(1000, 53).Payload("q"), Topo::kPodA);
  ASSERT_EQ(udp.edge, Edge::kNext);
  EXPECT_EQ(udp.meta.l4, L4Status::kPorts);
  EXPECT_EQ(udp.meta.l4_proto, testing::kProtoUdp);
  EXPECT_EQ(udp.meta.l4_offset, 14 + 20);
  EXPECT_EQ(udp.meta.src_port, NetworkOrder(1000));
  EXPECT_EQ(udp.meta.dst_port, NetworkOrder(53));
  EXPECT_EQ(udp.meta.tcp_flags, 0);
  const auto tcp =
      h.Run(FromPodA().Tcp(40000, 80, testing::kTcpSyn | testing::kTcpAck), Topo::kPodA);
  ASSERT_EQ(tcp.edge, Edge::kNext);
  EXPECT_EQ(tcp.meta.l4, L4Status::kPorts);
  EXPECT_EQ(tcp.meta.l4_proto, testing::kProtoTcp);
  EXPECT_EQ(tcp.meta.src_port, NetworkOrder(40000));
  EXPECT_EQ(tcp.meta.dst_port, NetworkOrder(80));
  EXPECT_EQ(tcp.meta.tcp_flags, testing::kTcpSyn | testing::kTcpAck);
}

TEST(EthParseStage, TransportHeaderStartsAfterTheOptions) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(FromPodA().Ip4Options({1, 1, 1, 0}).Udp(7, 8), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.l4_offset, 14 + 24);
  EXPECT_EQ(out.meta.l4, L4Status::kPorts);
  EXPECT_EQ(out.meta.src_port, NetworkOrder(7));
  EXPECT_EQ(out.meta.dst_port, NetworkOrder(8));
}

TEST(EthParseStage, OnlyTheFirstFragmentHasPorts) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto first = h.Run(FromPodA().FragmentOffset(0, true).Udp(9, 10), Topo::kPodA);
  ASSERT_EQ(first.edge, Edge::kNext);
  EXPECT_EQ(first.meta.l4, L4Status::kPorts);
  EXPECT_EQ(first.meta.src_port, NetworkOrder(9));
  const auto later = h.Run(
      FromPodA().FragmentOffset(3).Ip4Proto(testing::kProtoUdp).Payload(Bytes(16, 1)), Topo::kPodA);
  ASSERT_EQ(later.edge, Edge::kNext);
  EXPECT_EQ(later.meta.l4, L4Status::kFragment);
  EXPECT_EQ(later.meta.l4_proto, testing::kProtoUdp);
  EXPECT_EQ(later.meta.src_port, 0);
  EXPECT_EQ(later.meta.dst_port, 0);
}

TEST(EthParseStage, TransportHeaderCutShortByTheTotalLengthIsTruncated) {
  // The frame holds all 8 bytes of the UDP header but the IPv4 packet ends one byte before.
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(FromPodA().Udp(1, 2).TotalLength(20 + 7), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.l4, L4Status::kTruncated);
  EXPECT_EQ(out.meta.src_port, 0);
  const auto tcp =
      h.Run(FromPodA().Tcp(1, 2).TruncateTo(14 + 20 + 19).TotalLength(39), Topo::kPodA);
  ASSERT_EQ(tcp.edge, Edge::kNext);
  EXPECT_EQ(tcp.meta.l4, L4Status::kTruncated);
}

TEST(EthParseStage, ArpIsClassifiedNotParsed) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::PodAMac(), M("ff:ff:ff:ff:ff:ff"))
                             .ArpRequest(Topo::PodAMac(), Topo::PodAIp(), Topo::PodGateway()),
                         Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.cls, PacketClass::kArp);
  EXPECT_EQ(out.meta.l3_offset, 14);
  EXPECT_FALSE(out.meta.punt);
}

TEST(EthParseStage, Ip4WithOptionsIsAccepted) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(FromPodA().Ip4Options({0x01, 0x01, 0x01, 0x00}).Udp(1, 2), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.cls, PacketClass::kIp4);
}

TEST(EthParseStage, EthernetPaddingAfterIp4IsAccepted) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(FromPodA().Udp(1, 2).PadTo(60), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.cls, PacketClass::kIp4);
}

TEST(EthParseStage, TotalLengthExactlyTheFrameIsAccepted) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  // Ip4 header only: total length 20 == frame minus Ethernet header.
  const auto out = h.Run(FromPodA().Ip4Proto(253), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
}

TEST(EthParseStage, NonIpFromUplinkIsPuntedNotDropped) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::RouterMac(), Topo::UplinkMac())
                             .EthType(testing::kEthTypeIp6)
                             .Payload(Bytes(40, 0)),
                         Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(out.meta.cls, PacketClass::kOther);
}

TEST(EthParseStage, NonIpFromHostIsPuntedNotDropped) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out =
      h.Run(Pkt().Eth(Topo::HostMac(), Topo::RouterMac()).EthType(0x88cc).Payload(Bytes(46, 0)),
            Topo::kHost);
  ASSERT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
}

TEST(EthParseStage, UplinkAcceptsItsOwnMacBroadcastAndMulticast) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  for (const char* dst : {"02:00:00:00:00:10", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"}) {
    const auto out =
        h.Run(Pkt().Eth(Topo::RouterMac(), M(dst)).Ip4(Topo::RemoteIp(), Topo::NodeIp()).Udp(1, 2),
              Topo::kUplink);
    EXPECT_EQ(out.edge, Edge::kNext) << "destination MAC " << dst;
  }
}

TEST(EthParseStage, PodsMayAddressAnyUnicastMac) {
  // Only the uplink filters on the destination MAC; a pod's frames are ours whatever it wrote.
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::PodAMac(), M("02:00:00:00:00:77"))
                             .Ip4(Topo::PodAIp(), Topo::PodBIp())
                             .Udp(1, 2),
                         Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
}

TEST(EthParseStage, HardwareVerifiedChecksumIsTrusted) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  const auto good =
      h.Run(FromPodA().Udp(1, 2).BadIp4Checksum(), Topo::kPodA, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
  EXPECT_EQ(good.edge, Edge::kNext) << "a GOOD rx flag means the NIC verified it";
  const auto unknown =
      h.Run(FromPodA().Udp(1, 2).BadIp4Checksum(), Topo::kPodA, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
  EXPECT_EQ(unknown.edge, Edge::kDrop);
  EXPECT_EQ(unknown.meta.drop, DropReason::kIp4BadChecksum);
}

TEST(EthParseStage, StaleMetaFromAnEarlierUseOfTheMbufIsOverwritten) {
  auto snap = testing::StandardTopology().Build();
  // Mbufs are recycled: meta left over from a previous packet must not leak into this one.
  rte_mbuf* m = testing::ToMbuf(FromPodA().Udp(1, 2), Topo::kPodA);
  PacketMeta& meta = Meta(m);
  meta.punt = true;
  meta.out_port = 3;
  meta.drop = DropReason::kNoRoute;
  meta.cls = PacketClass::kArp;
  Burst b;
  b.pkts[b.n++] = m;
  Verdicts v;
  WorkerCounters counters;
  StageContext ctx{*snap, counters, 0};
  EthParseStage::Process(ctx, b, v);
  EXPECT_EQ(v.edge[0], Edge::kNext);
  EXPECT_FALSE(meta.punt);
  EXPECT_EQ(meta.out_port, kNoPort);
  EXPECT_EQ(meta.drop, DropReason::kUnspecified);
  EXPECT_EQ(meta.cls, PacketClass::kIp4);
  rte_pktmbuf_free(m);
}

TEST(EthParseStage, MixedBurstGetsOneVerdictPerPacketInOrder) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<EthParseStage> h(*snap);
  std::vector<testing::Input> in;
  std::vector<Edge> want;
  for (int i = 0; i < kBurstMax; ++i) {
    const bool bad = i % 3 == 1;
    Pkt p = FromPodA().Udp(static_cast<uint16_t>(i), 9);
    if (bad) p.BadIp4Checksum();
    in.push_back({p, Topo::kPodA});
    want.push_back(bad ? Edge::kDrop : Edge::kNext);
  }
  const auto out = h.RunBurst(in);
  ASSERT_EQ(out.size(), want.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].edge, want[i]) << "packet " << i;
  EXPECT_EQ(h.drops(DropReason::kIp4BadChecksum), 21u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
