// Unit tests of the policy stage on a hand-written compiled policy: which packets pass, which are
// dropped with which direction's reason, that the deciding pod and direction are recorded, that
// node traffic and a pod's traffic to itself are exempt, and how established connections are
// re-checked when the policy generation moves.
#include "dataplane/stages/policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/stages/ct_commit.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::Pkt;
using testing::StageHarness;
using testing::Topo;

constexpr uint32_t kIdA = 1, kIdB = 2, kIdOutside = 0, kIdNode = 3;
constexpr uint32_t kSetAIngress = 1, kSetAEgress = 2;

// Pod A is isolated both ways: ingress admits only pod B on TCP 80 and anyone on UDP 5000-5010;
// egress admits pod B on TCP 8080 and any peer on UDP 53.
std::unique_ptr<Snapshot> IsolatedPodA(uint32_t policy_generation = 7) {
  auto b = testing::StandardTopology();
  PolicySpec& p = b.mutable_spec().policy;
  p.hosts = {{Topo::PodAIp(), kIdA, kSetAIngress, kSetAEgress, false},
             {Topo::PodBIp(), kIdB, kNoPolicySet, kNoPolicySet, false},
             {Topo::NodeIp(), kIdNode, kNoPolicySet, kNoPolicySet, true}};
  p.ranges = {{A("0.0.0.0"), kIdOutside}};
  p.sets.resize(2);
  p.sets[kSetAIngress - 1].any_peer[static_cast<int>(PolicyProto::kUdp)] = {{5000, 5010}};
  p.sets[kSetAEgress - 1].any_peer[static_cast<int>(PolicyProto::kUdp)] = {{53, 53}};
  p.allows = {{kSetAIngress, kIdB, PolicyProto::kTcp, {{80, 80}}},
              {kSetAEgress, kIdB, PolicyProto::kTcp, {{8080, 8080}}}};
  p.identities = 4;
  b.mutable_spec().policy_generation = policy_generation;
  return b.Build();
}

// Frames from a pod go to the gateway MAC, frames from the wire to the uplink's.
Mac To(Mac src_mac) { return src_mac == Topo::RouterMac() ? Topo::UplinkMac() : Topo::GatewayMac(); }
Bytes Tcp(Mac src_mac, Ip4 src, Ip4 dst, uint16_t dport) {
  return Pkt().Eth(src_mac, To(src_mac)).Ip4(src, dst).Tcp(40000, dport);
}
Bytes Udp(Mac src_mac, Ip4 src, Ip4 dst, uint16_t dport) {
  return Pkt().Eth(src_mac, To(src_mac)).Ip4(src, dst).Udp(40000, dport);
}

TEST(PolicyStage, IngressAdmitsOnlyWhatARuleAllows) {
  auto snap = IsolatedPodA();
  StageHarness<PolicyStage> h(*snap);
  const auto out = h.RunBurst({
      {Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 80), Topo::kPodB},
      {Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 81), Topo::kPodB},
      {Udp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 80), Topo::kPodB},
      {Udp(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodAIp(), 5005), Topo::kUplink},
      {Tcp(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodAIp(), 80), Topo::kUplink},
  });
  ASSERT_EQ(out[0].decided_by, PolicyStage::kName);
  EXPECT_EQ(out[0].edge, Edge::kNext);
  EXPECT_TRUE(out[0].meta.policy_gen_ok);
  EXPECT_EQ(out[1].edge, Edge::kDrop);
  EXPECT_EQ(out[1].meta.drop, DropReason::kPolicyDenyIngress);
  EXPECT_EQ(out[2].edge, Edge::kDrop) << "TCP 80 is allowed, UDP 80 is not";
  EXPECT_EQ(out[3].edge, Edge::kNext) << "any peer on UDP 5000-5010";
  EXPECT_EQ(out[4].edge, Edge::kDrop) << "only pod B may use TCP 80";
  EXPECT_EQ(h.drops(DropReason::kPolicyDenyIngress), 3u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(PolicyStage, EgressIsJudgedForTheSourcePodAndDecidesFirst) {
  auto snap = IsolatedPodA();
  StageHarness<PolicyStage> h(*snap);
  const auto out = h.RunBurst({
      {Tcp(Topo::PodAMac(), Topo::PodAIp(), Topo::PodBIp(), 8080), Topo::kPodA},
      {Tcp(Topo::PodAMac(), Topo::PodAIp(), Topo::PodBIp(), 80), Topo::kPodA},
      {Udp(Topo::PodAMac(), Topo::PodAIp(), A("8.8.8.8"), 53), Topo::kPodA},
      {Tcp(Topo::PodAMac(), Topo::PodAIp(), A("8.8.8.8"), 53), Topo::kPodA},
  });
  EXPECT_EQ(out[0].edge, Edge::kNext);
  EXPECT_EQ(out[1].edge, Edge::kDrop);
  EXPECT_EQ(out[1].meta.drop, DropReason::kPolicyDenyEgress);
  EXPECT_EQ(out[2].edge, Edge::kNext);
  EXPECT_EQ(out[3].edge, Edge::kDrop);
  EXPECT_EQ(out[3].meta.drop, DropReason::kPolicyDenyEgress);
}

TEST(PolicyStage, RecordsTheDecidingPodAndDirection) {
  auto snap = IsolatedPodA();
  StageHarness<PolicyStage> h(*snap);
  h.RunBurst({{Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 22), Topo::kPodB},
              {Tcp(Topo::PodAMac(), Topo::PodAIp(), Topo::PodBIp(), 23), Topo::kPodA}});
  const PolicyDenyRing& ring = h.counters().policy_denies;
  ASSERT_EQ(ring.written, 2u);
  EXPECT_EQ(ring.entries[0].direction, PolicyDirection::kIngress);
  EXPECT_EQ(ring.entries[0].dst_ip, Topo::PodAIp().be);  // the deciding pod: the destination
  EXPECT_EQ(ring.entries[0].dst_port, 22);
  EXPECT_EQ(ring.entries[1].direction, PolicyDirection::kEgress);
  EXPECT_EQ(ring.entries[1].src_ip, Topo::PodAIp().be);  // the deciding pod: the source
  EXPECT_EQ(ring.entries[1].dst_port, 23);
}

