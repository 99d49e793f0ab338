// Unit tests of the ip4_lookup stage: where each IPv4 packet goes (pod, host, punt), anti-spoofing
// on pod ports, NO_ROUTE, and that one bulk lookup per burst gives every packet its own answer.
#include "dataplane/stages/ip4_lookup.h"

#include <gtest/gtest.h>

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
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;

Bytes FromPod(Ip4 src, Ip4 dst) {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(src, dst).Udp(1234, 80);
}
Bytes FromUplink(Ip4 src, Ip4 dst) {
  return Pkt().Eth(Topo::RouterMac(), Topo::UplinkMac()).Ip4(src, dst).Udp(1234, 80);
}
Bytes FromHost(Ip4 src, Ip4 dst) {
  return Pkt().Eth(Topo::HostMac(), Topo::GatewayMac()).Ip4(src, dst).Udp(1234, 80);
}

struct RouteCase {
  std::string name;
  friend void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  uint16_t in_port;
  uint16_t want_out;  // kNoPort with want_punt
  bool want_punt;
};

class Ip4LookupRoutes : public ::testing::TestWithParam<RouteCase> {};

TEST_P(Ip4LookupRoutes, ChoosesTheOutputOrPunts) {
  const RouteCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4LookupStage> h(*snap);
  const auto out = h.Run(c.frame, c.in_port);
  ASSERT_EQ(out.decided_by, Ip4LookupStage::kName);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.punt, c.want_punt);
  EXPECT_EQ(out.meta.out_port, c.want_out);
  EXPECT_TRUE(SameFrame(c.frame, out.bytes)) << "ip4_lookup decides only";
}

INSTANTIATE_TEST_SUITE_P(
    Ip4LookupStage, Ip4LookupRoutes,
    ::testing::Values(
        RouteCase{"PodToPod", FromPod(Topo::PodAIp(), Topo::PodBIp()), Topo::kPodA, Topo::kPodB,
                  false},
        RouteCase{"PodToItself", FromPod(Topo::PodAIp(), Topo::PodAIp()), Topo::kPodA, Topo::kPodA,
                  false},
        RouteCase{"PodToNodeAddressGoesToHostPort", FromPod(Topo::PodAIp(), Topo::NodeIp()),
                  Topo::kPodA, Topo::kHost, false},
        RouteCase{"UplinkToPodIsRouted", FromUplink(Topo::RemoteIp(), Topo::PodBIp()),
                  Topo::kUplink, Topo::kPodB, false},
        RouteCase{"UplinkToNodeAddressIsPunted", FromUplink(Topo::RemoteIp(), Topo::NodeIp()),
                  Topo::kUplink, kNoPort, true},
        RouteCase{"UplinkToUnknownAddressIsPunted", FromUplink(Topo::RemoteIp(), A("8.8.8.8")),
                  Topo::kUplink, kNoPort, true},
        RouteCase{"UplinkBroadcastIsPunted", FromUplink(Topo::RemoteIp(), A("255.255.255.255")),
                  Topo::kUplink, kNoPort, true},
        RouteCase{"HostToPodIsRouted", FromHost(Topo::NodeIp(), Topo::PodAIp()), Topo::kHost,
                  Topo::kPodA, false},
        RouteCase{"HostToRemoteIsPunted", FromHost(Topo::NodeIp(), Topo::RemoteIp()), Topo::kHost,
                  kNoPort, true},
        RouteCase{"HostToItsOwnAddressIsPunted", FromHost(Topo::NodeIp(), Topo::NodeIp()),
                  Topo::kHost, kNoPort, true},
        RouteCase{"HostMayUseAnySourceAddress", FromHost(A("10.9.9.9"), Topo::PodBIp()),
                  Topo::kHost, Topo::kPodB, false},
        RouteCase{"UplinkMayUseAnySourceAddress", FromUplink(Topo::PodAIp(), Topo::PodBIp()),
                  Topo::kUplink, Topo::kPodB, false}),
    [](const ::testing::TestParamInfo<RouteCase>& info) { return info.param.name; });

