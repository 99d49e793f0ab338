#include "nodeplane/addr.h"

#include <gtest/gtest.h>

namespace nodeplane {
namespace {

TEST(Ip4, ParsesDottedQuadIntoNetworkOrder) {
  const auto ip = Ip4::Parse("10.244.1.2");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->host(), 0x0af40102u);
  EXPECT_EQ(ip->ToString(), "10.244.1.2");
}

TEST(Ip4, RejectsMalformedText) {
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1.2", "a.b.c.d", "10.0.0.1/32",
                          " 10.0.0.1", "1234567890123456789"}) {
    EXPECT_FALSE(Ip4::Parse(bad).has_value()) << bad;
  }
}

TEST(Ip4Prefix, ParsesAndRejectsHostBits) {
  EXPECT_EQ(Ip4Prefix::Parse("10.244.1.0/24")->len, 24);
  EXPECT_EQ(Ip4Prefix::Parse("10.244.1.7")->len, 32);
  EXPECT_FALSE(Ip4Prefix::Parse("10.244.1.7/24").has_value());
  EXPECT_FALSE(Ip4Prefix::Parse("10.244.1.0/33").has_value());
  EXPECT_FALSE(Ip4Prefix::Parse("10.244.1.0/").has_value());
  EXPECT_TRUE(Ip4Prefix::Parse("10.244.0.0/16")->Contains(*Ip4::Parse("10.244.9.9")));
  EXPECT_FALSE(Ip4Prefix::Parse("10.244.0.0/16")->Contains(*Ip4::Parse("10.245.0.1")));
}

TEST(Mac, RoundTrips) {
  const auto m = Mac::Parse("02:00:0a:f4:01:02");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->bytes[2], 0x0a);
  EXPECT_EQ(m->ToString(), "02:00:0a:f4:01:02");
  EXPECT_FALSE(Mac::Parse("02:00:0a:f4:01").has_value());
  EXPECT_FALSE(Mac::Parse("02-00-0a-f4-01-02").has_value());
  EXPECT_FALSE(Mac::Parse("zz:00:0a:f4:01:02").has_value());
}

}  // namespace
}  // namespace nodeplane
