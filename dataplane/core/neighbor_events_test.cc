// Unit tests of the worker → control neighbour event ring: order, bounds (a full ring refuses
// without blocking), drain in batches, and several producers at once.
#include "dataplane/core/neighbor_events.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

NeighborEvent Ev(uint32_t ip, uint8_t last) {
  NeighborEvent e;
  e.ip = ip;
  e.mac = {0x02, 0, 0, 0, 0, last};
  return e;
}

std::unique_ptr<NeighborEvents> Make(const char* name, unsigned capacity) {
  testing::Eal();
  std::string error;
  auto ring = NeighborEvents::Create(name, capacity, SOCKET_ID_ANY, &error);
  EXPECT_NE(ring, nullptr) << error;
  return ring;
}

TEST(NeighborEvents, DeliversInOrder) {
  auto ring = Make("ne_order", 8);
  ASSERT_NE(ring, nullptr);
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(ring->Offer(Ev(i, static_cast<uint8_t>(i))));
  NeighborEvent out[8];
  ASSERT_EQ(ring->Drain(out, 8), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].ip, i + 1);
    EXPECT_EQ(out[i].mac[5], i + 1);
  }
  EXPECT_EQ(ring->Drain(out, 8), 0u);
}

TEST(NeighborEvents, FullRingRefusesWithoutBlocking) {
  auto ring = Make("ne_full", 4);
  ASSERT_NE(ring, nullptr);
  const unsigned cap = ring->capacity();
  EXPECT_GE(cap, 4u);
  for (unsigned i = 0; i < cap; ++i) ASSERT_TRUE(ring->Offer(Ev(i, 1)));
  EXPECT_FALSE(ring->Offer(Ev(99, 1)));
  NeighborEvent out[2];
  EXPECT_EQ(ring->Drain(out, 2), 2u) << "drains at most what is asked";
  EXPECT_TRUE(ring->Offer(Ev(100, 1))) << "room again after draining";
}

TEST(NeighborEvents, NameClashIsAnError) {
  auto ring = Make("ne_clash", 4);
  ASSERT_NE(ring, nullptr);
  std::string error;
  EXPECT_EQ(NeighborEvents::Create("ne_clash", 4, SOCKET_ID_ANY, &error), nullptr);
  EXPECT_NE(error.find("ne_clash"), std::string::npos);
}

TEST(NeighborEvents, ManyProducersLoseNothingThatWasAccepted) {
  auto ring = Make("ne_mp", 4096);
  ASSERT_NE(ring, nullptr);
  constexpr uint32_t kPerThread = 1000;
  std::vector<std::thread> threads;
  std::atomic<uint32_t> accepted{0};
  for (uint32_t t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t i = 0; i < kPerThread; ++i) {
        if (ring->Offer(Ev(t * kPerThread + i, static_cast<uint8_t>(t)))) accepted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint32_t> seen;
  NeighborEvent out[64];
  unsigned n = 0;
  while ((n = ring->Drain(out, 64)) > 0) {
    for (unsigned i = 0; i < n; ++i) seen.insert(out[i].ip);
  }
  EXPECT_EQ(accepted.load(), 3 * kPerThread);
  EXPECT_EQ(seen.size(), 3 * kPerThread);
}

}  // namespace
}  // namespace nodeplane::dp
