// Replies to clients outside the cluster: a connection that enters from the uplink (here straight
// to a pod; NodePort and load-balancer connections enter the same way before their DNAT) teaches
// ct_commit the client's MAC, and the pod's replies — conntrack replies to an address that is no
// pod and no remote pod CIDR — leave the uplink to that MAC (ip4_lookup decides, ip4_forward
// rewrites). Anything else to such an address stays no_route.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/stages/ct_commit.h"
#include "dataplane/stages/ip4_forward.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/uplink_peers.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;

const Mac kClientMac{{0x02, 0x99, 0, 0, 0, 0x01}};
const Ip4 kClient = A("198.51.100.7");

struct Outside {
  Outside() {
    testing::Eal();
    std::string error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "uplink_reply_ct"))
        << error;
    EXPECT_TRUE(peers.Init(64, &error)) << error;
    snap = testing::StandardTopology().Build();
    snap->conntrack = &ct;
    snap->uplink_peers = &peers;
  }
  Conntrack ct;
  UplinkPeers peers;
  std::unique_ptr<Snapshot> snap;
};

Pkt ClientSyn() {
  return Pkt().Eth(kClientMac, Topo::UplinkMac()).Ip4(kClient, Topo::PodAIp())
      .Tcp(40000, 8080, testing::kTcpSyn);
}
Pkt PodReply(uint16_t dport = 40000) {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), kClient)
      .Tcp(8080, dport, testing::kTcpSyn | testing::kTcpAck);
}

TEST(UplinkReply, APodsReplyLeavesTheUplinkToTheClientsMac) {
  Outside o;
  StageHarness<Ip4ForwardStage> h(*o.snap);
  const auto in = h.Run(ClientSyn(), Topo::kUplink);
  ASSERT_EQ(in.edge, Edge::kNext);
  EXPECT_EQ(in.meta.out_port, Topo::kPodA);

  const auto out = h.Run(PodReply(), Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop);
  EXPECT_EQ(out.meta.ct_state, CtState::kReply);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  const Bytes want = PodReply().Eth(Topo::UplinkMac(), kClientMac).Ttl(63);
  EXPECT_TRUE(SameFrame(want, out.bytes));
}

TEST(UplinkReply, WithoutAConnectionFromTheClientItIsNoRoute) {
  Outside o;
  StageHarness<Ip4ForwardStage> h(*o.snap);
  const auto out = h.Run(PodReply(), Topo::kPodA);  // the pod opens: no client taught us a MAC
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kNoRoute);
}

TEST(UplinkPeers, FindsWhatWasLearnedAndNothingElse) {
  testing::Eal();
  UplinkPeers peers;
  std::string error;
  ASSERT_TRUE(peers.Init(64, &error)) << error;
  const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
  std::array<uint8_t, 6> got;
  EXPECT_FALSE(peers.Find(kClient.be, &got));
  peers.Learn(kClient.be, mac);
  ASSERT_TRUE(peers.Find(kClient.be, &got));
  EXPECT_EQ(got, (std::array<uint8_t, 6>{1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(peers.Find(A("198.51.100.8").be, &got));
}

}  // namespace
}  // namespace nodeplane::dp
