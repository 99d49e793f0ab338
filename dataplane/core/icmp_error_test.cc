// Unit tests of MakeIcmp4Error: the exact error frame (addresses, quote, rest-of-header, both
// checksums), and every case where RFC 1812 §4.3.2.7 forbids sending one (frame left untouched).
#include "dataplane/core/icmp_error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::M;
using testing::Pkt;
using testing::SameFrame;

const Mac kOurMac = M("02:00:00:00:aa:01");
const Mac kSenderMac = M("02:00:00:00:bb:02");
const Ip4 kOurIp = A("10.0.0.1");
const Ip4 kSender = A("10.0.0.2");
const Ip4 kTarget = A("10.0.9.9");

IcmpErrorFrom From() { return IcmpErrorFrom{kOurMac.bytes, kOurIp.be}; }

Pkt Offending() { return Pkt().Eth(kSenderMac, kOurMac).Ip4(kSender, kTarget).Ttl(1); }

// The error a router must send about `frame`: quote = IP header + min(8, payload) bytes.
Bytes ExpectedError(const Bytes& frame, uint8_t type, uint8_t code, uint32_t rest) {
  const size_t hlen = (frame[14] & 0xf) * 4u;
  const size_t total = (frame[16] << 8) | frame[17];
  const Bytes quote(frame.begin() + 14, frame.begin() + 14 + std::min(total, hlen + 8));
  return Pkt()
      .Eth(kOurMac, kSenderMac)
      .Ip4(kOurIp, kSender)
      .Tos(0xc0)
      .Ttl(64)
      .Icmp(type, code, rest)
      .Payload(quote);
}

struct Made {
  bool sent;
  Bytes bytes;
};

Made Make(const Bytes& frame, uint8_t type, uint8_t code, uint32_t rest_host_order) {
  rte_mbuf* m = testing::ToMbuf(frame, 0);
  const uint32_t rest_be = __builtin_bswap32(rest_host_order);
  const bool sent = MakeIcmp4Error(m, 14, type, code, rest_be, From());
  Made out{sent, testing::FromMbuf(m)};
  rte_pktmbuf_free(m);
  return out;
}

TEST(MakeIcmp4Error, TimeExceededQuotesHeaderAndEightBytes) {
  const Bytes in = Offending().Id(99).Udp(4000, 53).Payload("a longer payload than eight bytes");
  const Made out = Make(in, 11, 0, 0);
  ASSERT_TRUE(out.sent);
  EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), out.bytes));
  EXPECT_EQ(out.bytes.size(), 14u + 20 + 8 + 20 + 8);
}

TEST(MakeIcmp4Error, RestOfHeaderCarriesTheNextHopMtu) {
  // Destination unreachable / fragmentation needed (RFC 1191): the MTU sits in bytes 6..7.
  const Bytes in = Offending().DontFragment().Tcp(1, 2).Payload(Bytes(1400, 0));
  const Made out = Make(in, 3, 4, 1280);
  ASSERT_TRUE(out.sent);
  EXPECT_TRUE(SameFrame(ExpectedError(in, 3, 4, 1280), out.bytes));
  EXPECT_EQ(out.bytes[14 + 20 + 6], 0x05);
  EXPECT_EQ(out.bytes[14 + 20 + 7], 0x00);
}

TEST(MakeIcmp4Error, OptionsAreQuotedWithTheHeader) {
  const Bytes in = Offending().Ip4Options({7, 7, 4, 0, 0, 0, 0, 0}).Udp(1, 2).Payload("123456789");
  const Made out = Make(in, 11, 0, 0);
  ASSERT_TRUE(out.sent);
  EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), out.bytes));
  EXPECT_EQ(out.bytes.size(), 14u + 28 + 28 + 8);
}

TEST(MakeIcmp4Error, QuoteStopsAtTheIpTotalLengthNotAtThePadding) {
  const Bytes in = Offending().Ip4Proto(253).Payload("xyz").PadTo(60);
  const Made out = Make(in, 11, 0, 0);
  ASSERT_TRUE(out.sent);
  EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), out.bytes));
  EXPECT_EQ(out.bytes.size(), 14u + 28 + 23);
}

TEST(MakeIcmp4Error, OddQuoteLengthChecksumsCorrectly) {
  const Bytes in = Offending().Ip4Proto(253).Payload("abcde");
  const Made out = Make(in, 11, 0, 0);
  ASSERT_TRUE(out.sent);
  EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), out.bytes));
}

TEST(MakeIcmp4Error, ChecksumIsTheOnesComplementOfTheSumEvenWhenThatIsZero) {
  // RFC 792/1071: checksum = ~sum. When the message sums to 0xffff, that is 0x0000 (ICMP has no
  // "zero means none" rule, unlike UDP). Choose the quoted payload so that this happens.
  for (uint32_t w = 0; w <= 0xffff; ++w) {
    Bytes payload(8, 0);
    payload[0] = static_cast<uint8_t>(w >> 8);
    payload[1] = static_cast<uint8_t>(w);
    const Bytes in = Offending().Ip4Proto(253).Payload(payload);
    const Bytes want = ExpectedError(in, 11, 0, 0);
    if (want[14 + 20 + 2] != 0 || want[14 + 20 + 3] != 0) continue;
    const Made out = Make(in, 11, 0, 0);
    ASSERT_TRUE(out.sent);
    EXPECT_TRUE(SameFrame(want, out.bytes));
    return;
  }
  FAIL() << "no payload word gives an ICMP checksum of zero";
}