TEST(PolicyStage, NodeTrafficAndNonIsolatedPodsPass) {
  auto snap = IsolatedPodA();
  StageHarness<PolicyStage> h(*snap);
  const auto out = h.RunBurst({
      // The node (kubelet probes) reaches an ingress-isolated pod.
      {Pkt().Eth(Topo::HostMac(), Topo::GatewayMac()).Ip4(Topo::NodeIp(), Topo::PodAIp()).Tcp(1, 9),
       Topo::kHost},
      // Pod B is isolated in no direction.
      {Tcp(Topo::RouterMac(), Topo::RemoteIp(), Topo::PodBIp(), 9), Topo::kUplink},
  });
  EXPECT_EQ(out[0].edge, Edge::kNext);
  EXPECT_EQ(out[1].edge, Edge::kNext);
}

TEST(PolicyStage, WithoutPoliciesNothingIsLookedAt) {
  auto snap = testing::StandardTopology().Build();
  EXPECT_FALSE(snap->policy.active());
  StageHarness<PolicyStage> h(*snap);
  EXPECT_EQ(h.Run(Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 1), Topo::kPodB).edge,
            Edge::kNext);
}

// ct_lookup's part, played by hand: parse, then set the conntrack fields, then run the stage.
Edge RunWithConntrack(const Snapshot& snap, const Bytes& frame, uint16_t in_port, CtState state,
                      uint32_t admitted_gen, PacketMeta* meta_out) {
  WorkerCounters counters;
  StageContext ctx{snap, counters, 0};
  Burst b;
  b.pkts[b.n++] = testing::ToMbuf(frame, in_port);
  Verdicts v;
  EthParseStage::Process(ctx, b, v);
  EXPECT_EQ(v.edge[0], Edge::kNext);
  Meta(b.pkts[0]).ct_state = state;
  Meta(b.pkts[0]).ct_policy_gen = admitted_gen;
  PolicyStage::Process(ctx, b, v);
  *meta_out = Meta(b.pkts[0]);
  rte_pktmbuf_free(b.pkts[0]);
  return v.edge[0];
}

TEST(PolicyStage, EstablishedConnectionsAreRecheckedWhenThePolicyGenerationMoves) {
  auto snap = IsolatedPodA(/*policy_generation=*/7);
  PacketMeta m;
  const Bytes denied = Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 81);
  // Admitted under the running generation: passes unchecked.
  EXPECT_EQ(RunWithConntrack(*snap, denied, Topo::kPodB, CtState::kEstablished, 7, &m), Edge::kNext);
  // Admitted under an older one: re-checked, and access revoked since then ends it.
  EXPECT_EQ(RunWithConntrack(*snap, denied, Topo::kPodB, CtState::kEstablished, 6, &m), Edge::kDrop);
  EXPECT_EQ(m.drop, DropReason::kPolicyDenyIngress);
  const Bytes allowed = Tcp(Topo::PodBMac(), Topo::PodBIp(), Topo::PodAIp(), 80);
  EXPECT_EQ(RunWithConntrack(*snap, allowed, Topo::kPodB, CtState::kEstablished, 6, &m), Edge::kNext);
  EXPECT_TRUE(m.policy_gen_ok) << "ct_commit stores the new generation";
}

