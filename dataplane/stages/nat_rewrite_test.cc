// Unit tests of nat_rewrite: DNAT to a backend and the reverse translation of its replies, SNAT,
// UDP's zero checksum, and ICMP errors from a backend translated back to the Service address with
// the embedded header. Every expected frame is built independently (packet_builder computes all
// checksums from scratch), so a wrong incremental update shows as a byte difference.
#include "dataplane/stages/nat_rewrite.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/stages/ct_testing.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::CtPipe;
using testing::Pkt;
using testing::SameFrame;
using testing::Topo;

constexpr uint8_t kSyn = 0x02, kAck = 0x10;
constexpr size_t kEth = 14;

const Ip4 kVip = A("10.96.0.10");

// Client pod A → the Service VIP; backend = pod B.
Pkt AToVip() { return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), kVip); }
Pkt AToB() { return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp()); }
Pkt BToA() { return Pkt().Eth(Topo::PodBMac(), Topo::GatewayMac()).Ip4(Topo::PodBIp(), Topo::PodAIp()); }
Pkt VipToA() { return Pkt().Eth(Topo::PodBMac(), Topo::GatewayMac()).Ip4(kVip, Topo::PodAIp()); }

void DnatToB8080(PacketMeta& m) {
  if (m.ct_state != CtState::kNew) return;
  m.xlate_dst_ip = Topo::PodBIp().be;
  m.xlate_dst_port = htons(8080);
}

Bytes WithoutEth(const Bytes& frame) { return Bytes(frame.begin() + kEth, frame.end()); }

TEST(NatRewriteStage, DnatTcpFlowAndItsRepliesComeBackFromTheVip) {
  CtPipe p;
  auto syn = p.Run(AToVip().Id(1).Tcp(40000, 80, kSyn, 100), Topo::kPodA, DnatToB8080);
  ASSERT_EQ(syn.edge, Edge::kNext);
  EXPECT_TRUE(SameFrame(AToB().Id(1).Tcp(40000, 8080, kSyn, 100), syn.bytes));
  EXPECT_EQ(syn.meta.dst_ip, Topo::PodBIp().be);
  EXPECT_EQ(syn.meta.dst_port, htons(8080));
  EXPECT_EQ(syn.meta.src_ip, Topo::PodAIp().be);

  auto synack = p.Run(BToA().Id(2).Tcp(8080, 40000, kSyn | kAck, 500, 101), Topo::kPodB,
                      DnatToB8080);
  ASSERT_EQ(synack.meta.ct_state, CtState::kReply);
  EXPECT_TRUE(SameFrame(VipToA().Id(2).Tcp(80, 40000, kSyn | kAck, 500, 101), synack.bytes));

  // Later packets use the entry's translation, not a new decision.
  auto data = p.Run(AToVip().Id(3).Tcp(40000, 80, kAck, 101, 501).Payload("GET /"), Topo::kPodA);
  ASSERT_EQ(data.meta.ct_state, CtState::kEstablished);
  EXPECT_TRUE(SameFrame(AToB().Id(3).Tcp(40000, 8080, kAck, 101, 501).Payload("GET /"),
                        data.bytes));
}

TEST(NatRewriteStage, DnatUdpKeepsAZeroChecksumZero) {
  CtPipe p;
  Bytes in = AToVip().Udp(5000, 53).Payload("query");
  in[kEth + 20 + 6] = in[kEth + 20 + 7] = 0;  // "no checksum" (RFC 768)
  auto out = p.Run(in, Topo::kPodA, DnatToB8080);
  Bytes want = AToB().Udp(5000, 8080).Payload("query");
  want[kEth + 20 + 6] = want[kEth + 20 + 7] = 0;
  EXPECT_TRUE(SameFrame(want, out.bytes));
}

TEST(NatRewriteStage, DnatUdpWithChecksum) {
  CtPipe p;
  auto out = p.Run(AToVip().Udp(5000, 53).Payload("query"), Topo::kPodA, DnatToB8080);
  EXPECT_TRUE(SameFrame(AToB().Udp(5000, 8080).Payload("query"), out.bytes));
  auto reply = p.Run(BToA().Udp(8080, 5000).Payload("answer"), Topo::kPodB);
  EXPECT_TRUE(SameFrame(VipToA().Udp(53, 5000).Payload("answer"), reply.bytes));
}

