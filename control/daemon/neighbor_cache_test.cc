// Unit tests of the NeighborCache: learned and static entries, what a change reports (so the
// applier knows when to republish), the bound on learned entries, and the ageing seam.
#include "control/daemon/neighbor_cache.h"

#include <gtest/gtest.h>

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
Mac M(const char* s) { return *Mac::Parse(s); }
using Clock = NeighborCache::Clock;
using Change = NeighborCache::Change;

TEST(NeighborCache, LearningReportsNewChangedAndRefreshed) {
  NeighborCache c;
  const auto t0 = Clock::now();
  EXPECT_EQ(c.Learn(A("192.168.1.20"), M("02:00:00:00:00:20"), t0), Change::kNew);
  EXPECT_EQ(c.Learn(A("192.168.1.20"), M("02:00:00:00:00:20"), t0), Change::kRefreshed);
  EXPECT_EQ(c.Learn(A("192.168.1.20"), M("02:00:00:00:00:21"), t0), Change::kMacChanged);
  ASSERT_TRUE(c.Lookup(A("192.168.1.20")).has_value());
  EXPECT_EQ(c.Lookup(A("192.168.1.20"))->mac, M("02:00:00:00:00:21"));
  EXPECT_FALSE(c.Lookup(A("192.168.1.21")).has_value());
}

TEST(NeighborCache, StaticEntriesWinOverLearningAndAreNeverForgotten) {
  NeighborCache c;
  c.AddStatic(A("192.168.1.20"), M("02:00:00:00:00:20"));
  EXPECT_EQ(c.Learn(A("192.168.1.20"), M("02:00:00:00:00:66"), Clock::now()), Change::kRefused);
  EXPECT_EQ(c.Learn(A("192.168.1.20"), M("02:00:00:00:00:20"), Clock::now()), Change::kNone);
  EXPECT_FALSE(c.Forget(A("192.168.1.20")));
  EXPECT_EQ(c.Lookup(A("192.168.1.20"))->mac, M("02:00:00:00:00:20"));
  EXPECT_TRUE(c.Lookup(A("192.168.1.20"))->is_static);
}

TEST(NeighborCache, ResolvedIsWhatTheCompilerReads) {
  NeighborCache c;
  c.AddStatic(A("192.168.1.20"), M("02:00:00:00:00:20"));
  c.Learn(A("192.168.1.30"), M("02:00:00:00:00:30"), Clock::now());
  EXPECT_EQ(c.Resolved(), (NeighborMap{{A("192.168.1.20"), M("02:00:00:00:00:20")},
                                       {A("192.168.1.30"), M("02:00:00:00:00:30")}}));
}

TEST(NeighborCache, LearnedEntriesAreBounded) {
  NeighborCache c(2);
  const auto t = Clock::now();
  EXPECT_EQ(c.Learn(A("10.0.0.1"), M("02:00:00:00:00:01"), t), Change::kNew);
  EXPECT_EQ(c.Learn(A("10.0.0.2"), M("02:00:00:00:00:02"), t), Change::kNew);
  EXPECT_EQ(c.Learn(A("10.0.0.3"), M("02:00:00:00:00:03"), t), Change::kRefused);
  c.AddStatic(A("10.0.0.4"), M("02:00:00:00:00:04"));  // configured: always accepted
  EXPECT_EQ(c.size(), 3u);
  EXPECT_TRUE(c.Forget(A("10.0.0.1")));
  EXPECT_EQ(c.Learn(A("10.0.0.3"), M("02:00:00:00:00:03"), t), Change::kNew);
}

TEST(NeighborCache, LearnedBeforeListsEntriesDueForAgeing) {
  NeighborCache c;
  const auto t0 = Clock::now();
  c.Learn(A("10.0.0.1"), M("02:00:00:00:00:01"), t0);
  c.Learn(A("10.0.0.2"), M("02:00:00:00:00:02"), t0 + std::chrono::seconds(60));
  c.AddStatic(A("10.0.0.3"), M("02:00:00:00:00:03"), t0);
  EXPECT_EQ(c.LearnedBefore(t0 + std::chrono::seconds(30)), std::vector<Ip4>{A("10.0.0.1")});
  c.Learn(A("10.0.0.1"), M("02:00:00:00:00:01"), t0 + std::chrono::seconds(90));  // refreshed
  EXPECT_TRUE(c.LearnedBefore(t0 + std::chrono::seconds(30)).empty());
}

}  // namespace
}  // namespace nodeplane::ctl