struct DropCase {
  std::string name;
  friend void PrintTo(const DropCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  DropReason reason;
};

class Ip4LookupDrops : public ::testing::TestWithParam<DropCase> {};

TEST_P(Ip4LookupDrops, PodPacketIsDroppedWithReason) {
  const DropCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4LookupStage> h(*snap);
  const auto out = h.Run(c.frame, Topo::kPodA);
  ASSERT_EQ(out.decided_by, Ip4LookupStage::kName);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(DropReasonName(out.meta.drop), DropReasonName(c.reason));
  EXPECT_EQ(h.drops(c.reason), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Ip4LookupStage, Ip4LookupDrops,
    ::testing::Values(DropCase{"SourceIsAnotherPod", FromPod(Topo::PodBIp(), Topo::PodBIp()),
                               DropReason::kSourceSpoofed},
                      DropCase{"SourceIsTheNode", FromPod(Topo::NodeIp(), Topo::PodBIp()),
                               DropReason::kSourceSpoofed},
                      DropCase{"SourceIsUnspecified", FromPod(A("0.0.0.0"), Topo::PodBIp()),
                               DropReason::kSourceSpoofed},
                      DropCase{"SourceIsRemote", FromPod(Topo::RemoteIp(), Topo::PodBIp()),
                               DropReason::kSourceSpoofed},
                      DropCase{"SpoofedAndUnroutableCountsAsSpoofed",
                               FromPod(Topo::RemoteIp(), A("8.8.8.8")), DropReason::kSourceSpoofed},
                      DropCase{"DestinationIsRemote", FromPod(Topo::PodAIp(), A("8.8.8.8")),
                               DropReason::kNoRoute},
                      DropCase{"DestinationIsAnUnusedPodAddress",
                               FromPod(Topo::PodAIp(), A("10.244.1.99")), DropReason::kNoRoute},
                      DropCase{"DestinationIsTheGateway",
                               FromPod(Topo::PodAIp(), Topo::PodGateway()), DropReason::kNoRoute},
                      DropCase{"DestinationIsBroadcast",
                               FromPod(Topo::PodAIp(), A("255.255.255.255")),
                               DropReason::kNoRoute}),
    [](const ::testing::TestParamInfo<DropCase>& info) { return info.param.name; });

TEST(Ip4LookupStage, PodWithoutRouteToNodeWhenNoHostPort) {
  // Without an exception port there is no route to the node address: a pod gets NO_ROUTE.
  auto snap = testing::TopologyWithoutHost().Build();
  StageHarness<Ip4LookupStage> h(*snap);
  const auto out = h.Run(FromPod(Topo::PodAIp(), Topo::NodeIp()), Topo::kPodA);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kNoRoute);
}

TEST(Ip4LookupStage, ArpAndPuntedFramesPassUntouched) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4LookupStage> h(*snap);
  const auto out = h.RunBurst({
      {Pkt()
           .Eth(Topo::HostMac(), Topo::RouterMac())
           .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Topo::RemoteIp()),
       Topo::kHost},
      {Pkt()
           .Eth(Topo::RouterMac(), Topo::UplinkMac())
           .EthType(testing::kEthTypeIp6)
           .Payload(Bytes(40, 1)),
       Topo::kUplink},
  });
  for (const auto& o : out) {
    EXPECT_EQ(o.decided_by, Ip4LookupStage::kName);
    EXPECT_EQ(o.edge, Edge::kNext);
    EXPECT_TRUE(o.meta.punt);
    EXPECT_EQ(o.meta.out_port, kNoPort);
  }
}

TEST(Ip4LookupStage, FullBurstOfMixedDestinationsGetsEachItsOwnAnswer) {
  // The bulk lookup gathers only IPv4 packets; answers must land on the right packet even when
  // ARP frames are interleaved.
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4LookupStage> h(*snap);
  struct Want {
    Edge edge;
    uint16_t out;
    bool punt;
  };
  std::vector<testing::Input> in;
  std::vector<Want> want;
  for (int i = 0; i < kBurstMax; ++i) {
    switch (i % 5) {
      case 0:
        in.push_back({FromPod(Topo::PodAIp(), Topo::PodBIp()), Topo::kPodA});
        want.push_back({Edge::kNext, Topo::kPodB, false});
        break;
      case 1:
        in.push_back({FromPod(Topo::PodAIp(), A("10.244.1.200")), Topo::kPodA});
        want.push_back({Edge::kDrop, kNoPort, false});
        break;
      case 2:
        in.push_back({Pkt()
                          .Eth(Topo::RouterMac(), Topo::UplinkMac())
                          .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp()),
                      Topo::kUplink});
        want.push_back({Edge::kNext, kNoPort, true});
        break;
      case 3:
        in.push_back({FromUplink(Topo::RemoteIp(), Topo::PodAIp()), Topo::kUplink});
        want.push_back({Edge::kNext, Topo::kPodA, false});
        break;
      case 4:
        in.push_back({FromPod(Topo::PodAIp(), Topo::NodeIp()), Topo::kPodA});
        want.push_back({Edge::kNext, Topo::kHost, false});
        break;
    }
  }
  const auto out = h.RunBurst(in);
  ASSERT_EQ(out.size(), want.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].edge, want[i].edge) << "packet " << i;
    EXPECT_EQ(out[i].meta.punt, want[i].punt) << "packet " << i;
    if (want[i].edge == Edge::kNext) {
      EXPECT_EQ(out[i].meta.out_port, want[i].out) << "packet " << i;
    }
  }
  EXPECT_EQ(h.drops(DropReason::kNoRoute), 13u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
