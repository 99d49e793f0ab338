// Pod link names: they fit the kernel's limit, carry their owner, and nothing else is mistaken
// for one (the stale-link sweep deletes what PodLinkOwner accepts).
#include "control/daemon/pod_link_names.h"

#include <gtest/gtest.h>

namespace nodeplane::ctl {
namespace {

TEST(PodLinkNames, FitTheKernelLimitWithRoomForTheVethPeerSuffix) {
  const std::string name = PodLinkName(4194303, 0xffffff);
  EXPECT_EQ(name, "np3fffffffffff");
  EXPECT_LE(name.size() + 1, 15u);
}

TEST(PodLinkNames, OwnerRoundTrips) {
  EXPECT_EQ(PodLinkOwner(PodLinkName(12345, 7)), 12345u);
}

TEST(PodLinkNames, OtherNamesHaveNoOwner) {
  for (const char* other : {"np-host", "eth0", "uplink", "np0012340000070", "np00123400000g",
                            "xp001234000007", "np001234000007p"}) {
    EXPECT_FALSE(PodLinkOwner(other).has_value()) << other;
  }
}

}  // namespace
}  // namespace nodeplane::ctl
