// ct_fastpath rewrites an established packet with RewriteWithDeltas: one checksum update for the
// NAT and the TTL together, with deltas computed once per connection (NatHopDeltas). It must leave
// exactly the bytes nat_rewrite's RewritePacket followed by ip4_forward's DecrementTtl leave —
// checked here over many random TCP and UDP packets and tuples, including UDP sent without a
// checksum and checksums at the values where one's-complement arithmetic has two zeros.
#include "dataplane/core/nat_apply.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>

#include "dataplane/core/ip4_header.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::Pkt;

constexpr uint16_t kL3 = 14;

// `t` as its bytes lie in the headers (addresses from the IPv4 source, ports from the first).
nat::WireTuple Wire(const nat::Tuple& t) {
  return nat::WireTuple{uint64_t{t.src_ip} | uint64_t{t.dst_ip} << 32,
                        uint32_t{t.src_port} | uint32_t{t.dst_port} << 16};
}

// What eth_parse leaves for an IPv4 header without options followed by TCP or UDP.
PacketMeta MetaOf(const rte_mbuf* pkt) {
  PacketMeta m{};
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kL3);
  const uint8_t* l4 = rte_pktmbuf_mtod_offset(pkt, const uint8_t*, kL3 + 20);
  m.cls = PacketClass::kIp4;
  m.l3_offset = kL3;
  m.l4_offset = kL3 + 20;
  m.l4 = L4Status::kPorts;
  m.l4_proto = ip->next_proto_id;
  m.src_ip = ip->src_addr;
  m.dst_ip = ip->dst_addr;
  m.src_port = Load16(l4);
  m.dst_port = Load16(l4 + 2);
  return m;
}

TEST(NatApply, PrecomputedDeltasLeaveTheBytesOfTheTwoStages) {
  testing::Eal();
  std::mt19937 rng(20261125);
  auto u32 = [&] { return static_cast<uint32_t>(rng()); };
  auto pick = [&](uint32_t keep, uint32_t other) { return rng() % 3 == 0 ? keep : other; };
  int udp_without_checksum = 0;
  for (int i = 0; i < 20000; ++i) {
    const Ip4 src{u32()}, dst{u32()};
    const uint16_t sport = static_cast<uint16_t>(u32()), dport = static_cast<uint16_t>(u32());
    const bool udp = rng() % 2 == 0;
    Pkt p;
    p.Eth(testing::Topo::PodAMac(), testing::Topo::GatewayMac())
        .Ip4(src, dst)
        .Ttl(static_cast<uint8_t>(2 + rng() % 254))
        .Id(static_cast<uint16_t>(u32()));
    if (udp) {
      p.Udp(sport, dport);
    } else {
      p.Tcp(sport, dport, testing::kTcpAck, u32(), u32());
    }
    Bytes payload(rng() % 24);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    Bytes frame = p.Payload(payload).Build();
    if (udp && rng() % 4 == 0) {  // sent without a checksum
      frame[kL3 + 20 + 6] = 0;
      frame[kL3 + 20 + 7] = 0;
      ++udp_without_checksum;
    }
    rte_mbuf* slow = testing::ToMbuf(frame, 0);
    rte_mbuf* fast = testing::ToMbuf(frame, 0);
    PacketMeta ms = MetaOf(slow);
    PacketMeta mf = MetaOf(fast);
    const nat::Tuple t{pick(ms.src_ip, u32()), pick(ms.dst_ip, u32()),
                       static_cast<uint16_t>(pick(ms.src_port, u32())),
                       static_cast<uint16_t>(pick(ms.dst_port, u32()))};

    if (nat::Changes(ms, t)) nat::RewritePacket(slow, ms, t);
    DecrementTtl(rte_pktmbuf_mtod_offset(slow, rte_ipv4_hdr*, kL3));
    nat::RewriteWithDeltas(rte_pktmbuf_mtod_offset(fast, uint8_t*, mf.l3_offset),
                           rte_pktmbuf_mtod_offset(fast, uint8_t*, mf.l4_offset), udp, Wire(t),
                           nat::NatHopDeltas(nat::TupleOf(mf), t), mf);

    ASSERT_EQ(testing::FromMbuf(fast), testing::FromMbuf(slow))
        << "case " << i << (udp ? " udp" : " tcp");
    EXPECT_EQ(mf.dst_ip, ms.dst_ip);
    EXPECT_EQ(mf.src_ip, ms.src_ip);
    EXPECT_EQ(mf.src_port, t.src_port);
    EXPECT_EQ(mf.dst_port, t.dst_port);
    rte_pktmbuf_free(slow);
    rte_pktmbuf_free(fast);
  }
  EXPECT_GT(udp_without_checksum, 1000);
}

}  // namespace
}  // namespace nodeplane::dp
