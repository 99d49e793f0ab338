// Unit tests of the Fib: longest-prefix match to remote node slots, in-place route changes, the
// capacity check, and — with a reader thread looking up without pause through the process's RCU —
// that changing one node's routes (adds, re-points, deletes, prefixes longer than /24 sharing a
// tbl8 group with another node's) never changes a single lookup result for another node.
#include "dataplane/tables/fib.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/core/rcu.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

using testing::A;

Ip4Prefix P(const char* text) { return *Ip4Prefix::Parse(text); }

class FibTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Eal();
    std::string error;
    ASSERT_TRUE(fib_.Init(Fib::Limits{.max_routes = 256, .tbl8_groups = 8}, nullptr, &error))
        << error;
  }
  void Add(const char* prefix, uint32_t slot) {
    std::string error;
    ASSERT_TRUE(fib_.Add(P(prefix), slot, &error)) << error;
  }
  uint32_t At(const char* ip) const { return fib_.Lookup(A(ip).be); }

  Fib fib_;
};

TEST_F(FibTest, EmptyTableMissesEverything) {
  EXPECT_EQ(At("10.244.2.1"), Fib::kMiss);
  EXPECT_EQ(At("0.0.0.0"), Fib::kMiss);
}

TEST_F(FibTest, LongestPrefixWins) {
  struct Case {
    const char* ip;
    uint32_t slot;
  };
  Add("10.0.0.0/8", 1);
  Add("10.244.2.0/24", 2);
  Add("10.244.2.128/25", 3);
  Add("10.244.2.200/32", 4);
  for (const Case& c : {Case{"10.1.2.3", 1}, Case{"10.244.2.1", 2}, Case{"10.244.2.127", 2},
                        Case{"10.244.2.128", 3}, Case{"10.244.2.199", 3}, Case{"10.244.2.200", 4},
                        Case{"10.244.2.201", 3}, Case{"11.0.0.1", Fib::kMiss}}) {
    EXPECT_EQ(At(c.ip), c.slot) << c.ip;
  }
}

TEST_F(FibTest, BulkLookupMatchesSingleLookups) {
  Add("10.244.2.0/24", 7);
  Add("10.244.3.0/25", 9);
  std::vector<uint32_t> dst;
  for (int i = 0; i < 64; ++i) {
    dst.push_back(
        A(("10.244." + std::to_string(1 + i % 3) + "." + std::to_string(i * 4)).c_str()).be);
  }
  uint32_t slot[64];
  fib_.LookupBulk(dst.data(), 64, slot);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(slot[i], fib_.Lookup(dst[i])) << i;
  EXPECT_EQ(slot[1], 7u);          // 10.244.2.4
  EXPECT_EQ(slot[0], Fib::kMiss);  // 10.244.1.0
  // Bursts of every length, whole groups of four or not.
  for (uint16_t n : {1, 2, 3, 4, 5, 7, 8, 63}) {
    uint32_t part[64];
    for (uint16_t k = 0; k < 64; ++k) part[k] = 0xdeadbeef;
    fib_.LookupBulk(dst.data() + 1, n, part);
    for (uint16_t k = 0; k < n; ++k) EXPECT_EQ(part[k], fib_.Lookup(dst[k + 1])) << n << " " << k;
    EXPECT_EQ(part[n], 0xdeadbeefu) << "nothing written beyond n=" << n;
  }
}

TEST_F(FibTest, AddingAnExistingPrefixRepointsIt) {
  Add("10.244.2.0/24", 1);
  Add("10.244.2.0/24", 5);
  EXPECT_EQ(At("10.244.2.9"), 5u);
}

TEST_F(FibTest, DeleteFallsBackToTheCoveringPrefix) {
  Add("10.244.0.0/16", 1);
  Add("10.244.2.0/26", 2);
  std::string error;
  ASSERT_TRUE(fib_.Delete(P("10.244.2.0/26"), &error)) << error;
  EXPECT_EQ(At("10.244.2.1"), 1u);
  ASSERT_TRUE(fib_.Delete(P("10.244.0.0/16"), &error)) << error;
  EXPECT_EQ(At("10.244.2.1"), Fib::kMiss);
}

TEST_F(FibTest, DeletingAnAbsentRouteFailsAndNamesIt) {
  std::string error;
  EXPECT_FALSE(fib_.Delete(P("10.244.9.0/24"), &error));
  EXPECT_NE(error.find("10.244.9.0/24"), std::string::npos) << error;
}

TEST_F(FibTest, SlotsOutsideOneToTwoPow24MinusOneAreRejected) {
  std::string error;
  EXPECT_FALSE(fib_.Add(P("10.244.2.0/24"), 0, &error));
  EXPECT_FALSE(fib_.Add(P("10.244.2.0/24"), Fib::kMaxSlot + 1, &error));
  EXPECT_TRUE(fib_.Add(P("10.244.2.0/24"), Fib::kMaxSlot, &error)) << error;
  EXPECT_EQ(At("10.244.2.1"), Fib::kMaxSlot);
}

TEST_F(FibTest, FitsCountsRoutesAndTbl8GroupsForLongPrefixes) {
  std::string why;
  std::vector<Ip4Prefix> routes;
  for (int i = 0; i < 256; ++i)
    routes.push_back(P(("10.1." + std::to_string(i) + ".0/24").c_str()));
  EXPECT_TRUE(fib_.Fits(routes, &why)) << why;
  routes.push_back(P("10.2.0.0/24"));
  EXPECT_FALSE(fib_.Fits(routes, &why));
  EXPECT_NE(why.find("257"), std::string::npos) << why;

  // Eight /24s may hold longer prefixes (8 tbl8 groups); two /26s in one /24 share a group.
  std::vector<Ip4Prefix> deep;
  for (int i = 0; i < 8; ++i) {
    deep.push_back(P(("10.3." + std::to_string(i) + ".0/26").c_str()));
    deep.push_back(P(("10.3." + std::to_string(i) + ".64/26").c_str()));
  }
  EXPECT_TRUE(fib_.Fits(deep, &why)) << why;
  deep.push_back(P("10.3.8.0/25"));
  EXPECT_FALSE(fib_.Fits(deep, &why));
}

