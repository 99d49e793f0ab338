// Unit tests of the underlay resolver's timing (NeighborSchedule, on a fake clock: no sleeping) and
// of the ARP request it sends.
#include "control/daemon/neighbor_resolver.h"

#include <gtest/gtest.h>

#include <chrono>

namespace nodeplane::ctl {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = NeighborSchedule::Clock;

Ip4 A(const char* s) { return *Ip4::Parse(s); }

const Clock::time_point kT0{seconds(1000)};

// Runs the schedule every 100 ms from `from` for `span`, as the resolver thread does, with the same
// lists each time; returns the times (relative to `from`, in ms) at which `ip` was asked.
std::vector<int64_t> AskTimes(NeighborSchedule& s, Clock::time_point from, Clock::duration span,
                              const std::vector<Ip4>& unresolved, const std::vector<Ip4>& stale,
                              Ip4 ip, std::vector<int64_t>* forgot = nullptr) {
  std::vector<int64_t> out;
  for (Clock::duration t{}; t <= span; t += milliseconds(100)) {
    const auto a = s.Tick(from + t, unresolved, stale);
    const int64_t ms = std::chrono::duration_cast<milliseconds>(t).count();
    for (const Ip4& x : a.ask) if (x == ip) out.push_back(ms);
    if (forgot != nullptr) for (const Ip4& x : a.forget) if (x == ip) forgot->push_back(ms);
  }
  return out;
}

TEST(NeighborSchedule, UnresolvedIsAskedAtOnceThenBacksOff) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  const auto asked = AskTimes(s, kT0, seconds(70), {hop}, {}, hop);
  // 0, +1, +2, +4, +8, +16, then every 30 s.
  EXPECT_EQ(asked, (std::vector<int64_t>{0, 1000, 3000, 7000, 15000, 31000, 61000}));
}

TEST(NeighborSchedule, EachAddressHasItsOwnRate) {
  NeighborSchedule s;
  const Ip4 a = A("192.168.1.20"), b = A("192.168.1.21");
  EXPECT_EQ(s.Tick(kT0, {a}, {}).ask, (std::vector<Ip4>{a}));
  EXPECT_TRUE(s.Tick(kT0 + milliseconds(500), {a}, {}).ask.empty());
  // b appears: asked at once, a still waits for its second.
  EXPECT_EQ(s.Tick(kT0 + milliseconds(600), {a, b}, {}).ask, (std::vector<Ip4>{b}));
  EXPECT_EQ(s.Tick(kT0 + milliseconds(1000), {a, b}, {}).ask, (std::vector<Ip4>{a}));
}

TEST(NeighborSchedule, ResolvedAndFreshIsNeverAsked) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  EXPECT_EQ(AskTimes(s, kT0, seconds(120), {}, {}, hop).size(), 0u);
}

TEST(NeighborSchedule, AnAnswerResetsTheBackoff) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  AskTimes(s, kT0, seconds(20), {hop}, {}, hop);  // backed off to 16 s
  s.Tick(kT0 + seconds(21), {}, {});               // learned: fresh
  // Forgotten later and unresolved again: asked at once, then after 1 s.
  const auto asked = AskTimes(s, kT0 + seconds(100), seconds(2), {hop}, {}, hop);
  EXPECT_EQ(asked, (std::vector<int64_t>{0, 1000}));
}

TEST(NeighborSchedule, StaleIsReaskedEverySecondThenForgottenAfterThreeUnanswered) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  std::vector<int64_t> forgot;
  // Stale from T0 (learned 60 s before) and nobody answers (until forgotten: then it is no longer
  // in the cache, so no longer stale).
  const auto asked = AskTimes(s, kT0, milliseconds(3000), {}, {hop}, hop, &forgot);
  EXPECT_EQ(asked, (std::vector<int64_t>{0, 1000, 2000}));
  EXPECT_EQ(forgot, (std::vector<int64_t>{3000}));
}

TEST(NeighborSchedule, StaleThatAnswersIsKept) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  std::vector<int64_t> forgot;
  AskTimes(s, kT0, milliseconds(1500), {}, {hop}, hop, &forgot);  // asked twice
  // The answer arrives: the entry is fresh again (in neither list).
  const auto a = s.Tick(kT0 + milliseconds(1600), {}, {});
  EXPECT_TRUE(a.ask.empty());
  EXPECT_TRUE(a.forget.empty());
  // Stale again 60 s later: the count starts over, three more asks before forgetting.
  const auto asked = AskTimes(s, kT0 + seconds(62), milliseconds(3000), {}, {hop}, hop, &forgot);
  EXPECT_EQ(asked, (std::vector<int64_t>{0, 1000, 2000}));
  EXPECT_EQ(forgot, (std::vector<int64_t>{3000}));
}

TEST(NeighborSchedule, ForgottenThenUnresolvedIsAskedAgainAtOnce) {
  NeighborSchedule s;
  const Ip4 hop = A("192.168.1.20");
  std::vector<int64_t> forgot;
  AskTimes(s, kT0, milliseconds(3000), {}, {hop}, hop, &forgot);
  ASSERT_EQ(forgot.size(), 1u);
  EXPECT_EQ(s.Tick(kT0 + milliseconds(3100), {hop}, {}).ask, (std::vector<Ip4>{hop}));
}

TEST(NeighborSchedule, ParamsAreHonoured) {
  NeighborSchedule::Params p;
  p.max_unanswered = 1;
  p.refresh_retry = seconds(5);
  NeighborSchedule s(p);
  const Ip4 hop = A("192.168.1.20");
  std::vector<int64_t> forgot;
  const auto asked = AskTimes(s, kT0, seconds(5), {}, {hop}, hop, &forgot);
  EXPECT_EQ(asked, (std::vector<int64_t>{0}));
  EXPECT_EQ(forgot, (std::vector<int64_t>{5000}));
}

TEST(BuildArpRequest, IsABroadcastWhoHas) {
  uint8_t f[42];
  BuildArpRequest(*Mac::Parse("02:00:00:00:00:01"), A("192.168.1.10"), A("192.168.1.20"), f);
  const uint8_t want[42] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,  // Ethernet
      0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,                                // ARP, request
      0x02, 0, 0, 0, 0, 0x01, 192, 168, 1, 10,                                 // sender
      0, 0, 0, 0, 0, 0, 192, 168, 1, 20};                                      // target
  EXPECT_EQ(std::vector<uint8_t>(f, f + 42), std::vector<uint8_t>(want, want + 42));
}

}  // namespace
}  // namespace nodeplane::ctl
