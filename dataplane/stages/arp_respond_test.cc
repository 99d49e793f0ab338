// Unit tests of the arp_respond stage: the exact reply bytes for the gateway (from a pod) and for a
// pod address (from the host), what is dropped, and what is left to the host kernel.
#include "dataplane/stages/arp_respond.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

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

const Mac kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

Pkt PodAAsks(Ip4 target) {
  return Pkt().Eth(Topo::PodAMac(), kBroadcast).ArpRequest(Topo::PodAMac(), Topo::PodAIp(), target);
}

Pkt HostAsks(Ip4 target) {
  return Pkt().Eth(Topo::HostMac(), kBroadcast).ArpRequest(Topo::HostMac(), Topo::NodeIp(), target);
}

TEST(ArpRespondStage, GatewayIsAnsweredToThePodWithOurMac) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(PodAAsks(Topo::PodGateway()), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.decided_by, ArpRespondStage::kName);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA) << "the reply goes back out of the asking port";
  const Bytes want =
      Pkt()
          .Eth(Topo::GatewayMac(), Topo::PodAMac())
          .ArpReply(Topo::GatewayMac(), Topo::PodGateway(), Topo::PodAMac(), Topo::PodAIp());
  EXPECT_TRUE(SameFrame(want, out.bytes));
  EXPECT_EQ(h.events(Counter::kArpRepliesSent), 1u);
}

TEST(ArpRespondStage, PaddedRequestGetsAMinimalReply) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(PodAAsks(Topo::PodGateway()).PadTo(60), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kTx);
  const Bytes want =
      Pkt()
          .Eth(Topo::GatewayMac(), Topo::PodAMac())
          .ArpReply(Topo::GatewayMac(), Topo::PodGateway(), Topo::PodAMac(), Topo::PodAIp());
  EXPECT_TRUE(SameFrame(want, out.bytes));
}

TEST(ArpRespondStage, GatewayReplyUsesThePortsOwnMacAndGateway) {
  // Each pod port answers with its own PortSpec values, not with a global constant.
  auto snap = testing::SpecBuilder()
                  .Pod(5, Topo::PodAIp(), Topo::PodAMac(), M("02:aa:bb:cc:dd:ee"), A("10.244.1.1"))
                  .Route(Topo::PodAIp(), 5)
                  .Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(PodAAsks(A("10.244.1.1")), 5);
  ASSERT_EQ(out.edge, Edge::kTx);
  const Bytes want =
      Pkt()
          .Eth(M("02:aa:bb:cc:dd:ee"), Topo::PodAMac())
          .ArpReply(M("02:aa:bb:cc:dd:ee"), A("10.244.1.1"), Topo::PodAMac(), Topo::PodAIp());
  EXPECT_TRUE(SameFrame(want, out.bytes));
}

TEST(ArpRespondStage, PodAddressIsAnsweredToTheHost) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(HostAsks(Topo::PodBIp()), Topo::kHost);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.meta.out_port, Topo::kHost);
  const Bytes want =
      Pkt()
          .Eth(Topo::GatewayMac(), Topo::HostMac())
          .ArpReply(Topo::GatewayMac(), Topo::PodBIp(), Topo::HostMac(), Topo::NodeIp());
  EXPECT_TRUE(SameFrame(want, out.bytes));
  EXPECT_EQ(h.events(Counter::kArpRepliesSent), 1u);
}

struct PassCase {
  std::string name;
  friend void PrintTo(const PassCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  uint16_t in_port;
};

class ArpRespondPunts : public ::testing::TestWithParam<PassCase> {};

TEST_P(ArpRespondPunts, IsLeftUntouchedForTheHostKernel) {
  const PassCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(c.frame, c.in_port);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.decided_by, ArpRespondStage::kName);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_TRUE(SameFrame(c.frame, out.bytes));
  EXPECT_EQ(h.events(Counter::kArpRepliesSent), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    ArpRespondStage, ArpRespondPunts,
    ::testing::Values(
        PassCase{"UplinkRequestForTheNode",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp()),
                 Topo::kUplink},
        PassCase{"UplinkRequestForAPodAddress",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodAIp()),
                 Topo::kUplink},
        PassCase{
            "UplinkReply",
            Pkt()
                .Eth(Topo::RouterMac(), Topo::UplinkMac())
                .ArpReply(Topo::RouterMac(), Topo::RemoteIp(), Topo::UplinkMac(), Topo::NodeIp()),
            Topo::kUplink},
        PassCase{"UplinkTruncatedArp",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp())
                     .TruncateTo(20),
                 Topo::kUplink},
        PassCase{"HostRequestForARemoteAddress", HostAsks(Topo::RemoteIp()), Topo::kHost},
        PassCase{"HostRequestForTheNodeItself", HostAsks(Topo::NodeIp()), Topo::kHost},
        PassCase{
            "HostReplyForAPodAddress",
            Pkt()
                .Eth(Topo::HostMac(), Topo::RouterMac())
                .ArpReply(Topo::HostMac(), Topo::PodAIp(), Topo::RouterMac(), Topo::RemoteIp()),
            Topo::kHost}),
    [](const ::testing::TestParamInfo<PassCase>& info) { return info.param.name; });

