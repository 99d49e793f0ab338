// ListConntrack / FlushConntrack over a real conntrack table (test EAL): filters select what a
// user asked for, malformed filters are rejected naming the field, and flushes remove connections.
#include "control/server/conntrack_rpcs.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::ctl {
namespace {

using dp::testing::A;

class ConntrackRpcs : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::testing::Eal();
    std::string error;
    static int n = 0;
    ASSERT_TRUE(ct_.Init(dp::Conntrack::Limits{.entries = 64}, nullptr, &error,
                         ("ct_rpc" + std::to_string(n++)).c_str()))
        << error;
    dp::CtEntry* e = nullptr;
    // Client → Service VIP 10.96.0.10:80, translated to backend 10.244.1.7:8080.
    ASSERT_EQ(ct_.Add(dp::CtKey{A("10.244.1.5").be, A("10.96.0.10").be, htons(40000), htons(80),
                                IPPROTO_TCP, {}},
                      A("10.244.1.7").be, htons(8080), 0, 0, dp::CtProto::kTcpEstablished,
                      ct_.NowMs(), 2, &e),
              dp::Conntrack::Insert::kOk);
    ASSERT_EQ(ct_.Add(dp::CtKey{A("10.244.1.6").be, A("10.244.1.9").be, htons(5353), htons(53),
                                IPPROTO_UDP, {}},
                      0, 0, 0, 0, dp::CtProto::kUdpUnreplied, ct_.NowMs(), 0, &e),
              dp::Conntrack::Insert::kOk);
  }
  dp::Conntrack ct_;
};

TEST_F(ConntrackRpcs, ListShowsBothTuplesAndTheState) {
  v1::ListConntrackRequest req;
  req.mutable_filter()->set_destination("10.244.1.7");  // the backend finds the VIP connection
  v1::ListConntrackReply reply;
  ASSERT_TRUE(ListConntrack(&ct_, req, &reply).ok());
  ASSERT_EQ(reply.connections_size(), 1);
  const v1::Connection& c = reply.connections(0);
  EXPECT_EQ(c.protocol(), v1::CONNTRACK_PROTOCOL_TCP);
  EXPECT_EQ(c.original().source(), "10.244.1.5");
  EXPECT_EQ(c.original().destination(), "10.96.0.10");
  EXPECT_EQ(c.original().destination_port(), 80u);
  EXPECT_EQ(c.reply().source(), "10.244.1.7");
  EXPECT_EQ(c.reply().source_port(), 8080u);
  EXPECT_EQ(c.reply().destination_port(), 40000u);
  EXPECT_EQ(c.state(), "ESTABLISHED");
  EXPECT_EQ(c.policy_generation(), 2u);
  EXPECT_GT(c.expires_in_ms(), 0u);
  EXPECT_EQ(reply.total(), 2u);
  EXPECT_EQ(reply.capacity(), 64u);
}

TEST_F(ConntrackRpcs, ProtocolAndPortFilters) {
  v1::ListConntrackRequest req;
  req.mutable_filter()->set_protocol(v1::CONNTRACK_PROTOCOL_UDP);
  v1::ListConntrackReply reply;
  ASSERT_TRUE(ListConntrack(&ct_, req, &reply).ok());
  ASSERT_EQ(reply.connections_size(), 1);
  EXPECT_EQ(reply.connections(0).original().destination_port(), 53u);
  req.Clear();
  req.mutable_filter()->set_port(8080);
  reply.Clear();
  ASSERT_TRUE(ListConntrack(&ct_, req, &reply).ok());
  ASSERT_EQ(reply.connections_size(), 1);
  EXPECT_EQ(reply.connections(0).protocol(), v1::CONNTRACK_PROTOCOL_TCP);
}

TEST_F(ConntrackRpcs, MalformedFilterIsRejectedNamingTheField) {
  v1::ListConntrackRequest req;
  req.mutable_filter()->set_source("10.0.0");
  v1::ListConntrackReply reply;
  grpc::Status s = ListConntrack(&ct_, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "filter.source: not an IPv4 address: \"10.0.0\"");
  v1::FlushConntrackRequest flush;
  flush.mutable_filter()->set_port(70000);
  v1::FlushConntrackReply removed;
  s = FlushConntrack(&ct_, flush, &removed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "filter.port: 70000 outside 1-65535 (0: any)");
  EXPECT_EQ(ct_.connections(), 2u);  // nothing removed
}

TEST_F(ConntrackRpcs, FlushByFilterThenAll) {
  v1::FlushConntrackRequest req;
  req.mutable_filter()->set_source("10.244.1.6");
  v1::FlushConntrackReply reply;
  ASSERT_TRUE(FlushConntrack(&ct_, req, &reply).ok());
  EXPECT_EQ(reply.removed(), 1u);
  EXPECT_EQ(ct_.connections(), 1u);
  reply.Clear();
  ASSERT_TRUE(FlushConntrack(&ct_, v1::FlushConntrackRequest{}, &reply).ok());
  EXPECT_EQ(reply.removed(), 1u);
  EXPECT_EQ(ct_.connections(), 0u);
}

TEST(ConntrackRpcsWithoutTable, AreAFailedPrecondition) {
  v1::ListConntrackReply reply;
  EXPECT_EQ(ListConntrack(nullptr, v1::ListConntrackRequest{}, &reply).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace nodeplane::ctl
