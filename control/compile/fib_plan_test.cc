// Unit tests of the remote-node planning: slots stay with their node and are not reused within the
// change that frees them; the Fib plan never lets a worker see a slot its snapshot lacks (routes to
// arriving nodes after the publication, routes to leaving nodes removed and a grace period before
// it) and leaves every unchanged route alone.
#include "control/compile/fib_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nodeplane::ctl {
namespace {

Ip4Prefix P(const char* s) { return *Ip4Prefix::Parse(s); }

std::map<std::string, RemoteNodeModel> Nodes(const std::vector<std::string>& names) {
  std::map<std::string, RemoteNodeModel> out;
  for (const std::string& n : names) out[n] = RemoteNodeModel{.name = n};
  return out;
}

using Op = FibStep::Op;
FibStep Set(const char* p, uint32_t slot) { return {Op::kSet, P(p), slot}; }
FibStep Del(const char* p) { return {Op::kDelete, P(p), 0}; }

TEST(AssignSlots, NewNodesGetTheLowestFreeSlotsFromOne) {
  const auto slots = AssignSlots({}, Nodes({"b", "a", "c"}), 100);
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(*slots, (RemoteSlots{{"a", 1}, {"b", 2}, {"c", 3}}));
}

TEST(AssignSlots, ExistingNodesKeepTheirSlots) {
  const auto slots = AssignSlots({{"b", 7}, {"x", 1}}, Nodes({"a", "b"}), 100);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(slots->at("b"), 7u);
  EXPECT_EQ(slots->at("a"), 2u) << "slot 1 is still published for x, which leaves in this change";
}

TEST(AssignSlots, FreedSlotsAreReusedInALaterChange) {
  const auto first = AssignSlots({{"x", 1}}, Nodes({"a"}), 100);
  ASSERT_TRUE(first.ok());
  const auto second = AssignSlots(*first, Nodes({"a", "b"}), 100);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->at("b"), 1u);
}

