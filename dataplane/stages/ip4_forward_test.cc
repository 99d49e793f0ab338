// Unit tests of the ip4_forward stage: the routed frame byte for byte (MACs, TTL, checksum), the
// incremental checksum against a full recomputation, and TTL expiry turned into ICMP time-exceeded
// (RFC 792 / RFC 1812 §4.3.2.7: no error about an error, a fragment or a multicast source).
#include "dataplane/stages/ip4_forward.h"

#include <gtest/gtest.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::InetChecksum;
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;

// ---- Routing ----

struct RouteCase {
  std::string name;
  friend void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.name; }
  Pkt in;  // as received
  uint16_t in_port;
  Pkt want;  // as it must leave (built independently: TTL−1, MACs, fresh checksum)
  uint16_t want_out;
};

Pkt PodAToPodB() {
  return Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp());
}

class Ip4ForwardRoutes : public ::testing::TestWithParam<RouteCase> {};

TEST_P(Ip4ForwardRoutes, RewritesMacsAndDecrementsTtl) {
  const RouteCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4ForwardStage> h(*snap);
  const auto out = h.Run(c.in, c.in_port);
  ASSERT_EQ(out.decided_by, Ip4ForwardStage::kName);
  EXPECT_EQ(out.edge, Edge::kNext);
  EXPECT_EQ(out.meta.out_port, c.want_out);
  const Bytes want = c.want;
  EXPECT_TRUE(SameFrame(want, out.bytes));
  EXPECT_EQ(h.events(Counter::kRouted), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Ip4ForwardStage, Ip4ForwardRoutes,
    ::testing::Values(
        RouteCase{"PodToPodIcmpEcho", PodAToPodB().Ttl(64).IcmpEcho(7, 1).Payload("ping"),
                  Topo::kPodA,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodBMac())
                      .Ip4(Topo::PodAIp(), Topo::PodBIp())
                      .Ttl(63)
                      .IcmpEcho(7, 1)
                      .Payload("ping"),
                  Topo::kPodB},
        RouteCase{"PodToPodUdpWithTtlTwo",
                  PodAToPodB().Ttl(2).Id(0x1234).Udp(5000, 53).Payload("q"), Topo::kPodA,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodBMac())
                      .Ip4(Topo::PodAIp(), Topo::PodBIp())
                      .Ttl(1)
                      .Id(0x1234)
                      .Udp(5000, 53)
                      .Payload("q"),
                  Topo::kPodB},
        RouteCase{"PodToPodTcpWithOptionsAndDf",
                  PodAToPodB()
                      .Ttl(255)
                      .Tos(0x10)
                      .DontFragment()
                      .Ip4Options({0x94, 0x04, 0, 0})
                      .Tcp(40000, 443),
                  Topo::kPodA,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodBMac())
                      .Ip4(Topo::PodAIp(), Topo::PodBIp())
                      .Ttl(254)
                      .Tos(0x10)
                      .DontFragment()
                      .Ip4Options({0x94, 0x04, 0, 0})
                      .Tcp(40000, 443),
                  Topo::kPodB},
        RouteCase{"PodToNodeGoesToTheHostKernelMac",
                  Pkt()
                      .Eth(Topo::PodAMac(), Topo::GatewayMac())
                      .Ip4(Topo::PodAIp(), Topo::NodeIp())
                      .Tcp(40000, 22),
                  Topo::kPodA,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::HostMac())
                      .Ip4(Topo::PodAIp(), Topo::NodeIp())
                      .Ttl(63)
                      .Tcp(40000, 22),
                  Topo::kHost},
        RouteCase{"UplinkToPod",
                  Pkt()
                      .Eth(Topo::RouterMac(), Topo::UplinkMac())
                      .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                      .Udp(53, 5000),
                  Topo::kUplink,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodAMac())
                      .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                      .Ttl(63)
                      .Udp(53, 5000),
                  Topo::kPodA},
        RouteCase{"HostToPod",
                  Pkt()
                      .Eth(Topo::HostMac(), Topo::GatewayMac())
                      .Ip4(Topo::NodeIp(), Topo::PodBIp())
                      .Tcp(6443, 40000, testing::kTcpAck),
                  Topo::kHost,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodBMac())
                      .Ip4(Topo::NodeIp(), Topo::PodBIp())
                      .Ttl(63)
                      .Tcp(6443, 40000, testing::kTcpAck),
                  Topo::kPodB},
        RouteCase{"EthernetPaddingIsKept", PodAToPodB().Udp(1, 2).PadTo(60), Topo::kPodA,
                  Pkt()
                      .Eth(Topo::GatewayMac(), Topo::PodBMac())
                      .Ip4(Topo::PodAIp(), Topo::PodBIp())
                      .Ttl(63)
                      .Udp(1, 2)
                      .PadTo(60),
                  Topo::kPodB}),
    [](const ::testing::TestParamInfo<RouteCase>& info) { return info.param.name; });

