// eth_parse on many randomly broken frames, against a plain byte-by-byte statement of its rules:
// the verdict, the drop reason, all 64 bytes of PacketMeta and the burst bits must match for every
// frame (truncated, any IHL, options, fragments, any total length, bad checksums, other ethertypes,
// other MACs, frames spread over two segments), so a faster parser cannot change what it accepts.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker_counters.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::M;
using testing::Pkt;
using testing::Topo;

uint16_t Be16(const Bytes& f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }

// RFC 1071 over 16-bit big-endian words.
uint16_t Sum16(const uint8_t* p, uint32_t len) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

struct Want {
  Edge edge = Edge::kNext;
  PacketMeta meta{};
  uint8_t has = 0;
};

// What eth_parse must do with `f` (pkt_len f.size(), of which `data_len` bytes in the first
// segment) received on `port`, written out from its contract and core/{ip4,l4}_header.h's comments.
Want Expected(const Bytes& f, uint32_t data_len, uint16_t in_port, const PortEntry& port,
              bool hw_checksum_good) {
  Want w;
  PacketMeta& m = w.meta;
  m.out_port = kNoPort;
  m.l3_offset = 14;
  m.in_port = in_port;
  auto drop = [&w](DropReason r) {
    w.edge = Edge::kDrop;
    w.meta.drop = r;
    return w;
  };
  if (port.kind == PortKind::kNone) return drop(DropReason::kPortUnavailable);
  if (port.kind == PortKind::kUplink) w.has |= kHasUplink;
  if (data_len < 14) return drop(DropReason::kEthTruncated);
  const bool unicast = (f[0] & 1) == 0;
  if (port.kind == PortKind::kUplink && unicast &&
      !std::equal(f.begin(), f.begin() + 6, port.mac.begin())) {
    return drop(DropReason::kEthOtherHost);
  }
  const uint16_t type = Be16(f, 12);
  if (type == 0x0806) {
    m.cls = PacketClass::kArp;
    w.has |= kHasArp;
    return w;
  }
  if (type != 0x0800) {
    if (port.kind == PortKind::kPod) return drop(DropReason::kEthertypeUnsupported);
    m.punt = true;
    w.has |= kHasPunt;
    return w;
  }
  if (data_len < 34) return drop(DropReason::kIp4Truncated);
  if (f[14] >> 4 != 4) return drop(DropReason::kIp4BadVersion);
  const uint32_t hlen = (f[14] & 0xfu) * 4;
  if (hlen < 20 || hlen > data_len - 14) return drop(DropReason::kIp4BadIhl);
  const uint32_t total = Be16(f, 16);
  if (total < hlen || total > f.size() - 14) return drop(DropReason::kIp4BadTotalLength);
  if (!hw_checksum_good && Sum16(&f[14], hlen) != 0xffff) return drop(DropReason::kIp4BadChecksum);
  m.cls = PacketClass::kIp4;
  std::memcpy(&m.src_ip, &f[26], 4);
  std::memcpy(&m.dst_ip, &f[30], 4);
  m.l4_proto = f[23];
  m.l4_offset = static_cast<uint16_t>(14 + hlen);
  if ((Be16(f, 20) & 0x1fff) != 0) {
    m.l4 = L4Status::kFragment;
    return w;
  }
  const uint32_t l4_len = std::min(total, data_len - 14) - hlen;
  const size_t l4 = 14 + hlen;
  auto ports = [&](uint32_t need) {
    if (l4_len < need) {
      m.l4 = L4Status::kTruncated;
      return false;
    }
    std::memcpy(&m.src_port, &f[l4], 2);
    std::memcpy(&m.dst_port, &f[l4 + 2], 2);
    m.l4 = L4Status::kPorts;
    return true;
  };
  switch (m.l4_proto) {
    case 6:
      if (ports(20)) m.tcp_flags = f[l4 + 13];
      break;
    case 17:
      ports(8);
      break;
    case 132:
      ports(12);
      break;
    case 1:
      if (l4_len < 8) {
        m.l4 = L4Status::kTruncated;
      } else {
        m.l4 = L4Status::kPorts;
        if (f[l4] == 0 || f[l4] == 8) {  // echo reply, echo request: the identifier
          std::memcpy(&m.src_port, &f[l4 + 4], 2);
          std::memcpy(&m.dst_port, &f[l4 + 4], 2);
        }
      }
      break;
    default:
      m.l4 = L4Status::kOtherProtocol;
  }
  return w;
}