TEST(NatRewriteStage, SnatSourceAndReverseForReplies) {
  CtPipe p;
  const Ip4 node = Topo::NodeIp();
  const Ip4 remote = Topo::RemoteIp();
  auto out = p.Run(Pkt()
                       .Eth(Topo::PodAMac(), Topo::GatewayMac())
                       .Ip4(Topo::PodAIp(), remote)
                       .Tcp(40000, 443, kSyn),
                   Topo::kPodA, [&](PacketMeta& m) {
                     m.xlate_src_ip = node.be;
                     m.xlate_src_port = htons(61000);
                   });
  EXPECT_TRUE(SameFrame(Pkt()
                            .Eth(Topo::PodAMac(), Topo::GatewayMac())
                            .Ip4(node, remote)
                            .Tcp(61000, 443, kSyn),
                        out.bytes));
  auto reply = p.Run(Pkt()
                         .Eth(Topo::RouterMac(), Topo::UplinkMac())
                         .Ip4(remote, node)
                         .Tcp(443, 61000, kSyn | kAck),
                     Topo::kUplink);
  ASSERT_EQ(reply.meta.ct_state, CtState::kReply);
  EXPECT_TRUE(SameFrame(Pkt()
                            .Eth(Topo::RouterMac(), Topo::UplinkMac())
                            .Ip4(remote, Topo::PodAIp())
                            .Tcp(443, 40000, kSyn | kAck),
                        reply.bytes));
  EXPECT_EQ(reply.meta.dst_ip, Topo::PodAIp().be);
}

TEST(NatRewriteStage, IcmpEchoToTheVipIsAnsweredFromTheVip) {
  CtPipe p;
  auto req = p.Run(AToVip().IcmpEcho(7, 1).Payload("ping"), Topo::kPodA,
                   [](PacketMeta& m) { m.xlate_dst_ip = Topo::PodBIp().be; });
  EXPECT_TRUE(SameFrame(AToB().IcmpEcho(7, 1).Payload("ping"), req.bytes));
  auto rep = p.Run(BToA().Icmp(0, 0, (7u << 16) | 1).Payload("ping"), Topo::kPodB);
  EXPECT_TRUE(SameFrame(VipToA().Icmp(0, 0, (7u << 16) | 1).Payload("ping"), rep.bytes));
}

TEST(NatRewriteStage, PortUnreachableFromTheBackendIsTranslatedBackToTheVip) {
  CtPipe p;
  const Bytes query = AToVip().Id(9).Udp(5000, 53).Payload("query");
  auto sent = p.Run(query, Topo::kPodA, DnatToB8080);
  ASSERT_EQ(sent.edge, Edge::kNext);
  // The backend quotes the datagram as it received it (to B:8080), from its own address.
  auto err = p.Run(BToA().Icmp(3, 3).Payload(WithoutEth(sent.bytes)), Topo::kPodB);
  ASSERT_EQ(err.edge, Edge::kNext);
  ASSERT_EQ(err.meta.ct_state, CtState::kReply);
  // The client must see an error from the VIP about the datagram it sent (to the VIP:53), with
  // valid outer IPv4, ICMP, embedded IPv4 and embedded UDP checksums.
  EXPECT_TRUE(SameFrame(VipToA().Icmp(3, 3).Payload(WithoutEth(query)), err.bytes));
}

TEST(NatRewriteStage, TimeExceededFromARouterKeepsTheRoutersAddress) {
  CtPipe p;
  const Bytes syn = AToVip().Tcp(40000, 80, kSyn, 100);
  auto sent = p.Run(syn, Topo::kPodA, DnatToB8080);
  const Ip4 router = A("10.244.1.254");
  // A router on the way quotes the IPv4 header and the first 8 bytes of TCP (ports, sequence).
  const Bytes quoted(sent.bytes.begin() + kEth, sent.bytes.begin() + kEth + 28);
  auto err = p.Run(Pkt()
                       .Eth(Topo::PodBMac(), Topo::GatewayMac())
                       .Ip4(router, Topo::PodAIp())
                       .Icmp(11, 0)
                       .Payload(quoted),
                   Topo::kPodB);
  ASSERT_EQ(err.edge, Edge::kNext);
  const Bytes want_quoted(syn.begin() + kEth, syn.begin() + kEth + 28);
  EXPECT_TRUE(SameFrame(Pkt()
                            .Eth(Topo::PodBMac(), Topo::GatewayMac())
                            .Ip4(router, Topo::PodAIp())
                            .Icmp(11, 0)
                            .Payload(want_quoted),
                        err.bytes));
}

TEST(NatRewriteStage, UntranslatedConnectionsAreLeftAlone) {
  CtPipe p;
  const Bytes in = AToB().Tcp(40000, 80, kSyn);
  EXPECT_TRUE(SameFrame(in, p.Run(in, Topo::kPodA).bytes));
  const Bytes back = BToA().Tcp(80, 40000, kSyn | kAck);
  EXPECT_TRUE(SameFrame(back, p.Run(back, Topo::kPodB).bytes));
}

}  // namespace
}  // namespace nodeplane::dp
