// Unit tests of the IPv4 header checks shared by eth_parse and vxlan_decap: the header sum
// against a plain RFC 1071 16-bit sum, and each malformation rejected with its reason.
#include "dataplane/core/ip4_header.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

// RFC 1071 as written: 16-bit big-endian words, carries folded at the end.
uint16_t ReferenceSum(const uint8_t* p, uint32_t len) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint16_t Swap(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }

TEST(Ip4HeaderSum, MatchesRfc1071OnRandomHeadersOfEveryLength) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    const uint32_t hlen = 20 + 4 * (round % 11);
    std::vector<uint8_t> h(hlen);
    // Bias towards all-ones bytes now and then: the carries that folding must get right.
    for (auto& b : h) b = static_cast<uint8_t>(round % 3 == 0 ? 0xff - byte(rng) % 2 : byte(rng));
    // The sum is in the header's own byte order: as stored in memory on this little-endian host.
    EXPECT_EQ(Swap(Ip4HeaderSum(h.data(), hlen)), ReferenceSum(h.data(), hlen))
        << "round " << round;
  }
}

TEST(Ip4HeaderSum, AllOnesHeaderSumsToAllOnes) {
  std::vector<uint8_t> h(60, 0xff);
  for (uint32_t hlen = 20; hlen <= 60; hlen += 4) EXPECT_EQ(Ip4HeaderSum(h.data(), hlen), 0xffff);
}

// Words whose 64-bit total is 0x1'ffffffff: folding the high half into the low one carries out of
// 32 bits, and that carry must come back in.
TEST(Ip4HeaderSum, FoldsTheCarryOutOfTheLow32Bits) {
  std::vector<uint8_t> h(20, 0);
  for (int i = 0; i < 8; ++i) h[i] = 0xff;
  h[8] = 1;  // the third 32-bit word is 1 in host order
  EXPECT_EQ(Swap(Ip4HeaderSum(h.data(), 20)), ReferenceSum(h.data(), 20));
}

// The compare-only form must agree with the sum, on headers with a right checksum (made so half the
// time), a wrong one, all zeros (sum 0, not "negative zero") and all ones.
TEST(Ip4HeaderChecksumVerifies, AgreesWithTheSumOnEveryLength) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  int verified = 0;
  for (int round = 0; round < 20000; ++round) {
    const uint32_t hlen = 20 + 4 * (round % 11);
    std::vector<uint8_t> h(hlen);
    for (auto& b : h) b = static_cast<uint8_t>(round % 3 == 0 ? 0xff - byte(rng) % 2 : byte(rng));
    if (round % 2 == 0) {
      h[10] = h[11] = 0;
      const uint16_t s = static_cast<uint16_t>(~ReferenceSum(h.data(), hlen));
      h[10] = static_cast<uint8_t>(s >> 8);
      h[11] = static_cast<uint8_t>(s);
    }
    const bool want = ReferenceSum(h.data(), hlen) == 0xffff;
    verified += want ? 1 : 0;
    EXPECT_EQ(Ip4HeaderChecksumVerifies(h.data(), hlen), want) << "round " << round;
  }
  EXPECT_GE(verified, 10000);
  const std::vector<uint8_t> zeros(20, 0), ones(20, 0xff);
  EXPECT_FALSE(Ip4HeaderChecksumVerifies(zeros.data(), 20));
  EXPECT_TRUE(Ip4HeaderChecksumVerifies(ones.data(), 20));
}

class CheckIp4HeaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(testing::Eal().pool, nullptr); }
  // Checks a frame's IPv4 header at offset 14, after letting `edit` change the header.
  template <typename Edit>
  DropReason Check(Edit edit, bool fix_sum = true, int32_t l3_end_delta = 0) {
    testing::Bytes f = testing::Pkt()
                           .Eth(testing::M("02:00:00:00:00:01"), testing::M("02:00:00:00:00:02"))
                           .Ip4(testing::A("10.0.0.1"), testing::A("10.0.0.2"))
                           .Udp(1, 2)
                           .Payload("abcd");
    edit(f);
    if (fix_sum) {
      const uint32_t hlen = (f[14] & 0xf) * 4u;
      f[24] = f[25] = 0;
      const uint16_t s = static_cast<uint16_t>(~ReferenceSum(&f[14], hlen));
      f[24] = static_cast<uint8_t>(s >> 8);
      f[25] = static_cast<uint8_t>(s);
    }
    rte_mbuf* m = testing::ToMbuf(f, 0);
    const DropReason r =
        CheckIp4Header(m, 14, static_cast<uint32_t>(f.size() + l3_end_delta), false);
    rte_pktmbuf_free(m);
    return r;
  }
};

TEST_F(CheckIp4HeaderTest, AcceptsAWellFormedHeader) {
  EXPECT_EQ(Check([](testing::Bytes&) {}), DropReason::kUnspecified);
}

TEST_F(CheckIp4HeaderTest, RejectsEachMalformationWithItsReason) {
  EXPECT_EQ(Check([](testing::Bytes& f) { f[14] = 0x65; }), DropReason::kIp4BadVersion);
  EXPECT_EQ(Check([](testing::Bytes& f) { f[14] = 0x44; }), DropReason::kIp4BadIhl);
  EXPECT_EQ(Check([](testing::Bytes& f) { f[14] = 0x4f; }), DropReason::kIp4BadIhl)
      << "60-byte header in a shorter frame";
  EXPECT_EQ(Check([](testing::Bytes& f) {
              f[16] = 0;
              f[17] = 19;
            }),
            DropReason::kIp4BadTotalLength);
  EXPECT_EQ(Check([](testing::Bytes&) {}, true, -1), DropReason::kIp4BadTotalLength)
      << "total length beyond where the packet must end";
  EXPECT_EQ(Check([](testing::Bytes& f) { f[22] ^= 1; }, false), DropReason::kIp4BadChecksum);
  EXPECT_EQ(Check([](testing::Bytes& f) { f.resize(14 + 19); }, false), DropReason::kIp4Truncated);
}

TEST_F(CheckIp4HeaderTest, AcceptsOptionsWhenTheSumCoversThem) {
  EXPECT_EQ(Check([](testing::Bytes& f) {
              f.insert(f.begin() + 34, {1, 1, 1, 0});  // NOP NOP NOP EOL
              f[14] = 0x46;
              const auto total = static_cast<uint16_t>((f[16] << 8 | f[17]) + 4);
              f[16] = static_cast<uint8_t>(total >> 8);
              f[17] = static_cast<uint8_t>(total);
            }),
            DropReason::kUnspecified);
}

}  // namespace
}  // namespace nodeplane::dp