// The outcome `m` stands for, to check the mutations reach every one of them.
std::string Outcome(const PacketMeta& m) {
  if (m.drop != DropReason::kUnspecified) return std::string(DropReasonName(m.drop));
  if (m.cls == PacketClass::kArp) return "arp";
  if (m.cls != PacketClass::kIp4) return "punt";
  const std::string proto = std::to_string(m.l4_proto);
  switch (m.l4) {
    case L4Status::kPorts:
      return "ports " + proto;
    case L4Status::kFragment:
      return "fragment " + proto;
    case L4Status::kTruncated:
      return "truncated " + proto;
    default:
      return "other protocol";
  }
}

Pkt FromPodA() {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp());
}

// Well-formed frames of every kind eth_parse tells apart; the mutations below break them.
std::vector<Bytes> Seeds() {
  return {
      FromPodA().Udp(1000, 53).Payload("query"),
      FromPodA().Udp(1, 2).PadTo(60),
      FromPodA().Tcp(40000, 80, testing::kTcpSyn | testing::kTcpAck),
      FromPodA().Tcp(40000, 80).Payload(Bytes(30, 1)),
      FromPodA().IcmpEcho(7, 1),
      FromPodA().Icmp(3, 3, 0),
      FromPodA().Ip4Proto(132).Payload(Bytes(16, 2)),
      FromPodA().Ip4Proto(47).Payload(Bytes(8, 3)),
      FromPodA().Ip4Options({1, 1, 1, 0}).Udp(5, 6).Payload("x"),
      FromPodA().Ip4Options(Bytes(40, 1)).Tcp(7, 8),
      FromPodA().FragmentOffset(0, true).Udp(9, 10).Payload(Bytes(20, 4)),
      FromPodA().FragmentOffset(3, false).Ip4Proto(17).Payload(Bytes(20, 5)),
      FromPodA().DontFragment().Udp(11, 12),
      Pkt()
          .Eth(Topo::RouterMac(), Topo::UplinkMac())
          .Ip4(Topo::RemoteIp(), Topo::NodeIp())
          .Udp(4789, 4789)
          .Payload(Bytes(50, 6)),
      Pkt()
          .Eth(Topo::PodAMac(), M("ff:ff:ff:ff:ff:ff"))
          .ArpRequest(Topo::PodAMac(), Topo::PodAIp(), Topo::PodGateway()),
      Pkt().EthType(testing::kEthTypeIp6).Payload(Bytes(40, 0)),
      Pkt().EthType(0x8100).Payload(Bytes(46, 0)),
  };
}

// Sets the IPv4 header checksum right for whatever header length byte 14 now claims (if it fits).
void FixChecksum(Bytes& f) {
  if (f.size() < 34) return;
  const size_t hlen = (f[14] & 0xfu) * 4;
  if (hlen < 20 || 14 + hlen > f.size()) return;
  f[24] = f[25] = 0;
  const uint16_t s = static_cast<uint16_t>(~Sum16(&f[14], static_cast<uint32_t>(hlen)));
  f[24] = static_cast<uint8_t>(s >> 8);
  f[25] = static_cast<uint8_t>(s);
}

