// Unit tests of ct_commit: a new connection is entered with the NAT decided before it, a full
// table refuses new connections but keeps established ones flowing, re-admitted connections
// record the policy generation, and a colliding SNAT source port is moved.
#include "dataplane/stages/ct_commit.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/stages/ct_testing.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::CtPipe;
using testing::Pkt;
using testing::Topo;
using testing::Tuple;

constexpr uint8_t kSyn = 0x02, kAck = 0x10;

Pkt FromA() {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp());
}

TEST(CtCommitStage, NewConnectionIsEnteredWithTheNatDecision) {
  CtPipe p;
  p.snap().policy_generation = 4;
  const Ip4 vip = A("10.96.0.10");
  auto out = p.Run(
      Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), vip).Tcp(40000, 80, kSyn),
      Topo::kPodA, [&](PacketMeta& m) {
        m.xlate_dst_ip = Topo::PodBIp().be;
        m.xlate_dst_port = htons(8080);
      });
  ASSERT_EQ(out.edge, Edge::kNext);
  const CtEntry* e = p.Find(Tuple(Topo::PodAIp(), 40000, vip, 80, IPPROTO_TCP));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(out.meta.ct, e);
  EXPECT_EQ(e->dnat_ip, Topo::PodBIp().be);
  EXPECT_EQ(e->dnat_port, htons(8080));
  EXPECT_EQ(e->snat_ip, 0u);
  EXPECT_EQ(e->policy_gen.load(), 4u);
  // The backend's answer finds the same connection.
  EXPECT_EQ(p.Find(Tuple(Topo::PodBIp(), 8080, Topo::PodAIp(), 40000, IPPROTO_TCP)), e);
  EXPECT_EQ(p.events(Counter::kCtCreated), 1u);
}

// ct_lookup misses all three (the table is empty when the burst arrives): the first creates the
// connection, the retransmission and the answer in the same burst join it instead of replacing it.
TEST(CtCommitStage, PacketsOfOneNewConnectionInOneBurstShareOneEntry) {
  CtPipe p;
  auto out = p.RunBurst({FromA().Tcp(40000, 80, kSyn), FromA().Tcp(40000, 80, kSyn),
                         Pkt()
                             .Eth(Topo::PodBMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodBIp(), Topo::PodAIp())
                             .Tcp(80, 40000, kSyn | kAck)},
                        Topo::kPodA);
  ASSERT_EQ(out.size(), 3u);
  const CtEntry* e = p.Find(Tuple(Topo::PodAIp(), 40000, Topo::PodBIp(), 80, IPPROTO_TCP));
  ASSERT_NE(e, nullptr);
  for (const auto& o : out) {
    EXPECT_EQ(o.edge, Edge::kNext);
    EXPECT_EQ(o.meta.ct, e);
  }
  EXPECT_EQ(p.events(Counter::kCtCreated), 1u);
  EXPECT_EQ(p.ct().connections(), 1u);
}

TEST(CtCommitStage, FullTableDropsNewConnectionsAndKeepsEstablishedOnes) {
  CtPipe p(/*entries=*/8);
  uint32_t admitted = 0;
  for (uint16_t port = 1; port <= 8; ++port) {
    if (p.Run(FromA().Tcp(port, 80, kSyn), Topo::kPodA).edge == Edge::kNext) ++admitted;
  }
  ASSERT_GE(admitted, 6u);  // the cuckoo hash may refuse a key slightly before the pool is empty
  auto refused = p.Run(FromA().Tcp(9999, 80, kSyn), Topo::kPodA);
  EXPECT_EQ(refused.edge, Edge::kDrop);
  EXPECT_EQ(refused.meta.drop, DropReason::kCtTableFull);
  EXPECT_GE(p.drops(DropReason::kCtTableFull), 1u);
  // The first connection keeps flowing both ways.
  auto more = p.Run(FromA().Tcp(1, 80, kAck), Topo::kPodA);
  EXPECT_EQ(more.edge, Edge::kNext);
  EXPECT_EQ(more.meta.ct_state, CtState::kEstablished);
  auto reply = p.Run(Pkt()
                         .Eth(Topo::PodBMac(), Topo::GatewayMac())
                         .Ip4(Topo::PodBIp(), Topo::PodAIp())
                         .Tcp(80, 1, kSyn | kAck),
                     Topo::kPodB);
  EXPECT_EQ(reply.edge, Edge::kNext);
  EXPECT_EQ(reply.meta.ct_state, CtState::kReply);
}

TEST(CtCommitStage, ReadmittedConnectionRecordsThePolicyGeneration) {
  CtPipe p;
  p.snap().policy_generation = 1;
  p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  const CtEntry* e = p.Find(Tuple(Topo::PodAIp(), 40000, Topo::PodBIp(), 80, IPPROTO_TCP));
  ASSERT_NE(e, nullptr);
  p.snap().policy_generation = 2;
  // Not re-admitted: the entry keeps the old generation, and the next packet still sees it.
  auto seen = p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA);
  EXPECT_EQ(seen.meta.ct_policy_gen, 1u);
  EXPECT_EQ(e->policy_gen.load(), 1u);
  p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA, [](PacketMeta& m) { m.policy_gen_ok = true; });
  EXPECT_EQ(e->policy_gen.load(), 2u);
  EXPECT_EQ(p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA).meta.ct_policy_gen, 2u);
}

TEST(CtCommitStage, CollidingSnatSourcePortIsMoved) {
  CtPipe p;
  auto snat_to_node = [](PacketMeta& m) { m.xlate_src_ip = Topo::NodeIp().be; };
  // Two clients using the same source port towards the same server, both SNATed to the node:
  // the second's reply tuple (B:80 → node:5555) would be the first's.
  auto first = p.Run(FromA().Tcp(5555, 80, kSyn), Topo::kPodA, snat_to_node);
  ASSERT_EQ(first.edge, Edge::kNext);
  EXPECT_EQ(first.meta.src_port, htons(5555));  // no collision: the port is kept
  const Ip4 other = A("10.244.1.99");
  auto second = p.Run(
      Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(other, Topo::PodBIp()).Tcp(5555, 80, kSyn),
      Topo::kPodA, snat_to_node);
  ASSERT_EQ(second.edge, Edge::kNext);
  EXPECT_NE(second.meta.src_port, htons(5555));
  const CtEntry* e = p.Find(Tuple(other, 5555, Topo::PodBIp(), 80, IPPROTO_TCP));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->snat_port, second.meta.src_port);
  // Its replies come back to the port it was given.
  EXPECT_EQ(
      p.Find(CtKey{
          Topo::PodBIp().be, Topo::NodeIp().be, htons(80), second.meta.src_port, IPPROTO_TCP, {}}),
      e);
}

TEST(CtCommitStage, FixedSnatPortThatCollidesIsDropped) {
  CtPipe p;
  const Ip4 node = Topo::NodeIp();
  auto snat = [&](PacketMeta& m) {
    m.xlate_src_ip = node.be;
    m.xlate_src_port = htons(7000);
  };
  ASSERT_EQ(p.Run(FromA().Tcp(1000, 80, kSyn), Topo::kPodA, snat).edge, Edge::kNext);
  auto clash = p.Run(FromA().Tcp(1001, 80, kSyn), Topo::kPodA, snat);
  EXPECT_EQ(clash.edge, Edge::kDrop);
  EXPECT_EQ(clash.meta.drop, DropReason::kCtTupleCollision);
}

}  // namespace
}  // namespace nodeplane::dp
