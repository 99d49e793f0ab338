// Unit tests of RCU publication (Published<T> over Rcu) with a real worker thread: an old object is
// freed only after every online worker has left it, Publish returns only then, an offline
// (sleeping) worker holds nothing up, and a dp::Worker echoes each generation it runs. No sleeps:
// threads wait for each other's progress, never for time.
#include "dataplane/core/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

constexpr int kNone = -1;

// What the worker thread and the destructors share. Every object records its own destruction; a
// destructor that runs while the worker holds the object is a violation of the grace period.
struct Board {
  explicit Board(int n) : freed(n + 1) {
    for (auto& f : freed) f.store(false);
  }
  std::vector<std::atomic<bool>> freed;
  std::atomic<int> holding{kNone};  // the id the worker is using right now
  std::atomic<int> violations{0};   // frees of an object the worker was holding
  std::atomic<int> destroyed{0};
};

struct Tracked {
  Tracked(int id, Board& board) : id(id), board(board) {
    for (auto& v : payload) v = id;
  }
  ~Tracked() {
    if (board.holding.load(std::memory_order_seq_cst) == id) board.violations.fetch_add(1);
    board.freed[id].store(true, std::memory_order_seq_cst);
    board.destroyed.fetch_add(1);
  }
  const int id;
  Board& board;
  int payload[64];
};

// Spins until `done()`; fails the test (instead of hanging) after a generous deadline. The
// deadline is only for a broken implementation: a correct one never gets near it.
template <typename F>
bool SpinUntil(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class PublishedTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::Eal(); }
};

TEST_F(PublishedTest, PublishWaitsForTheWorkerHoldingTheOldObject) {
  Board board(2);
  Rcu rcu(1);
  Published<Tracked> published(rcu);
  published.Publish(std::make_unique<Tracked>(1, board));  // no worker registered yet

  std::atomic<bool> held{false}, release{false}, stop{false};
  std::thread worker([&] {
    rcu.Register(0);
    rcu.Online(0);
    const Tracked* t = published.Get();
    board.holding.store(t->id);
    held.store(true);
    while (!release.load()) std::this_thread::yield();
    if (board.freed[t->id].load()) board.violations.fetch_add(1);  // still ours: must be alive
    board.holding.store(kNone);
    rcu.Quiescent(0);
    while (!stop.load()) rcu.Quiescent(0);
    rcu.Offline(0);
    rcu.Unregister(0);
  });
  ASSERT_TRUE(SpinUntil([&] { return held.load(); }));

  std::atomic<bool> returned{false};
  std::thread control([&] {
    published.Publish(std::make_unique<Tracked>(2, board));
    returned.store(true);
  });
  // The swap is visible at once; the old object must survive until the worker lets go.
  ASSERT_TRUE(SpinUntil([&] { return published.Get()->id == 2; }));
  EXPECT_FALSE(returned.load()) << "Publish returned while a worker still held the old object";
  EXPECT_FALSE(board.freed[1].load()) << "the old object was freed while a worker held it";

  release.store(true);
  control.join();
  EXPECT_TRUE(returned.load());
  EXPECT_TRUE(board.freed[1].load()) << "Publish returns only after freeing the old object";
  EXPECT_FALSE(board.freed[2].load());
  stop.store(true);
  worker.join();
  EXPECT_EQ(board.violations.load(), 0);
}

