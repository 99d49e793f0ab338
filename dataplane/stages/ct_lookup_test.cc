// Unit tests of ct_lookup (with ct_commit creating the entries, as in the pipeline): where packets
// stand (new, established, reply), the TCP/UDP/ICMP state machines, related ICMP errors, and what
// is dropped (truncated headers, unrelated ICMP errors).
#include "dataplane/stages/ct_lookup.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/stages/ct_testing.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::CtPipe;
using testing::Pkt;
using testing::Topo;
using testing::Tuple;

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kRst = 0x04;

Pkt FromA() { return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp()); }
Pkt FromB() { return Pkt().Eth(Topo::PodBMac(), Topo::GatewayMac()).Ip4(Topo::PodBIp(), Topo::PodAIp()); }

CtProto StateOf(CtPipe& p, uint8_t proto, uint16_t sport = 40000, uint16_t dport = 80) {
  CtEntry* e = p.Find(Tuple(Topo::PodAIp(), sport, Topo::PodBIp(), dport, proto));
  return e == nullptr ? CtProto::kNone : e->state();
}

TEST(CtLookupStage, TcpHandshakeGoesFromSynSentToEstablished) {
  CtPipe p;
  auto syn = p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  ASSERT_EQ(syn.edge, Edge::kNext);
  EXPECT_EQ(syn.meta.ct_state, CtState::kNew);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpSynSent);
  EXPECT_EQ(p.events(Counter::kCtCreated), 1u);

  auto synack = p.Run(FromB().Tcp(80, 40000, kSyn | kAck), Topo::kPodB);
  EXPECT_EQ(synack.meta.ct_state, CtState::kReply);
  EXPECT_NE(synack.meta.ct, nullptr);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpSynRecv);

  auto ack = p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA);
  EXPECT_EQ(ack.meta.ct_state, CtState::kEstablished);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpEstablished);
  EXPECT_EQ(p.events(Counter::kCtCreated), 1u);  // one connection
}