TEST(Ip4ForwardStage, PuntedAndArpFramesPassUnchanged) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4ForwardStage> h(*snap);
  const Bytes punted = Pkt()
                           .Eth(Topo::RouterMac(), Topo::UplinkMac())
                           .Ip4(Topo::RemoteIp(), Topo::NodeIp())
                           .Ttl(1)
                           .Udp(1, 2);
  const Bytes arp = Pkt()
                        .Eth(Topo::HostMac(), Topo::RouterMac())
                        .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Topo::RemoteIp());
  const auto out = h.RunBurst({{punted, Topo::kUplink}, {arp, Topo::kHost}});
  EXPECT_EQ(out[0].edge, Edge::kNext);
  EXPECT_TRUE(SameFrame(punted, out[0].bytes)) << "a punted packet keeps its TTL, even 1";
  EXPECT_EQ(out[1].edge, Edge::kNext);
  EXPECT_TRUE(SameFrame(arp, out[1].bytes));
  EXPECT_EQ(h.events(Counter::kRouted), 0u);
  EXPECT_EQ(h.events(Counter::kIcmpTimeExceededSent), 0u);
}

// ---- The incremental checksum (RFC 1624) against a full recomputation ----

// Writes a random IPv4 header (random TTL >= 2, fields and options) into `m` after an Ethernet
// header, with a correct checksum; returns the header length.
uint16_t RandomHeader(std::mt19937& rng, rte_mbuf* m, std::vector<uint8_t>* header) {
  const uint16_t opt_words = static_cast<uint16_t>(rng() % 11);  // 0..10: IHL 5..15
  const uint16_t hlen = static_cast<uint16_t>(20 + 4 * opt_words);
  header->assign(hlen, 0);
  auto& h = *header;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  h[0] = static_cast<uint8_t>(0x40 | (hlen / 4));
  h[2] = static_cast<uint8_t>((hlen + 8) >> 8);
  h[3] = static_cast<uint8_t>(hlen + 8);
  h[8] = static_cast<uint8_t>(2 + rng() % 254);
  h[10] = h[11] = 0;
  const uint16_t sum = InetChecksum(h.data(), hlen);
  h[10] = static_cast<uint8_t>(sum >> 8);
  h[11] = static_cast<uint8_t>(sum);
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(14 + hlen + 8)));
  const Bytes eth = Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).EthType(0x0800).Build();
  std::copy(eth.begin(), eth.end(), p);
  std::copy(h.begin(), h.end(), p + 14);
  std::fill(p + 14 + hlen, p + 14 + hlen + 8, 0);
  return hlen;
}

// The checksum a fresh full computation gives for `header` with TTL one lower.
uint16_t FullRecomputation(std::vector<uint8_t> header) {
  header[8] = static_cast<uint8_t>(header[8] - 1);
  header[10] = header[11] = 0;
  return InetChecksum(header.data(), header.size());
}