TEST_F(PublishedTest, ManyGenerationsUnderAPollingWorkerNeverFreeWhatItHolds) {
  constexpr int kGenerations = 1000;
  Board board(kGenerations);
  Rcu rcu(1);
  auto published = std::make_unique<Published<Tracked>>(rcu);
  std::atomic<bool> stop{false}, online{false};
  std::atomic<int> seen_changes{0};
  std::thread worker([&] {
    rcu.Register(0);
    rcu.Online(0);
    online.store(true);
    int last = kNone;
    while (!stop.load(std::memory_order_relaxed)) {
      const Tracked* t = published->Get();
      if (t != nullptr) {
        board.holding.store(t->id, std::memory_order_seq_cst);
        // Use the object as a worker would, then check it was alive throughout.
        int sum = 0;
        for (int v : t->payload) sum += v;
        if (sum != 64 * t->id || board.freed[t->id].load(std::memory_order_seq_cst)) {
          board.violations.fetch_add(1);
        }
        if (t->id != last) seen_changes.fetch_add(1);
        last = t->id;
        board.holding.store(kNone, std::memory_order_seq_cst);
      }
      rcu.Quiescent(0);
    }
    rcu.Offline(0);
    rcu.Unregister(0);
  });
  ASSERT_TRUE(SpinUntil([&] { return online.load(); }));

  for (int g = 1; g <= kGenerations; ++g) {
    published->Publish(std::make_unique<Tracked>(g, board));
    // Publish frees synchronously: the previous generation is gone, the new one is alive.
    if (g > 1) {
      ASSERT_TRUE(board.freed[g - 1].load()) << "generation " << g - 1 << " not freed";
    }
    ASSERT_FALSE(board.freed[g].load());
  }
  stop.store(true);
  worker.join();
  EXPECT_EQ(board.violations.load(), 0);
  EXPECT_EQ(board.destroyed.load(), kGenerations - 1);
  EXPECT_GT(seen_changes.load(), 1) << "the worker never saw a new generation: test is vacuous";
  published.reset();
  EXPECT_EQ(board.destroyed.load(), kGenerations) << "the last one is freed with Published";
}

TEST_F(PublishedTest, OfflineWorkerDoesNotHoldUpPublish) {
  // A worker that sleeps goes offline first; Publish must not wait for it. (Same thread: if
  // Publish waited for the offline worker, this test would never finish.)
  Board board(3);
  Rcu rcu(2);
  Published<Tracked> published(rcu);
  rcu.Register(0);
  rcu.Register(1);
  rcu.Online(1);
  rcu.Offline(1);  // registered, offline: e.g. sleeping after idle polls
  published.Publish(std::make_unique<Tracked>(1, board));
  published.Publish(std::make_unique<Tracked>(2, board));
  EXPECT_TRUE(board.freed[1].load());
  rcu.Unregister(0);
  rcu.Unregister(1);
}

std::unique_ptr<Snapshot> EmptySnapshot(uint64_t generation) {
  SnapshotSpec spec;
  spec.generation = generation;
  std::string error;
  auto snap = BuildSnapshot(spec, &error);
  EXPECT_NE(snap, nullptr) << error;
  return snap;
}

TEST_F(PublishedTest, PollingWorkerRunsEachGenerationByItsNextPoll) {
  constexpr uint64_t kGenerations = 100;
  Rcu rcu(1);
  Published<Snapshot> published(rcu);
  published.Publish(EmptySnapshot(1));
  Worker worker(0, rcu, published, IdlePolicy{.max_sleep_us = 0});
  std::atomic<bool> stop{false};
  std::thread loop([&] { worker.Run(stop); });
  ASSERT_TRUE(SpinUntil([&] { return worker.generation() == 1; }));
  for (uint64_t g = 2; g <= kGenerations; ++g) {
    published.Publish(EmptySnapshot(g));
    // The grace period ended: the online worker reported quiescent after the swap, so it has
    // finished with generation g-1 and its next poll runs g. It never runs g-2 again.
    const uint64_t running = worker.generation();
    EXPECT_TRUE(running == g - 1 || running == g)
        << "generation " << g << ": worker at " << running;
  }
  EXPECT_TRUE(SpinUntil([&] { return worker.generation() == kGenerations; }));
  stop.store(true);
  loop.join();
}

TEST_F(PublishedTest, SleepingWorkerDoesNotHoldUpPublishAndCatchesUp) {
  // A worker that backs off when idle is RCU-offline while it sleeps: Publish does not wait for
  // it (so its echoed generation may lag), and it runs the newest generation once it wakes.
  constexpr uint64_t kGenerations = 100;
  Rcu rcu(1);
  Published<Snapshot> published(rcu);
  published.Publish(EmptySnapshot(1));
  Worker worker(0, rcu, published, IdlePolicy{.max_sleep_us = 200, .polls_before_sleep = 1});
  std::atomic<bool> stop{false};
  std::thread loop([&] { worker.Run(stop); });
  for (uint64_t g = 2; g <= kGenerations; ++g) {
    published.Publish(EmptySnapshot(g));
    ASSERT_TRUE(SpinUntil([&] { return worker.generation() == g; })) << "generation " << g;
  }
  stop.store(true);
  loop.join();
  EXPECT_GT(worker.counters().sleeps, 0u) << "the worker never slept: the test proves nothing";
}

}  // namespace
}  // namespace nodeplane::dp