TEST(AssignSlots, RunningOutIsResourceExhausted) {
  const auto slots = AssignSlots({{"a", 1}, {"b", 2}}, Nodes({"a", "b", "c"}), 2);
  EXPECT_EQ(slots.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(WantedRoutes, EveryCidrPointsAtItsNodesSlot) {
  auto nodes = Nodes({"a", "b"});
  nodes["a"].pod_cidrs = {P("10.244.2.0/24"), P("10.250.0.0/16")};
  nodes["b"].pod_cidrs = {P("10.244.3.0/24")};
  EXPECT_EQ(WantedRoutes(nodes, {{"a", 4}, {"b", 9}}),
            (FibRoutes{{P("10.244.2.0/24"), 4}, {P("10.250.0.0/16"), 4}, {P("10.244.3.0/24"), 9}}));
}

TEST(WantedRoutes, EveryNodesOwnAddressPointsAtItsSlotToo) {
  auto nodes = Nodes({"a", "b"});
  nodes["a"].underlay = *Ip4::Parse("192.168.1.20");
  nodes["a"].pod_cidrs = {P("10.244.2.0/24")};
  nodes["b"].underlay = *Ip4::Parse("192.168.1.30");
  EXPECT_EQ(WantedRoutes(nodes, {{"a", 4}, {"b", 9}}),
            (FibRoutes{{P("10.244.2.0/24"), 4}, {P("192.168.1.20/32"), 4},
                       {P("192.168.1.30/32"), 9}}));
}

TEST(PlanFibUpdate, NothingChangedPlansNothing) {
  const FibRoutes routes{{P("10.244.2.0/24"), 1}};
  const FibPlan plan = PlanFibUpdate(routes, routes, {{"a", 1}}, {{"a", 1}});
  EXPECT_TRUE(plan.empty());
  EXPECT_FALSE(plan.grace_before_publish);
}

TEST(PlanFibUpdate, ANewNodesRoutesComeAfterThePublication) {
  const FibPlan plan =
      PlanFibUpdate({{P("10.244.2.0/24"), 1}}, {{P("10.244.2.0/24"), 1}, {P("10.244.3.0/24"), 2}},
                    {{"a", 1}}, {{"a", 1}, {"b", 2}});
  EXPECT_TRUE(plan.before_publish.empty());
  EXPECT_EQ(plan.after_publish, std::vector<FibStep>{Set("10.244.3.0/24", 2)});
  EXPECT_FALSE(plan.grace_before_publish);
}

TEST(PlanFibUpdate, ALeavingNodesRoutesGoBeforeWithAGracePeriod) {
  const FibPlan plan = PlanFibUpdate({{P("10.244.2.0/24"), 1}, {P("10.244.3.0/24"), 2}},
                                     {{P("10.244.2.0/24"), 1}}, {{"a", 1}, {"b", 2}}, {{"a", 1}});
  EXPECT_EQ(plan.before_publish, std::vector<FibStep>{Del("10.244.3.0/24")});
  EXPECT_TRUE(plan.after_publish.empty());
  EXPECT_TRUE(plan.grace_before_publish);
}

TEST(PlanFibUpdate, ANodesNewCidrIsAddedAndItsOldOneRemoved) {
  const FibPlan plan =
      PlanFibUpdate({{P("10.244.2.0/24"), 1}}, {{P("10.244.4.0/24"), 1}}, {{"a", 1}}, {{"a", 1}});
  EXPECT_EQ(plan.before_publish, std::vector<FibStep>{Del("10.244.2.0/24")});
  EXPECT_EQ(plan.after_publish, std::vector<FibStep>{Set("10.244.4.0/24", 1)});
  EXPECT_FALSE(plan.grace_before_publish) << "no node leaves";
}

TEST(PlanFibUpdate, ACidrMovingBetweenTwoStayingNodesIsRepointedInOneStep) {
  const FibPlan plan = PlanFibUpdate({{P("10.244.2.0/24"), 1}}, {{P("10.244.2.0/24"), 2}},
                                     {{"a", 1}, {"b", 2}}, {{"a", 1}, {"b", 2}});
  EXPECT_EQ(plan.before_publish, std::vector<FibStep>{Set("10.244.2.0/24", 2)});
  EXPECT_TRUE(plan.after_publish.empty());
}

TEST(PlanFibUpdate, ACidrMovingToAnArrivingNodeWaitsForThePublication) {
  // a stays: its route stays valid until re-pointed after b is published.
  const FibPlan plan = PlanFibUpdate({{P("10.244.2.0/24"), 1}}, {{P("10.244.2.0/24"), 2}},
                                     {{"a", 1}}, {{"a", 1}, {"b", 2}});
  EXPECT_TRUE(plan.before_publish.empty());
  EXPECT_EQ(plan.after_publish, std::vector<FibStep>{Set("10.244.2.0/24", 2)});
}

TEST(PlanFibUpdate, ACidrMovingFromALeavingToAnArrivingNodeIsRemovedThenAdded) {
  const FibPlan plan =
      PlanFibUpdate({{P("10.244.2.0/24"), 1}}, {{P("10.244.2.0/24"), 2}}, {{"a", 1}}, {{"b", 2}});
  EXPECT_EQ(plan.before_publish, std::vector<FibStep>{Del("10.244.2.0/24")});
  EXPECT_TRUE(plan.grace_before_publish);
  EXPECT_EQ(plan.after_publish, std::vector<FibStep>{Set("10.244.2.0/24", 2)});
}

TEST(PlanFibUpdate, OtherNodesRoutesAreNeverInThePlan) {
  FibRoutes installed, wanted;
  RemoteSlots before, after;
  for (uint32_t i = 1; i <= 50; ++i) {
    const Ip4Prefix p{Ip4::FromHost((10u << 24) | (i << 8)), 24};
    installed[p] = i;
    wanted[p] = i;
    before["n" + std::to_string(i)] = i;
    after["n" + std::to_string(i)] = i;
  }
  // Node 7 changes its CIDR; node 8 leaves; node 51 arrives.
  wanted.erase(Ip4Prefix{Ip4::FromHost((10u << 24) | (7u << 8)), 24});
  wanted[P("10.200.7.0/24")] = 7;
  wanted.erase(Ip4Prefix{Ip4::FromHost((10u << 24) | (8u << 8)), 24});
  after.erase("n8");
  wanted[P("10.200.51.0/24")] = 51;
  after["n51"] = 51;
  const FibPlan plan = PlanFibUpdate(installed, wanted, before, after);
  for (const auto* steps : {&plan.before_publish, &plan.after_publish}) {
    for (const FibStep& s : *steps) {
      const uint32_t third = (s.prefix.addr.host() >> 8) & 0xff;
      EXPECT_TRUE(third == 7 || third == 8 || third == 51) << s.prefix.ToString();
    }
  }
  EXPECT_EQ(plan.before_publish.size() + plan.after_publish.size(), 4u);
}

}  // namespace
}  // namespace nodeplane::ctl