// Runs the stage over `rounds` bursts of random headers; returns how many checksums differ from a
// full recomputation (and fails on any that does not verify).
int CountIncrementalMismatches(std::mt19937& rng, int rounds) {
  auto snap = testing::StandardTopology().Build();
  WorkerCounters counters;
  StageContext ctx{*snap, counters, 0};
  rte_mbuf* mbufs[kBurstMax];
  for (auto& m : mbufs) m = testing::ToMbuf({}, Topo::kPodA);
  std::vector<std::vector<uint8_t>> headers(kBurstMax);
  int mismatches = 0;
  for (int r = 0; r < rounds; ++r) {
    Burst b;
    for (uint16_t i = 0; i < kBurstMax; ++i) {
      RandomHeader(rng, mbufs[i], &headers[i]);
      mbufs[i]->port = Topo::kPodA;
      PacketMeta& meta = Meta(mbufs[i]);
      meta = PacketMeta{};
      meta.cls = PacketClass::kIp4;
      meta.in_port = Topo::kPodA;
      meta.out_port = Topo::kPodB;
      meta.l3_offset = 14;
      b.pkts[b.n++] = mbufs[i];
    }
    Verdicts v;
    Ip4ForwardStage::Process(ctx, b, v);
    for (uint16_t i = 0; i < kBurstMax; ++i) {
      const auto* ip = rte_pktmbuf_mtod_offset(mbufs[i], const uint8_t*, 14);
      const size_t hlen = headers[i].size();
      EXPECT_EQ(v.edge[i], Edge::kNext);
      EXPECT_EQ(ip[8], headers[i][8] - 1) << "TTL";
      EXPECT_EQ(InetChecksum(ip, hlen), 0) << "the updated header must verify";
      const uint16_t got = static_cast<uint16_t>((ip[10] << 8) | ip[11]);
      const uint16_t want = FullRecomputation(headers[i]);
      if (got != want) {
        if (++mismatches <= 3) {
          ADD_FAILURE() << "incremental checksum 0x" << std::hex << got
                        << " != full recomputation 0x" << want << " (checksum before: 0x"
                        << ((headers[i][10] << 8) | headers[i][11]) << ", TTL before: " << std::dec
                        << int{headers[i][8]} << ")";
        }
      }
    }
  }
  for (auto* m : mbufs) rte_pktmbuf_free(m);
  return mismatches;
}

TEST(Ip4ForwardStage, IncrementalChecksumEqualsFullRecomputationOverRandomHeaders) {
  std::mt19937 rng(20240611);
  EXPECT_EQ(CountIncrementalMismatches(rng, 4000), 0) << "over " << 4000 * kBurstMax << " headers";
}

TEST(Ip4ForwardStage, ChecksumThatBecomesZeroIsWrittenAsZeroNotAllOnes) {
  // RFC 1624 §3: the naive update HC' = HC + 0x0100 yields 0xFFFF (-0) where a full computation
  // gives 0x0000; eqn. 3 (HC' = ~(~HC + ~m + m')) does not. Find a header whose checksum before
  // the decrement is 0xFEFF (so it becomes 0x0000) by choosing its identification field.
  auto snap = testing::StandardTopology().Build();
  for (uint32_t id = 0; id <= 0xffff; ++id) {
    const Bytes frame = PodAToPodB().Ttl(64).Id(static_cast<uint16_t>(id)).Ip4Proto(253);
    if (frame[14 + 10] != 0xfe || frame[14 + 11] != 0xff) continue;
    StageHarness<Ip4ForwardStage> h(*snap);
    const auto out = h.Run(frame, Topo::kPodA);
    ASSERT_EQ(out.edge, Edge::kNext);
    const Bytes want = Pkt()
                           .Eth(Topo::GatewayMac(), Topo::PodBMac())
                           .Ip4(Topo::PodAIp(), Topo::PodBIp())
                           .Ttl(63)
                           .Id(static_cast<uint16_t>(id))
                           .Ip4Proto(253);
    ASSERT_EQ(want[14 + 10], 0x00);
    ASSERT_EQ(want[14 + 11], 0x00);
    EXPECT_TRUE(SameFrame(want, out.bytes));
    return;
  }
  FAIL() << "no identification gives checksum 0xfeff";
}

// ---- TTL expiry ----

