// Unit tests of the host_exception stage: punted packets go to the host kernel, the host's own
// traffic goes to the uplink, untouched both ways; without the port they need, PORT_UNAVAILABLE.
#include "dataplane/stages/host_exception.h"

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

struct PuntCase {
  std::string name;
  friend void PrintTo(const PuntCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
  uint16_t in_port;
  uint16_t want_out;
  Counter want_counter;
};

class HostExceptionPunts : public ::testing::TestWithParam<PuntCase> {};

TEST_P(HostExceptionPunts, GoesUntouchedToTheOtherSide) {
  const PuntCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<HostExceptionStage> h(*snap);
  const auto out = h.Run(c.frame, c.in_port);
  ASSERT_EQ(out.decided_by, HostExceptionStage::kName);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, c.want_out);
  EXPECT_TRUE(SameFrame(c.frame, out.bytes));
  EXPECT_EQ(h.events(c.want_counter), 1u);
  EXPECT_EQ(h.events(Counter::kRouted), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    HostExceptionStage, HostExceptionPunts,
    ::testing::Values(PuntCase{"UplinkArpToHost",
                               Pkt()
                                   .Eth(Topo::RouterMac(), kBroadcast)
                                   .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp()),
                               Topo::kUplink, Topo::kHost, Counter::kPuntedToHost},
                      PuntCase{"UplinkIp6ToHost",
                               Pkt()
                                   .Eth(Topo::RouterMac(), Topo::UplinkMac())
                                   .EthType(testing::kEthTypeIp6)
                                   .Payload(Bytes(60, 6)),
                               Topo::kUplink, Topo::kHost, Counter::kPuntedToHost},
                      PuntCase{"UplinkLldpToHost",
                               Pkt()
                                   .Eth(Topo::RouterMac(), M("01:80:c2:00:00:0e"))
                                   .EthType(0x88cc)
                                   .Payload(Bytes(46, 0)),
                               Topo::kUplink, Topo::kHost, Counter::kPuntedToHost},
                      PuntCase{"UplinkIp4ToNodeAddressToHost",
                               Pkt()
                                   .Eth(Topo::RouterMac(), Topo::UplinkMac())
                                   .Ip4(Topo::RemoteIp(), Topo::NodeIp())
                                   .Tcp(40000, 22),
                               Topo::kUplink, Topo::kHost, Counter::kPuntedToHost},
                      PuntCase{"UplinkIp4BroadcastToHost",
                               Pkt()
                                   .Eth(Topo::RouterMac(), kBroadcast)
                                   .Ip4(Topo::RemoteIp(), A("192.168.1.255"))
                                   .Udp(68, 67),
                               Topo::kUplink, Topo::kHost, Counter::kPuntedToHost},
                      PuntCase{"HostIp4ToRemoteToUplink",
                               Pkt()
                                   .Eth(Topo::HostMac(), Topo::RouterMac())
                                   .Ip4(Topo::NodeIp(), Topo::RemoteIp())
                                   .Tcp(22, 40000, testing::kTcpAck),
                               Topo::kHost, Topo::kUplink, Counter::kHostToUplink},
                      PuntCase{"HostArpForRemoteToUplink",
                               Pkt()
                                   .Eth(Topo::HostMac(), kBroadcast)
                                   .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Topo::RemoteIp()),
                               Topo::kHost, Topo::kUplink, Counter::kHostToUplink},
                      PuntCase{"HostIp6ToUplink",
                               Pkt()
                                   .Eth(Topo::HostMac(), Topo::RouterMac())
                                   .EthType(testing::kEthTypeIp6)
                                   .Payload(Bytes(60, 6)),
                               Topo::kHost, Topo::kUplink, Counter::kHostToUplink},
                      PuntCase{"HostIp4WithTtlOneToRemoteIsNotExpired",
                               Pkt()
                                   .Eth(Topo::HostMac(), Topo::RouterMac())
                                   .Ip4(Topo::NodeIp(), Topo::RemoteIp())
                                   .Ttl(1)
                                   .Udp(33434, 33434),
                               Topo::kHost, Topo::kUplink, Counter::kHostToUplink}),
    [](const ::testing::TestParamInfo<PuntCase>& info) { return info.param.name; });

TEST(HostExceptionStage, RoutedPacketsAreNotItsBusiness) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<HostExceptionStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::RouterMac(), Topo::UplinkMac())
                             .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                             .Udp(53, 5000),
                         Topo::kUplink);
  EXPECT_EQ(out.decided_by, HostExceptionStage::kName);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_FALSE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA) << "uplink IPv4 for a pod is routed to the pod";
  EXPECT_EQ(h.events(Counter::kPuntedToHost), 0u);
  EXPECT_EQ(h.events(Counter::kRouted), 1u);
}

TEST(HostExceptionStage, PuntWithoutHostPortIsDropped) {
  auto snap = testing::TopologyWithoutHost().Build();
  StageHarness<HostExceptionStage> h(*snap);
  const auto out = h.Run(Pkt()
                             .Eth(Topo::RouterMac(), kBroadcast)
                             .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp()),
                         Topo::kUplink);
  EXPECT_EQ(out.decided_by, HostExceptionStage::kName);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kPortUnavailable);
  EXPECT_EQ(h.drops(DropReason::kPortUnavailable), 1u);
  EXPECT_EQ(h.events(Counter::kPuntedToHost), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(HostExceptionStage, HostTrafficWithoutUplinkIsDropped) {
  auto snap = testing::TopologyWithoutUplink().Build();
  StageHarness<HostExceptionStage> h(*snap);
  const auto out = h.Run(
      Pkt().Eth(Topo::HostMac(), Topo::RouterMac()).Ip4(Topo::NodeIp(), Topo::RemoteIp()).Udp(1, 2),
      Topo::kHost);
  EXPECT_EQ(out.decided_by, HostExceptionStage::kName);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kPortUnavailable);
  EXPECT_EQ(h.events(Counter::kHostToUplink), 0u);
}

TEST(HostExceptionStage, HostToPodStillRoutedWithoutUplink) {
  auto snap = testing::TopologyWithoutUplink().Build();
  StageHarness<HostExceptionStage> h(*snap);
  const auto out = h.Run(
      Pkt().Eth(Topo::HostMac(), Topo::GatewayMac()).Ip4(Topo::NodeIp(), Topo::PodBIp()).Udp(1, 2),
      Topo::kHost);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.out_port, Topo::kPodB);
}

}  // namespace
}  // namespace nodeplane::dp
