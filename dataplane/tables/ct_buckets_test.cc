// CtBuckets' extension reserve: a chain takes an extension bucket when both of a key's buckets are
// full, and gives it back once it is empty (RetireEmpty, then Recycle after a grace period), so
// another chain can have it. Without that, a table kept busy for long runs out of extension
// buckets while it has free records, and refuses connections it could hold.
#include "dataplane/tables/ct_buckets.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace nodeplane::dp {
namespace {

// Two main buckets and one extension bucket, with the reserve as a plain list.
struct TinyTable {
  TinyTable() { buckets.Attach(lines.data(), 2, 1); }
  bool Insert(uint32_t bucket, uint32_t record) {
    return buckets.Insert(Place(bucket), CtBuckets::SlotValue(1, record, false), [this] {
      if (reserve.empty()) return uint32_t{0};
      const uint32_t x = reserve.back();
      reserve.pop_back();
      return x;
    });
  }
  bool Remove(uint32_t bucket, uint32_t record) {
    return buckets.Remove(Place(bucket), CtBuckets::SlotValue(1, record, false));
  }
  bool Has(uint32_t bucket, uint32_t record) const {
    const uint64_t want = CtBuckets::SlotValue(1, record, false);
    return buckets.Find(Place(bucket), [&](uint64_t v) { return v == want; }) != 0;
  }
  // Retire, a grace period (nothing else runs here), give back.
  size_t Retire() {
    std::vector<uint32_t> retired;
    buckets.RetireEmpty(0, 2, retired);
    buckets.Recycle(retired);
    reserve.insert(reserve.end(), retired.begin(), retired.end());
    return retired.size();
  }
  static CtPlace Place(uint32_t bucket) { return CtPlace{bucket, bucket, 1}; }