struct DropCase {
  std::string name;
  friend void PrintTo(const DropCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  uint16_t in_port;
  DropReason reason;
};

Bytes WithProtocolType(Bytes frame, uint16_t type) {
  frame[14 + 2] = static_cast<uint8_t>(type >> 8);
  frame[14 + 3] = static_cast<uint8_t>(type);
  return frame;
}

Bytes WithHardwareLength(Bytes frame, uint8_t hlen) {
  frame[14 + 4] = hlen;
  return frame;
}

class ArpRespondDrops : public ::testing::TestWithParam<DropCase> {};

TEST_P(ArpRespondDrops, IsDroppedWithReason) {
  const DropCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(c.frame, c.in_port);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.decided_by, ArpRespondStage::kName);
  EXPECT_EQ(DropReasonName(out.meta.drop), DropReasonName(c.reason));
  EXPECT_EQ(h.drops(c.reason), 1u);
  EXPECT_EQ(h.events(Counter::kArpRepliesSent), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    ArpRespondStage, ArpRespondDrops,
    ::testing::Values(
        DropCase{"PodAsksForAnotherPod", PodAAsks(Topo::PodBIp()), Topo::kPodA,
                 DropReason::kArpNotGateway},
        DropCase{"PodAsksForTheNode", PodAAsks(Topo::NodeIp()), Topo::kPodA,
                 DropReason::kArpNotGateway},
        DropCase{"PodGratuitousArp", PodAAsks(Topo::PodAIp()), Topo::kPodA,
                 DropReason::kArpNotGateway},
        DropCase{
            "PodSendsAReplyForTheGateway",
            Pkt()
                .Eth(Topo::PodAMac(), Topo::GatewayMac())
                .ArpReply(Topo::PodAMac(), Topo::PodAIp(), Topo::GatewayMac(), Topo::PodGateway()),
            Topo::kPodA, DropReason::kArpNotGateway},
        DropCase{"TruncatedFromPod", PodAAsks(Topo::PodGateway()).TruncateTo(14 + 27), Topo::kPodA,
                 DropReason::kArpMalformed},
        DropCase{"TruncatedFromHost", HostAsks(Topo::PodAIp()).TruncateTo(14 + 10), Topo::kHost,
                 DropReason::kArpMalformed},
        DropCase{"NotEthernetHardware", PodAAsks(Topo::PodGateway()).ArpHardware(6), Topo::kPodA,
                 DropReason::kArpMalformed},
        DropCase{"ProtocolLengthNotFour", PodAAsks(Topo::PodGateway()).ArpProtocolLength(16),
                 Topo::kPodA, DropReason::kArpMalformed},
        DropCase{"ProtocolNotIp4", WithProtocolType(PodAAsks(Topo::PodGateway()), 0x86dd),
                 Topo::kPodA, DropReason::kArpMalformed},
        DropCase{"HardwareLengthNotSix", WithHardwareLength(HostAsks(Topo::PodAIp()), 8),
                 Topo::kHost, DropReason::kArpMalformed}),
    [](const ::testing::TestParamInfo<DropCase>& info) { return info.param.name; });

TEST(ArpRespondStage, Ip4IsNotItsBusiness) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const Bytes frame =
      Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp()).Udp(1, 2);
  const auto out = h.Run(frame, Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_FALSE(out.meta.punt);
  EXPECT_TRUE(SameFrame(frame, out.bytes));
}

TEST(ArpRespondStage, HostRequestForAnUnknownAddressInThePodCidrIsPunted) {
  // No local pod has it: the host kernel may know better (it is not ours to claim).
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(HostAsks(A("10.244.1.99")), Topo::kHost);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
}

TEST(ArpRespondStage, BurstOfRequestsFromEveryPortGetsOneVerdictEach) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.RunBurst({
      {PodAAsks(Topo::PodGateway()), Topo::kPodA},
      {PodAAsks(Topo::PodBIp()), Topo::kPodA},
      {HostAsks(Topo::PodAIp()), Topo::kHost},
      {HostAsks(Topo::RemoteIp()), Topo::kHost},
      {Pkt()
           .Eth(Topo::RouterMac(), kBroadcast)
           .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp()),
       Topo::kUplink},
  });
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].edge, Edge::kTx);
  EXPECT_EQ(out[1].edge, Edge::kDrop);
  EXPECT_EQ(out[2].edge, Edge::kTx);
  EXPECT_EQ(out[3].edge, Edge::kNext);
  EXPECT_TRUE(out[3].meta.punt);
  EXPECT_EQ(out[4].edge, Edge::kNext);
  EXPECT_TRUE(out[4].meta.punt);
  EXPECT_EQ(h.events(Counter::kArpRepliesSent), 2u);
  EXPECT_EQ(h.drops(DropReason::kArpNotGateway), 1u);
}

}  // namespace
}  // namespace nodeplane::dp