TEST(PolicyStage, AReplyIsJudgedByItsOriginalDirection) {
  auto snap = IsolatedPodA(7);
  PacketMeta m;
  // A's reply (A:80 → B:40000) to B's connection to A:80, re-checked as B → A:80: allowed, though
  // A's egress does not allow A → B:40000.
  const Bytes reply = Pkt()
                          .Eth(Topo::PodAMac(), Topo::GatewayMac())
                          .Ip4(Topo::PodAIp(), Topo::PodBIp())
                          .Tcp(80, 40000, testing::kTcpSyn | testing::kTcpAck);
  EXPECT_EQ(RunWithConntrack(*snap, reply, Topo::kPodA, CtState::kReply, 1, &m), Edge::kNext);
  EXPECT_TRUE(m.policy_gen_ok);
  // The same packet opening a connection of its own is A's egress to B:40000: denied.
  EXPECT_EQ(RunWithConntrack(*snap, reply, Topo::kPodA, CtState::kNone, 0, &m), Edge::kDrop);
  EXPECT_EQ(m.drop, DropReason::kPolicyDenyEgress);
}

TEST(PolicyStage, TruncatedTransportHeaderToAnIsolatedPodIsDropped) {
  auto snap = IsolatedPodA();
  StageHarness<PolicyStage> h(*snap);
  const Bytes cut = Pkt()
                        .Eth(Topo::PodBMac(), Topo::GatewayMac())
                        .Ip4(Topo::PodBIp(), Topo::PodAIp())
                        .Ip4Proto(6)
                        .Payload(Bytes{0x01, 0x02, 0x00});
  const auto out = h.Run(cut, Topo::kPodB);
  ASSERT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kL4Truncated);
}

// With real conntrack (ct_lookup before the stage, ct_commit after it, as RunPipeline orders
// them): the reply of an allowed connection passes though the other direction's policies would
// deny it as a connection of its own; after the policy generation moves, an established
// connection whose access was revoked is cut on its next packet, and one still allowed is
// re-admitted under the new generation.
TEST(PolicyStage, ConntrackRepliesPassAndRevokedAccessStopsEstablishedConnections) {
  testing::Eal();  // before the table: it lives in EAL memory
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "policy_test_ct")) << error;
  auto gen7 = IsolatedPodA(/*policy_generation=*/7);
  gen7->conntrack = &ct;
  const auto b_to_a = [](uint16_t sport, uint8_t flags) {
    return Pkt().Eth(Topo::PodBMac(), Topo::GatewayMac()).Ip4(Topo::PodBIp(), Topo::PodAIp())
        .Tcp(sport, 80, flags);
  };
  const Bytes reply = Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                          .Ip4(Topo::PodAIp(), Topo::PodBIp())
                          .Tcp(80, 40000, testing::kTcpSyn | testing::kTcpAck);
  {
    StageHarness<CtCommitStage> h(*gen7);
    EXPECT_EQ(h.Run(b_to_a(40000, testing::kTcpSyn), Topo::kPodB).edge, Edge::kNext);
    EXPECT_EQ(h.Run(b_to_a(40001, testing::kTcpSyn), Topo::kPodB).edge, Edge::kNext);
    const auto r = h.Run(reply, Topo::kPodA);
    EXPECT_EQ(r.edge, Edge::kNext) << "a reply, though A's egress does not allow A -> B:40000";
    EXPECT_EQ(r.meta.ct_state, CtState::kReply);
  }
  // Generation 8 revokes B's access to A:80 (the ingress row is gone).
  auto gen8 = IsolatedPodA(/*policy_generation=*/8);
  gen8->conntrack = &ct;
  testing::SpecBuilder revoked = testing::StandardTopology();
  PolicySpec p;
  p.hosts = {{Topo::PodAIp(), kIdA, kSetAIngress, kNoPolicySet, false},
             {Topo::PodBIp(), kIdB, kNoPolicySet, kNoPolicySet, false}};
  p.ranges = {{A("0.0.0.0"), kIdOutside}};
  p.sets.resize(1);
  p.identities = 3;
  revoked.mutable_spec().policy = p;
  revoked.mutable_spec().policy_generation = 8;
  auto revoked_snap = revoked.Build();
  revoked_snap->conntrack = &ct;
  {
    StageHarness<CtCommitStage> h(*revoked_snap);
    const auto cut = h.Run(b_to_a(40000, testing::kTcpAck), Topo::kPodB);
    EXPECT_EQ(cut.meta.ct_state, CtState::kEstablished);
    EXPECT_EQ(cut.edge, Edge::kDrop) << "established, but admitted under generation 7";
    EXPECT_EQ(cut.meta.drop, DropReason::kPolicyDenyIngress);
  }
  {
    // Still allowed under generation 8 (the row kept): re-admitted once, then unchecked.
    StageHarness<CtCommitStage> h(*gen8);
    const auto again = h.Run(b_to_a(40001, testing::kTcpAck), Topo::kPodB);
    EXPECT_EQ(again.edge, Edge::kNext);
    EXPECT_TRUE(again.meta.policy_gen_ok);
    const auto next = h.Run(b_to_a(40001, testing::kTcpAck), Topo::kPodB);
    EXPECT_EQ(next.meta.ct_policy_gen, 8u) << "ct_commit stored the generation that re-admitted";
  }
}

}  // namespace
}  // namespace nodeplane::dp