void SetBe16(Bytes& f, size_t at, uint16_t v) {
  if (at + 1 >= f.size()) return;
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

Bytes Mutate(Bytes f, std::mt19937& rng) {
  auto pick = [&rng](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const uint32_t edits = pick(3);
  for (uint32_t e = 0; e < edits; ++e) {
    switch (pick(9)) {
      case 0:
        f.resize(pick(static_cast<uint32_t>(f.size()) + 1));
        break;
      case 1:
        f.resize(f.size() + pick(40), 0);
        break;
      case 2:
        SetBe16(f, 16, static_cast<uint16_t>(f.size() - 14 + pick(48) - 24));
        break;
      case 3:
        if (f.size() > 14) f[14] = static_cast<uint8_t>(pick(3) == 0 ? pick(256) : 0x40 | pick(16));
        break;
      case 4:
        SetBe16(f, 20, static_cast<uint16_t>(pick(2) ? pick(0x10000) : pick(4) << 13));
        break;
      case 5:
        if (f.size() > 23) f[23] = std::array<uint8_t, 6>{1, 6, 17, 132, 47, 0}[pick(6)];
        break;
      case 6:
        if (!f.empty())
          f[pick(static_cast<uint32_t>(std::min<size_t>(f.size(), 80)))] ^=
              static_cast<uint8_t>(1 + pick(255));
        break;
      case 7:
        if (f.size() >= 6) f[0] = static_cast<uint8_t>(pick(2) ? f[0] | 1 : pick(256));
        break;
      case 8:
        if (f.size() > 34)
          f[34 + pick(static_cast<uint32_t>(f.size()) - 34)] =
              static_cast<uint8_t>(pick(2) ? 0 : 8);
        break;
    }
  }
  if (pick(4) != 0) FixChecksum(f);
  return f;
}

// `f` in an mbuf, its first `data_len` bytes in the first segment and the rest in a second one.
rte_mbuf* ToMbufs(const Bytes& f, uint32_t data_len, uint16_t in_port) {
  rte_mbuf* head = testing::ToMbuf(Bytes(f.begin(), f.begin() + data_len), in_port);
  if (data_len < f.size()) {
    rte_mbuf* tail = testing::ToMbuf(Bytes(f.begin() + data_len, f.end()), in_port);
    EXPECT_EQ(rte_pktmbuf_chain(head, tail), 0);
  }
  return head;
}

TEST(EthParseRandom, EveryBrokenFrameGetsTheVerdictAndMetaItsRulesGive) {
  ASSERT_NE(testing::Eal().pool, nullptr);
  auto snap = testing::StandardTopology().Build();
  const std::vector<Bytes> seeds = Seeds();
  const uint16_t ports[] = {Topo::kPodA, Topo::kUplink, Topo::kHost, Topo::kAbsent};
  const uint64_t flags[] = {0, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                            RTE_MBUF_F_RX_IP_CKSUM_NONE};
  std::mt19937 rng(4);
  WorkerCounters counters{};
  int checked = 0;
  std::map<std::string, int> seen;  // outcomes reached: the mutations must reach each of them
  for (int round = 0; round < 3000; ++round) {
    Burst b;
    std::vector<Bytes> frames;
    std::vector<Want> want;
    uint8_t want_has = 0;
    const uint16_t n = static_cast<uint16_t>(1 + rng() % kBurstMax);
    for (uint16_t i = 0; i < n; ++i) {
      Bytes f = Mutate(seeds[rng() % seeds.size()], rng);
      // The uplink sees our MAC most of the time, so that its frames get as far as IPv4.
      if (rng() % 2 == 0 && f.size() >= 6)
        std::copy_n(snap->port(Topo::kUplink).mac.begin(), 6, f.begin());
      const uint16_t port = ports[rng() % 4];
      const uint64_t ol = flags[rng() % 4];
      const uint32_t data_len = rng() % 8 == 0 && f.size() > 1
                                    ? 1 + static_cast<uint32_t>(rng() % (f.size() - 1))
                                    : static_cast<uint32_t>(f.size());
      rte_mbuf* pkt = ToMbufs(f, data_len, port);
      pkt->ol_flags = ol;
      std::memset(&Meta(pkt), 0xa5, sizeof(PacketMeta));  // what a recycled mbuf may hold
      b.pkts[b.n++] = pkt;
      want.push_back(Expected(f, data_len, port, snap->port(port),
                              (ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD));
      want_has |= want.back().has;
      frames.push_back(std::move(f));
    }
    Verdicts v;
    StageContext ctx{*snap, counters, 0};
    EthParseStage::Process(ctx, b, v);
    EXPECT_EQ(ctx.burst_has, want_has) << "round " << round;
    for (uint16_t i = 0; i < n; ++i) {
      const PacketMeta& got = Meta(b.pkts[i]);
      EXPECT_EQ(v.edge[i], want[i].edge) << testing::Hex(frames[i]);
      EXPECT_EQ(DropReasonName(got.drop), DropReasonName(want[i].meta.drop))
          << testing::Hex(frames[i]);
      EXPECT_EQ(std::memcmp(&got, &want[i].meta, sizeof(PacketMeta)), 0)
          << "meta differs; port " << got.in_port << " data_len " << b.pkts[i]->data_len << "\n"
          << testing::Hex(frames[i]);
      ++seen[Outcome(want[i].meta)];
      rte_pktmbuf_free(b.pkts[i]);
      ++checked;
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(checked, 40000);
  for (const char* outcome : {"port_unavailable",
                              "eth_truncated",
                              "eth_other_host",
                              "ethertype_unsupported",
                              "ip4_truncated",
                              "ip4_bad_version",
                              "ip4_bad_ihl",
                              "ip4_bad_total_length",
                              "ip4_bad_checksum",
                              "arp",
                              "punt",
                              "ports 1",
                              "ports 6",
                              "ports 17",
                              "ports 132",
                              "fragment 6",
                              "fragment 17",
                              "truncated 1",
                              "truncated 6",
                              "truncated 17",
                              "truncated 132",
                              "other protocol"}) {
    EXPECT_GE(seen[outcome], 20) << "the mutations rarely reach " << outcome;
  }
}

}  // namespace
}  // namespace nodeplane::dp
