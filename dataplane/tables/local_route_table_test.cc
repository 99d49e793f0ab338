// Unit tests of LocalRouteTable: exact /32 matches only, bulk lookups agree with single lookups for
// every mix of hits and misses, duplicates rejected, and it holds thousands of routes.
#include "dataplane/tables/local_route_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

using testing::A;

constexpr uint16_t kMaxBulk = 64;  // LookupBulk's documented limit

class LocalRouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::Eal(); }
};

TEST_F(LocalRouteTableTest, FindsExactAddressesOnly) {
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build({{A("10.244.1.2").be, 2}, {A("10.244.1.3").be, 3}, {A("192.168.1.10").be, 1}},
                      &error))
      << error;
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Lookup(A("10.244.1.2").be), 2);
  EXPECT_EQ(t.Lookup(A("10.244.1.3").be), 3);
  EXPECT_EQ(t.Lookup(A("192.168.1.10").be), 1);
  EXPECT_EQ(t.Lookup(A("10.244.1.4").be), LocalRouteTable::kMiss);
  EXPECT_EQ(t.Lookup(A("10.244.1.0").be), LocalRouteTable::kMiss) << "no prefix matching";
  EXPECT_EQ(t.Lookup(A("2.1.244.10").be), LocalRouteTable::kMiss)
      << "keys are network-order addresses; the byte-swapped value is another address";
}

TEST_F(LocalRouteTableTest, PortZeroIsAValidAnswer) {
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build({{A("10.0.0.1").be, 0}}, &error)) << error;
  EXPECT_EQ(t.Lookup(A("10.0.0.1").be), 0);
  uint32_t dst[] = {A("10.0.0.1").be, A("10.0.0.2").be};
  uint16_t out[2];
  t.LookupBulk(dst, 2, out);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], LocalRouteTable::kMiss);
}

TEST_F(LocalRouteTableTest, EmptyTableMissesEverything) {
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build({}, &error)) << error;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Lookup(A("10.0.0.1").be), LocalRouteTable::kMiss);
  uint32_t dst[kMaxBulk] = {};
  uint16_t out[kMaxBulk];
  t.LookupBulk(dst, kMaxBulk, out);
  for (uint16_t p : out) EXPECT_EQ(p, LocalRouteTable::kMiss);
}

TEST_F(LocalRouteTableTest, DuplicateAddressIsRejected) {
  LocalRouteTable t;
  std::string error;
  EXPECT_FALSE(
      t.Build({{A("10.244.1.2").be, 2}, {A("10.244.1.3").be, 3}, {A("10.244.1.2").be, 4}}, &error));
  EXPECT_NE(error.find("duplicate"), std::string::npos) << error;
}

TEST_F(LocalRouteTableTest, ZeroAddressIsRejected) {
  LocalRouteTable t;
  std::string error;
  EXPECT_FALSE(t.Build({{A("10.244.1.2").be, 2}, {0, 3}}, &error));
  EXPECT_NE(error.find("0.0.0.0"), std::string::npos) << error;
}

TEST_F(LocalRouteTableTest, ThousandsOfNeighbouringAddressesAreAllFoundAndNothingElse) {
  std::vector<std::pair<uint32_t, uint16_t>> routes;
  for (uint32_t i = 1; i <= 4000; ++i) {
    routes.emplace_back(Ip4::FromHost(0x0af40000u + i * 2).be, static_cast<uint16_t>(i % 7));
  }
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build(routes, &error)) << error;
  EXPECT_EQ(t.size(), routes.size());
  for (const auto& [addr, port] : routes) EXPECT_EQ(t.Lookup(addr), port);
  for (uint32_t i = 1; i <= 4000; ++i) {  // the odd addresses in between were never added
    EXPECT_EQ(t.Lookup(Ip4::FromHost(0x0af40000u + i * 2 + 1).be), LocalRouteTable::kMiss);
  }
}

TEST_F(LocalRouteTableTest, DuplicateWithTheSamePortIsRejectedToo) {
  LocalRouteTable t;
  std::string error;
  EXPECT_FALSE(t.Build({{A("10.244.1.2").be, 2}, {A("10.244.1.2").be, 2}}, &error));
}

TEST_F(LocalRouteTableTest, BulkLookupAgreesWithSingleLookupsForAnyMix) {
  // 5000 routes (past the minimum size, so the table grows), then random bursts of every length
  // mixing hits and misses.
  std::vector<std::pair<uint32_t, uint16_t>> routes;
  for (uint32_t i = 0; i < 5000; ++i) {
    routes.emplace_back(Ip4::FromHost(0x0af40000u + i * 3).be, static_cast<uint16_t>(i % 31));
  }
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build(routes, &error)) << error;
  EXPECT_EQ(t.size(), 5000u);
  for (const auto& [addr, port] : routes) ASSERT_EQ(t.Lookup(addr), port);

  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    const uint16_t n = static_cast<uint16_t>(1 + rng() % kMaxBulk);
    uint32_t dst[kMaxBulk];
    uint16_t out[kMaxBulk];
    for (uint16_t i = 0; i < n; ++i) {
      // Every third address from 10.244.0.0 is a route; the others (and beyond) are misses.
      dst[i] = Ip4::FromHost(0x0af40000u + rng() % 16000).be;
    }
    t.LookupBulk(dst, n, out);
    for (uint16_t i = 0; i < n; ++i) {
      const uint32_t off = Ip4{dst[i]}.host() - 0x0af40000u;
      const uint16_t want = (off % 3 == 0 && off / 3 < 5000) ? static_cast<uint16_t>((off / 3) % 31)
                                                             : LocalRouteTable::kMiss;
      ASSERT_EQ(out[i], want) << "round " << round << ", key " << i << " of " << n << ": "
                              << Ip4{dst[i]}.ToString();
      ASSERT_EQ(t.Lookup(dst[i]), want);
    }
  }
}

TEST_F(LocalRouteTableTest, BulkLookupOfNothingTouchesNothing) {
  LocalRouteTable t;
  std::string error;
  ASSERT_TRUE(t.Build({{A("10.0.0.1").be, 1}}, &error));
  uint16_t out[1] = {42};
  t.LookupBulk(nullptr, 0, out);
  EXPECT_EQ(out[0], 42);
}

TEST_F(LocalRouteTableTest, TablesAreIndependent) {
  // Each snapshot builds its own table; two alive at once (old and new generation) must not share.
  LocalRouteTable a, b;
  std::string error;
  ASSERT_TRUE(a.Build({{A("10.0.0.1").be, 1}}, &error)) << error;
  ASSERT_TRUE(b.Build({{A("10.0.0.1").be, 2}}, &error)) << error;
  EXPECT_EQ(a.Lookup(A("10.0.0.1").be), 1);
  EXPECT_EQ(b.Lookup(A("10.0.0.1").be), 2);
}

}  // namespace
}  // namespace nodeplane::dp