  std::vector<CtBucket> lines = std::vector<CtBucket>(3);
  CtBuckets buckets;
  std::vector<uint32_t> reserve{2};
};

TEST(CtBucketsExtension, AnEmptiedExtensionBucketServesAnotherChain) {
  TinyTable t;
  for (uint32_t r = 0; r < CtBucket::kSlots; ++r) ASSERT_TRUE(t.Insert(0, r));
  ASSERT_TRUE(t.Insert(0, 100)) << "bucket 0 full: the key goes to the extension bucket";
  EXPECT_TRUE(t.Has(0, 100));
  for (uint32_t r = 0; r < CtBucket::kSlots; ++r) ASSERT_TRUE(t.Insert(1, 10 + r));
  EXPECT_FALSE(t.Insert(1, 200)) << "the only extension bucket is chain 0's";

  ASSERT_TRUE(t.Remove(0, 100));
  EXPECT_EQ(t.Retire(), 1u) << "chain 0's extension bucket is empty again";
  ASSERT_TRUE(t.Insert(1, 200)) << "chain 1 gets it now";
  EXPECT_TRUE(t.Has(1, 200));
  for (uint32_t r = 0; r < CtBucket::kSlots; ++r) {
    EXPECT_TRUE(t.Has(0, r));
    EXPECT_TRUE(t.Has(1, 10 + r));
  }
  EXPECT_FALSE(t.Has(0, 100));
}

TEST(CtBucketsExtension, ABucketHoldingAKeyStaysLinkedAndUntouched) {
  TinyTable t;
  for (uint32_t r = 0; r < CtBucket::kSlots + 2; ++r) ASSERT_TRUE(t.Insert(0, r));
  ASSERT_TRUE(t.Remove(0, CtBucket::kSlots));  // one of the two keys in the extension bucket
  EXPECT_EQ(t.Retire(), 0u);
  EXPECT_TRUE(t.Has(0, CtBucket::kSlots + 1));
  // Its free slots were not left as tombstones: a new key still fits there.
  ASSERT_TRUE(t.Insert(0, 300));
  EXPECT_TRUE(t.Has(0, 300));
  EXPECT_TRUE(t.reserve.empty());
}

TEST(CtBucketsExtension, ARetiredBucketIsNoLongerReadNorTaken) {
  TinyTable t;
  for (uint32_t r = 0; r < CtBucket::kSlots + 1; ++r) ASSERT_TRUE(t.Insert(0, r));
  ASSERT_TRUE(t.Remove(0, CtBucket::kSlots));
  std::vector<uint32_t> retired;
  t.buckets.RetireEmpty(0, 2, retired);
  ASSERT_EQ(retired.size(), 1u);
  // Before the grace period: a worker that still walks into it finds tombstones, never a key,
  // and cannot claim them, so a new key needs a bucket from the reserve (which is empty).
  EXPECT_FALSE(t.Insert(0, 400));
  EXPECT_EQ(t.buckets.bucket(retired[0]).slot[0].load(), CtBuckets::kTombstone);
  EXPECT_EQ(t.buckets.bucket(0).next.load(), 0u) << "unlinked from chain 0";
}

// A worker keeps filling chains past their main bucket (taking and linking extension buckets)
// and emptying them again, while control retires and recycles the emptied ones: nothing the
// worker added goes missing (the head link is the one both sides change), and the reserve keeps
// coming back. Eight chains, so that control finds each one idle most of the time.
TEST(CtBucketsExtension, RetiringWhileAWorkerLinksLosesNoKey) {
  constexpr uint32_t kChains = 8;
  constexpr uint32_t kReserve = 64;
  std::vector<CtBucket> lines(kChains + kReserve);
  CtBuckets buckets;
  buckets.Attach(lines.data(), kChains, kReserve);
  std::atomic<uint32_t> next_free{kChains};
  std::vector<std::atomic<uint32_t>> given(kReserve);
  auto take = [&] {
    // The reserve: buckets never taken yet, then recycled ones.
    for (auto& g : given) {
      uint32_t x = g.exchange(0);
      if (x != 0) return x;
    }
    const uint32_t x = next_free.fetch_add(1);
    return x < kChains + kReserve ? x : 0;
  };
  auto place = [](uint32_t chain) { return CtPlace{chain, chain, 1}; };
  // Every main bucket full, so every key the worker adds goes to an extension bucket.
  for (uint32_t c = 0; c < kChains; ++c) {
    for (uint32_t r = 0; r < CtBucket::kSlots; ++r) {
      ASSERT_TRUE(
          buckets.Insert(place(c), CtBuckets::SlotValue(1, 1000000 + c * 8 + r, false), take));
    }
  }
  constexpr size_t kRecycles = 5000;
  constexpr uint32_t kBatch = CtBucket::kSlots + 1;  // one extension bucket and part of another
  // Control's part ends the run once it has recycled kRecycles buckets (or, on a machine too
  // busy to let it, after a minute); the worker's part ends when control's does, or at a loss.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  std::atomic<bool> done{false};
  std::atomic<bool> worker_stopped{false};
  std::atomic<int> lost{0};
  std::atomic<uint64_t> quiescent{0};  // the worker's rounds: a grace period is two more
  std::thread worker([&] {
    for (uint32_t round = 0; !done.load() && lost.load() == 0; ++round) {
      const CtPlace p = place(round % kChains);
      uint64_t added[kBatch];
      uint32_t n = 0;
      for (uint32_t i = 0; i < kBatch; ++i) {
        const uint64_t v = CtBuckets::SlotValue(1, round * kBatch + i, false);
        if (buckets.Insert(p, v, take)) added[n++] = v;
      }
      for (uint32_t i = 0; i < n; ++i) {
        const uint64_t v = added[i];
        if (buckets.Find(p, [&](uint64_t s) { return s == v; }) == 0) lost.fetch_add(1);
      }
      // Removal is control's in the table; here the worker undoes its own.
      for (uint32_t i = 0; i < n; ++i) buckets.Remove(p, added[i]);
      quiescent.fetch_add(1, std::memory_order_release);
    }
    worker_stopped = true;
  });
  size_t recycled = 0;
  while (recycled < kRecycles && !worker_stopped.load() &&
         std::chrono::steady_clock::now() < deadline) {
    std::vector<uint32_t> retired;
    buckets.RetireEmpty(0, kChains, retired);
    if (retired.empty()) continue;
    const uint64_t q = quiescent.load(std::memory_order_acquire);
    while (!worker_stopped.load() && quiescent.load(std::memory_order_acquire) < q + 2) {
    }
    buckets.Recycle(retired);
    for (const uint32_t x : retired) {
      for (auto& g : given) {
        uint32_t empty = 0;
        if (g.compare_exchange_strong(empty, x)) break;
      }
    }
    recycled += retired.size();
  }
  done = true;
  worker.join();
  EXPECT_EQ(lost.load(), 0);
  EXPECT_GE(recycled, kRecycles) << "the worker kept taking extension buckets that came back";
}

}  // namespace
}  // namespace nodeplane::dp
