// Unit tests of the arp_respond stage: the exact reply bytes for the gateway (from a pod) and for a
// pod address (from the host), what is dropped, and what is left to the host kernel.
#include "dataplane/stages/arp_respond.h"

#include <gtest/gtest.h>

#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/neighbor_events.h"
#include "dataplane/core/snapshot.h"
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
        PassCase{
            "UplinkReply",
            Pkt()
                .Eth(Topo::RouterMac(), Topo::UplinkMac())
                .ArpReply(Topo::RouterMac(), Topo::RemoteIp(), Topo::UplinkMac(), Topo::NodeIp()),
            Topo::kUplink},
        PassCase{
            "UplinkReplyToAnotherHost",
            Pkt()
                .Eth(Topo::RouterMac(), kBroadcast)
                .ArpReply(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodAMac(), A("192.168.1.77")),
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
                 Topo::kHost, DropReason::kArpMalformed},
        // The uplink: only the node's own addresses are the host kernel's to answer.
        DropCase{"UplinkRequestForAPodAddress",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodAIp()),
                 Topo::kUplink, DropReason::kArpNotForUs},
        DropCase{"UplinkRequestForAnUnknownAddress",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), A("192.168.1.77")),
                 Topo::kUplink, DropReason::kArpNotForUs},
        DropCase{"UplinkGratuitousArp",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::RemoteIp()),
                 Topo::kUplink, DropReason::kArpNotForUs},
        DropCase{"UplinkTruncatedArp",
                 Pkt()
                     .Eth(Topo::RouterMac(), kBroadcast)
                     .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp())
                     .TruncateTo(20),
                 Topo::kUplink, DropReason::kArpMalformed}),
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

// Learning: ARP from a wanted underlay next hop is reported to control through the event ring.
class ArpRespondLearning : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Eal();
    std::string error;
    static int seq = 0;
    events_ = NeighborEvents::Create("arp_learn_" + std::to_string(seq++), 4, SOCKET_ID_ANY,
                                     &error);
    ASSERT_NE(events_, nullptr) << error;
    auto b = testing::StandardTopology();
    b.mutable_spec().wanted_neighbors = {Topo::RemoteIp(), A("192.168.1.21")};
    snap_ = b.Build();
    snap_->neighbor_events = events_.get();
  }
  std::vector<NeighborEvent> Drain() {
    NeighborEvent out[16];
    const unsigned n = events_->Drain(out, 16);
    return std::vector<NeighborEvent>(out, out + n);
  }
  static Bytes RouterAsks(Ip4 sender, Ip4 target, Mac mac = Topo::RouterMac()) {
    return Pkt().Eth(mac, kBroadcast).ArpRequest(mac, sender, target);
  }
  std::unique_ptr<NeighborEvents> events_;
  std::unique_ptr<Snapshot> snap_;
};

TEST_F(ArpRespondLearning, RequestFromAWantedNextHopIsReportedAndPunted) {
  StageHarness<ArpRespondStage> h(*snap_);
  const Bytes frame = RouterAsks(Topo::RemoteIp(), Topo::NodeIp());
  const auto out = h.Run(frame, Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_TRUE(SameFrame(frame, out.bytes));
  const auto ev = Drain();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ip, Topo::RemoteIp().be);
  EXPECT_EQ(ev[0].mac, Topo::RouterMac().bytes);
  EXPECT_EQ(h.events(Counter::kNeighborEventsReported), 1u);
}

TEST_F(ArpRespondLearning, ReplyFromAWantedNextHopIsReportedAndPunted) {
  StageHarness<ArpRespondStage> h(*snap_);
  const auto out = h.Run(
      Pkt()
          .Eth(Topo::RouterMac(), Topo::UplinkMac())
          .ArpReply(Topo::RouterMac(), Topo::RemoteIp(), Topo::UplinkMac(), Topo::NodeIp()),
      Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
  const auto ev = Drain();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].mac, Topo::RouterMac().bytes);
}