// The ICMP time-exceeded a router sends for `original` (IPv4 packet bytes, from its IP header on):
// from `from_ip`/`from_mac` to the original source, quoting the header plus 8 bytes (RFC 1812).
Bytes TimeExceeded(const Bytes& original_frame, Mac from_mac, Mac to_mac, Ip4 from_ip, Ip4 to_ip) {
  const size_t hlen = (original_frame[14] & 0xf) * 4u;
  const size_t total = (original_frame[16] << 8) | original_frame[17];
  const size_t quote = std::min(total, hlen + 8);
  const Bytes quoted(original_frame.begin() + 14, original_frame.begin() + 14 + quote);
  return Pkt()
      .Eth(from_mac, to_mac)
      .Ip4(from_ip, to_ip)
      .Tos(0xc0)
      .Ttl(64)
      .Id(0)
      .Icmp(11, 0, 0)
      .Payload(quoted);
}

struct ExpiryCase {
  std::string name;
  friend void PrintTo(const ExpiryCase& c, std::ostream* os) { *os << c.name; }
  Pkt in;
  uint16_t in_port;
};

class Ip4ForwardTtlExpiry : public ::testing::TestWithParam<ExpiryCase> {};

TEST_P(Ip4ForwardTtlExpiry, BecomesIcmpTimeExceededBackOutOfTheInputPort) {
  const ExpiryCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4ForwardStage> h(*snap);
  const Bytes in = c.in;
  const auto out = h.Run(in, c.in_port);
  ASSERT_EQ(out.decided_by, Ip4ForwardStage::kName);
  ASSERT_EQ(out.edge, Edge::kTx);
  EXPECT_EQ(out.meta.out_port, c.in_port);
  const PortEntry& port = snap->port(c.in_port);
  Mac our_mac, their_mac;
  std::copy(port.mac.begin(), port.mac.end(), our_mac.bytes.begin());
  std::copy(in.begin() + 6, in.begin() + 12, their_mac.bytes.begin());
  Ip4 src_back;
  std::memcpy(&src_back.be, in.data() + 14 + 12, 4);
  const Bytes want = TimeExceeded(in, our_mac, their_mac, Ip4{port.gateway_ip}, src_back);
  EXPECT_TRUE(SameFrame(want, out.bytes));
  EXPECT_EQ(h.drops(DropReason::kIp4TtlExceeded), 1u) << "the original counts as a drop, once";
  EXPECT_EQ(h.events(Counter::kIcmpTimeExceededSent), 1u);
  EXPECT_EQ(h.events(Counter::kRouted), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Ip4ForwardStage, Ip4ForwardTtlExpiry,
    ::testing::Values(
        ExpiryCase{"PodUdpTtlOne", PodAToPodB().Ttl(1).Id(77).Udp(5000, 53).Payload("0123456789"),
                   Topo::kPodA},
        ExpiryCase{"PodTtlZero", PodAToPodB().Ttl(0).Udp(5000, 53).Payload("0123456789"),
                   Topo::kPodA},
        ExpiryCase{"PodIcmpEchoIsNotAnError", PodAToPodB().Ttl(1).IcmpEcho(1, 1).Payload("abc"),
                   Topo::kPodA},
        ExpiryCase{"QuoteIncludesIpOptions",
                   PodAToPodB().Ttl(1).Ip4Options({0x01, 0x01, 0x01, 0x00}).Tcp(1, 2).Payload("x"),
                   Topo::kPodA},
        ExpiryCase{"ShortPayloadIsQuotedWhole", PodAToPodB().Ttl(1).Ip4Proto(253).Payload("ab"),
                   Topo::kPodA},
        ExpiryCase{"EthernetPaddingIsNotQuoted",
                   PodAToPodB().Ttl(1).Ip4Proto(253).Payload("ab").PadTo(60), Topo::kPodA},
        ExpiryCase{"FirstFragmentGetsAnError",
                   PodAToPodB().Ttl(1).FragmentOffset(0, true).Udp(1, 2).Payload(Bytes(64, 3)),
                   Topo::kPodA},
        ExpiryCase{"FromUplinkAnsweredFromTheNodeAddress",
                   Pkt()
                       .Eth(Topo::RouterMac(), Topo::UplinkMac())
                       .Ip4(Topo::RemoteIp(), Topo::PodAIp())
                       .Ttl(1)
                       .Udp(53, 5000)
                       .Payload("0123456789"),
                   Topo::kUplink},
        ExpiryCase{"FromHost",
                   Pkt()
                       .Eth(Topo::HostMac(), Topo::GatewayMac())
                       .Ip4(Topo::NodeIp(), Topo::PodBIp())
                       .Ttl(1)
                       .Tcp(6443, 1000),
                   Topo::kHost}),
    [](const ::testing::TestParamInfo<ExpiryCase>& info) { return info.param.name; });

class Ip4ForwardTtlExpiryWithoutError : public ::testing::TestWithParam<ExpiryCase> {};

TEST_P(Ip4ForwardTtlExpiryWithoutError, IsDroppedSilently) {
  const ExpiryCase& c = GetParam();
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4ForwardStage> h(*snap);
  const auto out = h.Run(c.in, c.in_port);
  ASSERT_EQ(out.decided_by, Ip4ForwardStage::kName);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kIp4TtlExceeded);
  EXPECT_EQ(h.drops(DropReason::kIp4TtlExceeded), 1u) << "counted once";
  EXPECT_EQ(h.events(Counter::kIcmpTimeExceededSent), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Ip4ForwardStage, Ip4ForwardTtlExpiryWithoutError,
    ::testing::Values(
        ExpiryCase{"AboutATimeExceeded", PodAToPodB().Ttl(1).Icmp(11, 0).Payload(Bytes(28, 0)),
                   Topo::kPodA},
        ExpiryCase{"AboutADestinationUnreachable",
                   PodAToPodB().Ttl(1).Icmp(3, 1).Payload(Bytes(28, 0)), Topo::kPodA},
        ExpiryCase{"AboutASourceQuench", PodAToPodB().Ttl(1).Icmp(4, 0).Payload(Bytes(28, 0)),
                   Topo::kPodA},
        ExpiryCase{"AboutARedirect", PodAToPodB().Ttl(1).Icmp(5, 0).Payload(Bytes(28, 0)),
                   Topo::kPodA},
        ExpiryCase{"AboutAParameterProblem", PodAToPodB().Ttl(1).Icmp(12, 0).Payload(Bytes(28, 0)),
                   Topo::kPodA},
        ExpiryCase{"NonFirstFragment",
                   PodAToPodB().Ttl(1).FragmentOffset(185).Ip4Proto(17).Payload(Bytes(40, 1)),
                   Topo::kPodA},
        ExpiryCase{"MulticastSource",
                   Pkt()
                       .Eth(Topo::RouterMac(), Topo::UplinkMac())
                       .Ip4(A("224.0.0.5"), Topo::PodAIp())
                       .Ttl(1)
                       .Udp(1, 2),
                   Topo::kUplink},
        ExpiryCase{"BroadcastSource",
                   Pkt()
                       .Eth(Topo::RouterMac(), Topo::UplinkMac())
                       .Ip4(A("255.255.255.255"), Topo::PodAIp())
                       .Ttl(1)
                       .Udp(1, 2),
                   Topo::kUplink},
        ExpiryCase{"UnspecifiedSource",
                   Pkt()
                       .Eth(Topo::RouterMac(), Topo::UplinkMac())
                       .Ip4(A("0.0.0.0"), Topo::PodAIp())
                       .Ttl(1)
                       .Udp(1, 2),
                   Topo::kUplink}),
    [](const ::testing::TestParamInfo<ExpiryCase>& info) { return info.param.name; });

TEST(Ip4ForwardStage, BurstMixesRoutedAndExpiredPackets) {
  auto snap = testing::StandardTopology().Build();
  StageHarness<Ip4ForwardStage> h(*snap);
  std::vector<testing::Input> in;
  for (int i = 0; i < kBurstMax; ++i) {
    in.push_back(
        {PodAToPodB().Ttl(i % 4 == 0 ? 1 : 64).Udp(static_cast<uint16_t>(i), 9), Topo::kPodA});
  }
  const auto out = h.RunBurst(in);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].edge, i % 4 == 0 ? Edge::kTx : Edge::kNext) << "packet " << i;
  }
  EXPECT_EQ(h.events(Counter::kRouted), 48u);
  EXPECT_EQ(h.events(Counter::kIcmpTimeExceededSent), 16u);
  EXPECT_EQ(h.drops(DropReason::kIp4TtlExceeded), 16u);
}

}  // namespace
}  // namespace nodeplane::dp
