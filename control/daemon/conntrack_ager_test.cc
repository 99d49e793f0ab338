// The ager's slices: repeated ticks remove every expired connection and nothing else.
#include "control/daemon/conntrack_ager.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::ctl {
namespace {

using dp::testing::A;

TEST(ConntrackAger, TicksRemoveExpiredConnectionsSliceBySlice) {
  dp::testing::Eal();
  dp::Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(dp::Conntrack::Limits{.entries = 256}, nullptr, &error, "ct_ager")) << error;
  dp::CtEntry* e = nullptr;
  const uint32_t now = ct.NowMs();
  // 100 UDP connections last seen 31 s "ago" (their clock reads 31 s before now: unreplied UDP
  // expires after 30 s), one TCP connection seen now.
  const uint32_t long_ago = now - 31'000;  // may wrap: entries' 24-bit ticks wrap the same way
  for (uint16_t p = 1; p <= 100; ++p) {
    ASSERT_EQ(ct.Add(dp::CtKey{A("10.0.0.1").be, A("10.0.0.2").be, htons(p), htons(53),
                               IPPROTO_UDP, {}},
                     0, 0, 0, 0, dp::CtProto::kUdpUnreplied, long_ago, 0, &e),
              dp::Conntrack::Insert::kOk);
  }
  ASSERT_EQ(ct.Add(dp::CtKey{A("10.0.0.1").be, A("10.0.0.2").be, htons(1), htons(80), IPPROTO_TCP,
                             {}},
                   0, 0, 0, 0, dp::CtProto::kTcpEstablished, now, 0, &e),
            dp::Conntrack::Insert::kOk);
  ConntrackAger ager(ct, ConntrackAger::Config{.slice = 16});
  size_t removed = 0;
  for (int i = 0; i < 100 && removed < 100; ++i) removed += ager.Tick();
  EXPECT_EQ(removed, 100u);
  EXPECT_EQ(ct.connections(), 1u);
  EXPECT_EQ(ct.stats().expired, 100u);
}

}  // namespace
}  // namespace nodeplane::ctl
