// ServiceTable: keys hit their own entries in one bulk lookup, a change replaces one key's entry
// without disturbing the others, and replaced or deleted entries stay readable until Reclaim(),
// which waits for a grace period only when none has passed since StartGrace().
#include "dataplane/tables/service_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <chrono>
#include <future>
#include <vector>

#include "dataplane/core/rcu.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

ServiceTableKey Key(uint32_t ip_host, uint16_t port, uint8_t proto = IPPROTO_TCP) {
  return ServiceTableKey{__builtin_bswap32(ip_host), __builtin_bswap16(port), proto, 0};
}

ServiceEntrySpec Spec(uint32_t id, uint32_t backend_host) {
  ServiceEntrySpec s;
  s.service_id = id;
  s.has_any_endpoint = true;
  s.backends = {{__builtin_bswap32(backend_host), __builtin_bswap16(8080), false, 1}};
  s.cluster_table = std::vector<uint16_t>(211, 0);
  return s;
}

class ServiceTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Eal();
    std::string error;
    ASSERT_TRUE(table_.Init(1024, nullptr, &error)) << error;
  }
  ServiceTable table_;
};

TEST_F(ServiceTableTest, BulkLookupGivesEachKeyItsEntry) {
  std::string error;
  for (uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(table_.Set(Key(0x0a600000 + i, 80), Spec(i, 0x0af40000 + i), &error)) << error;
  }
  ASSERT_TRUE(table_.Set(Key(0x0a600000, 80, IPPROTO_UDP), Spec(500, 1), &error));
  EXPECT_EQ(table_.size(), 101u);
  ServiceTableKey keys[64];
  for (uint32_t i = 0; i < 64; ++i) keys[i] = Key(0x0a600000 + i, i % 2 ? 81 : 80);
  const ServiceEntry* got[64];
  table_.LookupBulk(keys, 64, got);
  for (uint32_t i = 0; i < 64; ++i) {
    if (i % 2) {
      EXPECT_EQ(got[i], nullptr) << "port 81 is no Service";
    } else {
      ASSERT_NE(got[i], nullptr);
      EXPECT_EQ(got[i]->service_id, i);
      EXPECT_EQ(got[i]->backends[0].ip_be, __builtin_bswap32(0x0af40000 + i));
      EXPECT_EQ(got[i]->backends[0].in_cluster, 1);
    }
  }
  EXPECT_EQ(table_.Lookup(Key(0x0a600000, 80, IPPROTO_UDP))->service_id, 500u)
      << "the protocol is part of the key";
  EXPECT_EQ(table_.Lookup(Key(0x0a600000, 80, IPPROTO_SCTP)), nullptr);
}

TEST_F(ServiceTableTest, ReplacingOneKeyLeavesTheOthersAndKeepsTheOldEntryUntilReclaim) {
  std::string error;
  ASSERT_TRUE(table_.Set(Key(0x0a600001, 80), Spec(1, 0x0af40001), &error));
  ASSERT_TRUE(table_.Set(Key(0x0a600002, 80), Spec(2, 0x0af40002), &error));
  const ServiceEntry* old1 = table_.Lookup(Key(0x0a600001, 80));
  const ServiceEntry* two = table_.Lookup(Key(0x0a600002, 80));
  ASSERT_TRUE(table_.Set(Key(0x0a600001, 80), Spec(1, 0x0af40009), &error));
  const ServiceEntry* new1 = table_.Lookup(Key(0x0a600001, 80));
  EXPECT_NE(new1, old1);
  EXPECT_EQ(new1->backends[0].ip_be, __builtin_bswap32(0x0af40009));
  // A worker still holding the old entry reads it intact until the grace period is over.
  EXPECT_EQ(old1->backends[0].ip_be, __builtin_bswap32(0x0af40001));
  EXPECT_EQ(table_.Lookup(Key(0x0a600002, 80)), two) << "another Service's entry is untouched";
  table_.Delete(Key(0x0a600002, 80));
  EXPECT_EQ(table_.Lookup(Key(0x0a600002, 80)), nullptr);
  EXPECT_EQ(two->service_id, 2u) << "deleted, not yet freed";
  EXPECT_EQ(table_.size(), 1u);
  table_.Reclaim();
  table_.Delete(Key(0x0a600002, 80));  // unknown now: a no-op
  EXPECT_EQ(table_.size(), 1u);
}

TEST_F(ServiceTableTest, FullTableRefusesNewKeysButStillReplaces) {
  ServiceTable small;
  std::string error;
  ASSERT_TRUE(small.Init(64, nullptr, &error));
  for (uint32_t i = 0; i < small.capacity(); ++i) {
    ASSERT_TRUE(small.Set(Key(0x0a000000 + i, 80), Spec(i, 1), &error)) << i << ": " << error;
  }
  EXPECT_FALSE(small.Fits(small.capacity() + 1));
  EXPECT_FALSE(small.Set(Key(0x0b000000, 80), Spec(999, 1), &error));
  EXPECT_TRUE(small.Set(Key(0x0a000000, 80), Spec(7, 2), &error)) << error;
  EXPECT_EQ(small.Lookup(Key(0x0a000000, 80))->service_id, 7u);
}

TEST(ServiceTableGraceTest, AGracePeriodPassedSinceStartGraceFreesWithoutAnotherWait) {
  testing::Eal();
  Rcu rcu(1);
  rcu.Register(0);  // this thread is the one reader
  rcu.Online(0);
  ServiceTable table;
  std::string error;
  ASSERT_TRUE(table.Init(64, rcu.qsbr(), &error)) << error;
  const ServiceTableKey k = Key(0x0a600001, 80);
  ASSERT_TRUE(table.Set(k, Spec(1, 0x0af40001), &error));
  ASSERT_TRUE(table.Set(k, Spec(1, 0x0af40002), &error));  // the first entry is retired
  table.StartGrace();
  rcu.Quiescent(0);  // the reader has moved on (as a snapshot publication's grace period shows)
  auto done = std::async(std::launch::async, [&] { table.Reclaim(); });
  const bool prompt = done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!prompt) rcu.Offline(0);  // let a Reclaim that waits for a new grace period return
  done.get();
  EXPECT_TRUE(prompt) << "Reclaim waited for a reader that had already passed the grace period";

  // An entry replaced after StartGrace is not covered by it: Reclaim waits for the reader again.
  rcu.Online(0);
  ASSERT_TRUE(table.Set(k, Spec(1, 0x0af40003), &error));
  table.StartGrace();
  rcu.Quiescent(0);
  ASSERT_TRUE(table.Set(k, Spec(1, 0x0af40004), &error));  // retired after the grace started
  auto waiting = std::async(std::launch::async, [&] { table.Reclaim(); });
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "freed an entry the reader may still hold";
  // Keep reporting as a worker loop does until it returns.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waiting.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < give_up) {
    rcu.Quiescent(0);
  }
  const bool returned = waiting.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  rcu.Offline(0);
  waiting.get();
  EXPECT_TRUE(returned) << "Reclaim did not return once the reader passed a quiescent point";
  EXPECT_EQ(table.Lookup(k)->backends[0].ip_be, __builtin_bswap32(0x0af40004));
  rcu.Unregister(0);
}

}  // namespace
}  // namespace nodeplane::dp