struct RefusedCase {
  std::string name;
  friend void PrintTo(const RefusedCase& c, std::ostream* os) { *os << c.name; }
  Bytes frame;
};

class MakeIcmp4ErrorRefuses : public ::testing::TestWithParam<RefusedCase> {};

TEST_P(MakeIcmp4ErrorRefuses, AndLeavesTheFrameUntouched) {
  const RefusedCase& c = GetParam();
  const Made out = Make(c.frame, 11, 0, 0);
  EXPECT_FALSE(out.sent);
  EXPECT_TRUE(SameFrame(c.frame, out.bytes));
}

INSTANTIATE_TEST_SUITE_P(
    MakeIcmp4Error, MakeIcmp4ErrorRefuses,
    ::testing::Values(
        RefusedCase{"DestinationUnreachable", Offending().Icmp(3, 3).Payload(Bytes(28, 1))},
        RefusedCase{"SourceQuench", Offending().Icmp(4, 0).Payload(Bytes(28, 1))},
        RefusedCase{"Redirect", Offending().Icmp(5, 1).Payload(Bytes(28, 1))},
        RefusedCase{"TimeExceeded", Offending().Icmp(11, 1).Payload(Bytes(28, 1))},
        RefusedCase{"ParameterProblem", Offending().Icmp(12, 0).Payload(Bytes(28, 1))},
        RefusedCase{"NonFirstFragment", Offending().FragmentOffset(1).Udp(1, 2)},
        RefusedCase{"LastFragment",
                    Offending().FragmentOffset(100, false).Ip4Proto(6).Payload("x")},
        RefusedCase{"MulticastSource",
                    Pkt().Eth(kSenderMac, kOurMac).Ip4(A("239.1.1.1"), kTarget).Udp(1, 2)},
        RefusedCase{"ClassESource",
                    Pkt().Eth(kSenderMac, kOurMac).Ip4(A("240.0.0.1"), kTarget).Udp(1, 2)},
        RefusedCase{"BroadcastSource",
                    Pkt().Eth(kSenderMac, kOurMac).Ip4(A("255.255.255.255"), kTarget).Udp(1, 2)},
        RefusedCase{"UnspecifiedSource",
                    Pkt().Eth(kSenderMac, kOurMac).Ip4(A("0.0.0.0"), kTarget).Udp(1, 2)}),
    [](const ::testing::TestParamInfo<RefusedCase>& info) { return info.param.name; });

TEST(MakeIcmp4Error, IcmpInformationalMessagesGetErrors) {
  for (uint8_t type : {0, 8, 13, 14}) {
    const Bytes in = Offending().Icmp(type, 0, 0x00010002).Payload("data");
    const Made out = Make(in, 11, 0, 0);
    EXPECT_TRUE(out.sent) << "ICMP type " << int{type};
    EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), out.bytes)) << "ICMP type " << int{type};
  }
}

TEST(MakeIcmp4Error, RefusesWithoutHeadroomForTheNewHeaders) {
  const Bytes in = Offending().Udp(1, 2);
  rte_mbuf* m = rte_pktmbuf_alloc(testing::Eal().pool);
  ASSERT_NE(m, nullptr);
  m->data_off = 27;  // one byte short of the 28 bytes the IP and ICMP headers need
  std::copy(in.begin(), in.end(), rte_pktmbuf_mtod(m, uint8_t*));
  m->data_len = m->pkt_len = static_cast<uint16_t>(in.size());
  EXPECT_FALSE(MakeIcmp4Error(m, 14, 11, 0, 0, From()));
  EXPECT_TRUE(SameFrame(in, testing::FromMbuf(m)));
  m->data_off = 28;
  std::copy(in.begin(), in.end(), rte_pktmbuf_mtod(m, uint8_t*));
  EXPECT_TRUE(MakeIcmp4Error(m, 14, 11, 0, 0, From())) << "exactly enough headroom is enough";
  EXPECT_TRUE(SameFrame(ExpectedError(in, 11, 0, 0), testing::FromMbuf(m)));
  rte_pktmbuf_free(m);
}

TEST(MakeIcmp4Error, RefusesChainedMbufs) {
  const Bytes in = Offending().Udp(1, 2).Payload(Bytes(100, 5));
  rte_mbuf* head = testing::ToMbuf(Bytes(in.begin(), in.begin() + 50), 0);
  rte_mbuf* tail = testing::ToMbuf(Bytes(in.begin() + 50, in.end()), 0);
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  EXPECT_FALSE(MakeIcmp4Error(head, 14, 11, 0, 0, From()));
  EXPECT_TRUE(SameFrame(in, testing::FromMbuf(head)));
  rte_pktmbuf_free(head);
}

}  // namespace
}  // namespace nodeplane::dp