TEST(CtLookupStage, FinFromBothSidesThenAckIsTimeWaitAndAgesOut) {
  CtPipe p;
  p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  p.Run(FromB().Tcp(80, 40000, kSyn | kAck), Topo::kPodB);
  p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA);
  p.Run(FromA().Tcp(40000, 80, kFin | kAck), Topo::kPodA);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpFinWait);
  p.Run(FromB().Tcp(80, 40000, kFin | kAck), Topo::kPodB);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpLastAck);
  p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpTimeWait);
  // TIME_WAIT lasts 120 s: gone after that, still there before.
  const uint32_t now = p.ct().NowMs();
  EXPECT_EQ(p.ct().Age(now + 100'000, 1000), 0u);
  EXPECT_EQ(p.ct().Age(now + 121'000, 1000), 1u);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kNone);
}

TEST(CtLookupStage, FinFromTheReplySideFirstIsCloseWait) {
  CtPipe p;
  p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  p.Run(FromB().Tcp(80, 40000, kSyn | kAck), Topo::kPodB);
  p.Run(FromA().Tcp(40000, 80, kAck), Topo::kPodA);
  p.Run(FromB().Tcp(80, 40000, kFin | kAck), Topo::kPodB);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpCloseWait);
  p.Run(FromA().Tcp(40000, 80, kFin | kAck), Topo::kPodA);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpLastAck);
}

TEST(CtLookupStage, RstClosesAndTheEntryAgesOutInTenSeconds) {
  CtPipe p;
  p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  p.Run(FromB().Tcp(80, 40000, kRst | kAck), Topo::kPodB);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpClose);
  const uint32_t now = p.ct().NowMs();
  EXPECT_EQ(p.ct().Age(now + 5'000, 1000), 0u);
  EXPECT_EQ(p.ct().Age(now + 11'000, 1000), 1u);
}

TEST(CtLookupStage, MidStreamTcpIsPickedUpAsEstablished) {
  CtPipe p;
  auto mid = p.Run(FromA().Tcp(40000, 80, kAck, 5000, 7000).Payload("data"), Topo::kPodA);
  EXPECT_EQ(mid.edge, Edge::kNext);
  EXPECT_EQ(mid.meta.ct_state, CtState::kNew);
  EXPECT_EQ(StateOf(p, IPPROTO_TCP), CtProto::kTcpEstablished);
  EXPECT_EQ(p.Run(FromB().Tcp(80, 40000, kAck), Topo::kPodB).meta.ct_state, CtState::kReply);
}

TEST(CtLookupStage, StrayRstCreatesNoEntry) {
  CtPipe p;
  auto rst = p.Run(FromA().Tcp(40000, 80, kRst), Topo::kPodA);
  EXPECT_EQ(rst.edge, Edge::kNext);
  EXPECT_EQ(rst.meta.ct, nullptr);
  EXPECT_EQ(p.ct().connections(), 0u);
}

TEST(CtLookupStage, UdpIsUnrepliedUntilAReplyThenAssured) {
  CtPipe p;
  auto q = p.Run(FromA().Udp(5000, 53).Payload("q"), Topo::kPodA);
  EXPECT_EQ(q.meta.ct_state, CtState::kNew);
  EXPECT_EQ(StateOf(p, IPPROTO_UDP, 5000, 53), CtProto::kUdpUnreplied);
  auto r = p.Run(FromB().Udp(53, 5000).Payload("r"), Topo::kPodB);
  EXPECT_EQ(r.meta.ct_state, CtState::kReply);
  EXPECT_EQ(StateOf(p, IPPROTO_UDP, 5000, 53), CtProto::kUdpAssured);
  // Assured UDP lives 120 s, not 30.
  const uint32_t now = p.ct().NowMs();
  EXPECT_EQ(p.ct().Age(now + 60'000, 1000), 0u);
  EXPECT_EQ(p.ct().Age(now + 121'000, 1000), 1u);
}

TEST(CtLookupStage, IcmpEchoIsTrackedByIdentifier) {
  CtPipe p;
  EXPECT_EQ(p.Run(FromA().IcmpEcho(7, 1), Topo::kPodA).meta.ct_state, CtState::kNew);
  auto reply = p.Run(FromB().Icmp(0, 0, (7u << 16) | 1), Topo::kPodB);  // echo reply id 7 seq 1
  EXPECT_EQ(reply.meta.ct_state, CtState::kReply);
  EXPECT_EQ(p.Run(FromA().IcmpEcho(7, 2), Topo::kPodA).meta.ct_state, CtState::kEstablished);
  EXPECT_EQ(p.Run(FromA().IcmpEcho(8, 1), Topo::kPodA).meta.ct_state, CtState::kNew);
}

TEST(CtLookupStage, IcmpErrorIsRelatedToTheConnectionItQuotes) {
  CtPipe p;
  const Bytes udp = FromA().Udp(5000, 53).Payload("q");
  p.Run(udp, Topo::kPodA);
  // B answers with port unreachable quoting the datagram (without its Ethernet header).
  const Bytes quoted(udp.begin() + 14, udp.end());
  auto err = p.Run(FromB().Icmp(3, 3).Payload(quoted), Topo::kPodB);
  EXPECT_EQ(err.edge, Edge::kNext);
  EXPECT_EQ(err.meta.ct_state, CtState::kReply);
  EXPECT_EQ(StateOf(p, IPPROTO_UDP, 5000, 53), CtProto::kUdpUnreplied);  // no refresh, no step
}

TEST(CtLookupStage, IcmpErrorAboutNoConnectionIsDropped) {
  CtPipe p;
  const Bytes udp = FromA().Udp(5000, 53).Payload("q");
  const Bytes quoted(udp.begin() + 14, udp.end());
  auto err = p.Run(FromB().Icmp(3, 3).Payload(quoted), Topo::kPodB);
  EXPECT_EQ(err.edge, Edge::kDrop);
  EXPECT_EQ(err.meta.drop, DropReason::kCtIcmpUnrelated);
  EXPECT_EQ(p.drops(DropReason::kCtIcmpUnrelated), 1u);
}

TEST(CtLookupStage, IcmpErrorQuotingTooLittleIsTruncated) {
  CtPipe p;
  const Bytes udp = FromA().Udp(5000, 53).Payload("q");
  const Bytes quoted(udp.begin() + 14, udp.begin() + 14 + 24);  // IPv4 header + 4 bytes
  auto err = p.Run(FromB().Icmp(3, 3).Payload(quoted), Topo::kPodB);
  EXPECT_EQ(err.edge, Edge::kDrop);
  EXPECT_EQ(err.meta.drop, DropReason::kL4Truncated);
}

TEST(CtLookupStage, TruncatedTcpHeaderIsDropped) {
  CtPipe p;
  auto t = p.Run(FromA().Tcp(40000, 80, kSyn).TotalLength(20 + 10).TruncateTo(14 + 20 + 10),
                 Topo::kPodA);
  EXPECT_EQ(t.edge, Edge::kDrop);
  EXPECT_EQ(t.meta.drop, DropReason::kL4Truncated);
  EXPECT_EQ(p.drops(DropReason::kL4Truncated), 1u);
  EXPECT_EQ(p.ct().connections(), 0u);
}

TEST(CtLookupStage, OtherProtocolsAndNoTableAreUntracked) {
  CtPipe p;
  auto gre = p.Run(FromA().Ip4Proto(47).Payload("gre"), Topo::kPodA);
  EXPECT_EQ(gre.edge, Edge::kNext);
  EXPECT_EQ(gre.meta.ct_state, CtState::kNone);
  p.snap().conntrack = nullptr;
  auto tcp = p.Run(FromA().Tcp(40000, 80, kSyn), Topo::kPodA);
  EXPECT_EQ(tcp.edge, Edge::kNext);
  EXPECT_EQ(tcp.meta.ct_state, CtState::kNone);
  EXPECT_EQ(p.ct().connections(), 0u);
}

}  // namespace
}  // namespace nodeplane::dp
