// Maglev: the properties svc_lb relies on, measured over many flow hashes (tolerance bands, not
// exact counts: the table is a hash).
#include "control/compile/maglev.h"

#include <gtest/gtest.h>

#include <random>

namespace nodeplane::ctl {
namespace {

std::vector<MaglevBackend> Backends(size_t n) {
  std::vector<MaglevBackend> out;
  for (size_t i = 0; i < n; ++i) {
    // 10.244.<i>.5:8080, as the stage keys them.
    const uint64_t ip = (10u << 24) | (244u << 16) | (static_cast<uint32_t>(i) << 8) | 5u;
    out.push_back({(ip << 16) | 8080, 1});
  }
  return out;
}

TEST(Maglev, TableSizeIsAPrimeThatGrowsWithTheBackends) {
  EXPECT_EQ(MaglevTableSize(1), 211u);
  EXPECT_EQ(MaglevTableSize(10), 1009u);
  const uint32_t big = MaglevTableSize(4096);
  EXPECT_GE(big, 409600u);
  for (uint32_t d = 2; d * d <= big; ++d) ASSERT_NE(big % d, 0u) << big << " is not prime";
}

TEST(Maglev, RemovingOneOfNBackendsRemapsAboutOneNthOfFlows) {
  for (size_t n : {5u, 10u, 50u}) {
    std::vector<MaglevBackend> all = Backends(n);
    const uint32_t m = MaglevTableSize(n);
    const std::vector<uint16_t> before = BuildMaglevTable(all, m);
    std::vector<MaglevBackend> fewer = all;
    const size_t removed = n / 2;
    fewer.erase(fewer.begin() + removed);
    const std::vector<uint16_t> after = BuildMaglevTable(fewer, m);
    std::mt19937 rng(42);
    const int flows = 200000;
    int moved = 0;
    for (int f = 0; f < flows; ++f) {
      const uint32_t slot = MaglevSlot(static_cast<uint32_t>(rng()), m);
      const uint64_t key_before = all[before[slot]].key;
      const uint64_t key_after = fewer[after[slot]].key;
      moved += key_before != key_after;
    }
    const double frac = static_cast<double>(moved) / flows;
    // Ideal: exactly the removed backend's flows. Maglev moves a few more (with M = 100·N
    // measured: 5 → 0.22, 10 → 0.125, 50 → 0.041), the price of its even spread.
    const double ideal = 1.0 / n;
    EXPECT_GE(frac, 0.8 * ideal) << n << " backends";
    EXPECT_LE(frac, 2.5 * ideal) << n << " backends: " << frac << " of flows moved";
  }
}

TEST(Maglev, SharesFollowWeights) {
  std::vector<MaglevBackend> b = Backends(4);
  for (size_t i = 0; i < 4; ++i) b[i].weight = static_cast<uint32_t>(i + 1);  // 1:2:3:4
  const uint32_t m = MaglevTableSize(40);
  const std::vector<uint16_t> table = BuildMaglevTable(b, m);
  ASSERT_EQ(table.size(), m);
  std::vector<int> count(4, 0);
  for (uint16_t i : table) count[i]++;
  for (size_t i = 0; i < 4; ++i) {
    const double want = m * (i + 1) / 10.0;
    EXPECT_NEAR(count[i], want, 0.05 * want) << "backend " << i;
  }
}

TEST(Maglev, EqualWeightsGiveEqualShares) {
  const std::vector<MaglevBackend> b = Backends(10);
  const std::vector<uint16_t> table = BuildMaglevTable(b, MaglevTableSize(10));
  std::vector<int> count(10, 0);
  for (uint16_t i : table) count[i]++;
  for (int c : count) EXPECT_NEAR(c, table.size() / 10.0, table.size() * 0.01 + 1);
}

TEST(Maglev, NoBackendsNoTable) {
  EXPECT_TRUE(BuildMaglevTable({}, 211).empty());
  EXPECT_TRUE(BuildMaglevTable({{1, 0}}, 211).empty());
}

}  // namespace
}  // namespace nodeplane::ctl