TEST_F(FibTest, WhatFitsCanAllBeAdded) {
  std::string error;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(fib_.Add(P(("10.3." + std::to_string(i) + ".0/26").c_str()), 1, &error)) << error;
  }
  for (int i = 0; i < 248; ++i) {
    ASSERT_TRUE(fib_.Add(P(("10.4." + std::to_string(i) + ".0/24").c_str()), 2, &error)) << error;
  }
}

// Node X's routes are probed continuously by a reader that reports RCU quiescent states, as a
// worker does, while node Y's routes churn. X and Y share /24s (tbl8 groups) on purpose.
TEST(FibConcurrency, ChangingOneNodesRoutesNeverDisturbsAnothersWhileAReaderRuns) {
  testing::Eal();
  Rcu rcu(1);
  Fib fib;
  std::string error;
  ASSERT_TRUE(fib.Init(Fib::Limits{.max_routes = 1024, .tbl8_groups = 64}, rcu.qsbr(), &error))
      << error;
  constexpr uint32_t kX = 1, kY = 2, kY2 = 3;
  const std::vector<Ip4Prefix> x_routes = {P("10.244.1.0/24"), P("10.244.5.0/25"),
                                           P("10.244.6.0/26"), P("10.250.0.0/16")};
  const std::vector<Ip4Prefix> y_routes = {P("10.244.2.0/24"),  P("10.244.5.128/25"),
                                           P("10.244.6.64/26"), P("10.244.6.128/25"),
                                           P("10.251.0.0/16"),  P("10.244.7.0/28")};
  for (const Ip4Prefix& p : x_routes) ASSERT_TRUE(fib.Add(p, kX, &error)) << error;

  // Probes: addresses inside X's routes (must always say X), inside Y's (X never, and nothing but
  // a miss or one of Y's slots).
  std::vector<uint32_t> x_probe, y_probe;
  for (const Ip4Prefix& p : x_routes) {
    for (uint32_t off : {0u, 1u, 17u, 63u})
      x_probe.push_back(Ip4::FromHost(p.addr.host() + off).be);
  }
  for (const Ip4Prefix& p : y_routes) {
    for (uint32_t off : {0u, 3u, 9u, 15u}) y_probe.push_back(Ip4::FromHost(p.addr.host() + off).be);
  }
  ASSERT_LE(x_probe.size(), 64u);
  ASSERT_LE(y_probe.size(), 64u);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> x_wrong{0}, y_wrong{0}, rounds{0};
  std::thread reader([&] {
    rcu.Register(0);
    rcu.Online(0);
    uint32_t slot[64];
    while (!stop.load(std::memory_order_relaxed)) {
      fib.LookupBulk(x_probe.data(), static_cast<uint16_t>(x_probe.size()), slot);
      for (size_t i = 0; i < x_probe.size(); ++i) x_wrong += slot[i] != kX;
      fib.LookupBulk(y_probe.data(), static_cast<uint16_t>(y_probe.size()), slot);
      for (size_t i = 0; i < y_probe.size(); ++i) {
        y_wrong += slot[i] != Fib::kMiss && slot[i] != kY && slot[i] != kY2;
      }
      rounds.fetch_add(1, std::memory_order_relaxed);
      rcu.Quiescent(0);
    }
    rcu.Offline(0);
    rcu.Unregister(0);
  });

  while (rounds.load() == 0) std::this_thread::yield();
  // Churn for at least 300 rounds and until the reader has looked 20,000 times meanwhile (bounded
  // by 10 s on a busy machine).
  const uint64_t start = rounds.load();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int churn = 0;
  while (churn < 300 ||
         (rounds.load() - start < 20000 && std::chrono::steady_clock::now() < deadline)) {
    for (const Ip4Prefix& p : y_routes) ASSERT_TRUE(fib.Add(p, kY, &error)) << error;
    for (const Ip4Prefix& p : y_routes) ASSERT_TRUE(fib.Add(p, kY2, &error)) << error;  // re-point
    for (const Ip4Prefix& p : y_routes) ASSERT_TRUE(fib.Delete(p, &error)) << error;
    ++churn;
  }
  const uint64_t overlapped = rounds.load() - start;
  // Let the reader see the final state a few times.
  const uint64_t seen = rounds.load();
  while (rounds.load() < seen + 10) std::this_thread::yield();
  stop = true;
  reader.join();

  EXPECT_GE(overlapped, 1000u) << "the reader hardly ran while the routes changed";
  RecordProperty("churn_rounds", churn);
  RecordProperty("reader_rounds_during_churn", static_cast<int>(overlapped));
  EXPECT_EQ(x_wrong.load(), 0u) << "a lookup for node X's pods saw something else";
  EXPECT_EQ(y_wrong.load(), 0u) << "a lookup for node Y's pods saw another node";
  for (uint32_t ip : x_probe) EXPECT_EQ(fib.Lookup(ip), kX);
  for (uint32_t ip : y_probe) EXPECT_EQ(fib.Lookup(ip), Fib::kMiss);
}

}  // namespace
}  // namespace nodeplane::dp