TEST_F(ArpRespondLearning, WantedNextHopAskingForSomeoneElseIsReportedThenDropped) {
  StageHarness<ArpRespondStage> h(*snap_);
  const auto out = h.Run(RouterAsks(Topo::RemoteIp(), A("192.168.1.77")), Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(h.drops(DropReason::kArpNotForUs), 1u);
  EXPECT_EQ(Drain().size(), 1u);
}

TEST_F(ArpRespondLearning, UnwantedSenderIsNotReported) {
  StageHarness<ArpRespondStage> h(*snap_);
  const auto out = h.Run(RouterAsks(A("192.168.1.30"), Topo::NodeIp()), Topo::kUplink);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(h.events(Counter::kNeighborEventsReported), 0u);
}

TEST_F(ArpRespondLearning, GroupOrZeroSenderMacIsNotReported) {
  StageHarness<ArpRespondStage> h(*snap_);
  h.Run(RouterAsks(Topo::RemoteIp(), Topo::NodeIp(), M("01:00:5e:00:00:01")), Topo::kUplink);
  h.Run(RouterAsks(Topo::RemoteIp(), Topo::NodeIp(), M("00:00:00:00:00:00")), Topo::kUplink);
  EXPECT_TRUE(Drain().empty());
}

TEST_F(ArpRespondLearning, ArpOnOtherPortsIsNotReported) {
  StageHarness<ArpRespondStage> h(*snap_);
  h.Run(Pkt().Eth(Topo::HostMac(), kBroadcast).ArpRequest(Topo::HostMac(), Topo::RemoteIp(),
                                                           Topo::PodAIp()),
        Topo::kHost);
  EXPECT_TRUE(Drain().empty());
}

TEST_F(ArpRespondLearning, FullRingCountsTheLossAndStillPunts) {
  StageHarness<ArpRespondStage> h(*snap_);
  const unsigned cap = events_->capacity();
  std::vector<testing::Input> burst;
  for (unsigned i = 0; i < cap + 3; ++i) {
    burst.push_back({RouterAsks(Topo::RemoteIp(), Topo::NodeIp()), Topo::kUplink});
  }
  const auto out = h.RunBurst(burst);
  for (const auto& o : out) EXPECT_TRUE(o.meta.punt);
  EXPECT_EQ(h.events(Counter::kNeighborEventsReported), cap);
  EXPECT_EQ(h.events(Counter::kNeighborEventsLost), 3u);
  EXPECT_EQ(Drain().size(), cap);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST_F(ArpRespondLearning, WithoutARingNothingIsReported) {
  snap_->neighbor_events = nullptr;
  StageHarness<ArpRespondStage> h(*snap_);
  const auto out = h.Run(RouterAsks(Topo::RemoteIp(), Topo::NodeIp()), Topo::kUplink);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(h.events(Counter::kNeighborEventsReported), 0u);
  EXPECT_EQ(h.events(Counter::kNeighborEventsLost), 0u);
}

TEST_F(ArpRespondLearning, StormForUnknownAddressesIsDroppedAndReportsNothing) {
  StageHarness<ArpRespondStage> h(*snap_);
  std::vector<testing::Input> burst;
  for (uint32_t i = 0; i < kBurstMax; ++i) {
    Ip4 sender = A("172.16.0.0");
    sender.be = rte_cpu_to_be_32(sender.host() + i);
    Ip4 target = A("172.17.0.0");
    target.be = rte_cpu_to_be_32(target.host() + i);
    burst.push_back({RouterAsks(sender, target), Topo::kUplink});
  }
  const auto out = h.RunBurst(burst);
  for (const auto& o : out) EXPECT_EQ(o.edge, Edge::kDrop);
  EXPECT_EQ(h.drops(DropReason::kArpNotForUs), kBurstMax);
  EXPECT_TRUE(Drain().empty());
}

TEST(ArpRespondStage, UplinkRequestForTheVtepIsPunted) {
  auto b = testing::StandardTopology();
  b.mutable_spec().overlay.enabled = true;
  b.mutable_spec().overlay.vtep_ip = A("192.168.1.11");
  auto snap = b.Build();
  StageHarness<ArpRespondStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::RouterMac(), kBroadcast)
                             .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), A("192.168.1.11")),
                         Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
}

}  // namespace
}  // namespace nodeplane::dp
