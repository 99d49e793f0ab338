// The host's routes to remote nodes' pod CIDRs: what HostPodRoutes adds before a change and removes
// after it, and how the Applier keeps them in step with remote nodes through upserts, deletes,
// syncs and rejected changes (with recording route operations instead of netlink).
#include "control/daemon/host_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "control/daemon/applier.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/fib.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Ip4Prefix P(const char* s) { return *Ip4Prefix::Parse(s); }
Ip4 A(const char* s) { return *Ip4::Parse(s); }

// A kernel stand-in: the routes it holds and the calls it got; `fail` makes one prefix fail.
struct FakeKernel {
  std::set<Ip4Prefix> routes;
  std::vector<std::string> calls;
  std::optional<Ip4Prefix> fail;

  HostPodRoutes::Ops Ops() {
    return HostPodRoutes::Ops{
        .replace =
            [this](const Ip4Prefix& p) {
              calls.push_back("replace " + p.ToString());
              if (fail == p) return absl::InternalError("refused");
              routes.insert(p);
              return absl::OkStatus();
            },
        .remove =
            [this](const Ip4Prefix& p) {
              calls.push_back("remove " + p.ToString());
              routes.erase(p);
              return absl::OkStatus();
            },
    };
  }
};

TEST(HostPodRoutes, AddsBeforeAndRemovesAfterOnlyWhatChanged) {
  FakeKernel k;
  HostPodRoutes r(k.Ops());
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24"), P("10.244.3.0/24")}, false).ok());
  r.Settle({P("10.244.2.0/24"), P("10.244.3.0/24")});
  EXPECT_THAT(k.routes, ElementsAre(P("10.244.2.0/24"), P("10.244.3.0/24")));
  k.calls.clear();
  // Node 3 leaves, node 4 comes: 4 goes in before publishing, 3 goes out after.
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24"), P("10.244.4.0/24")}, false).ok());
  EXPECT_THAT(k.calls, ElementsAre("replace 10.244.4.0/24"));
  EXPECT_EQ(k.routes.size(), 3u) << "nothing removed before the change is published";
  r.Settle({P("10.244.2.0/24"), P("10.244.4.0/24")});
  EXPECT_THAT(k.calls, ElementsAre("replace 10.244.4.0/24", "remove 10.244.3.0/24"));
  EXPECT_THAT(k.routes, ElementsAre(P("10.244.2.0/24"), P("10.244.4.0/24")));
  EXPECT_EQ(r.installed(), k.routes);
}

TEST(HostPodRoutes, AResyncAddsEveryRouteAgain) {
  FakeKernel k;
  HostPodRoutes r(k.Ops());
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24")}, false).ok());
  r.Settle({P("10.244.2.0/24")});
  k.routes.clear();  // removed behind our back
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24")}, true).ok());
  r.Settle({P("10.244.2.0/24")});
  EXPECT_THAT(k.routes, ElementsAre(P("10.244.2.0/24")));
}

TEST(HostPodRoutes, AFailedAddLeavesTheKernelAsItWas) {
  FakeKernel k;
  HostPodRoutes r(k.Ops());
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24")}, false).ok());
  r.Settle({P("10.244.2.0/24")});
  k.fail = P("10.244.4.0/24");
  const absl::Status s = r.Prepare({P("10.244.2.0/24"), P("10.244.3.0/24"), P("10.244.4.0/24")},
                                   false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("10.244.4.0/24"));
  EXPECT_THAT(k.routes, ElementsAre(P("10.244.2.0/24")));
  EXPECT_THAT(r.installed(), ElementsAre(P("10.244.2.0/24")));
}

TEST(HostPodRoutes, AnAbortedChangeTakesOutWhatItAdded) {
  FakeKernel k;
  HostPodRoutes r(k.Ops());
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24")}, false).ok());
  r.Settle({P("10.244.2.0/24")});
  ASSERT_TRUE(r.Prepare({P("10.244.2.0/24"), P("10.244.3.0/24")}, true).ok());
  r.Abort();
  EXPECT_THAT(k.routes, ElementsAre(P("10.244.2.0/24")));
  EXPECT_THAT(r.installed(), ElementsAre(P("10.244.2.0/24")));
}

// The Applier with a real EAL (no hugepages) and Fib, and the fake kernel.
class ApplierHostRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::testing::Eal("hostroutes");
    rcu_ = std::make_unique<dp::Rcu>(1);
    fib_ = std::make_unique<dp::Fib>();
    std::string error;
    // Room for 4 routes: a change past that is refused after the host routes went in.
    ASSERT_TRUE(
        fib_->Init(dp::Fib::Limits{.max_routes = 4, .tbl8_groups = 4}, rcu_->qsbr(), &error))
        << error;
    published_ = std::make_unique<dp::Published<dp::Snapshot>>(*rcu_);
    ports_ = std::make_unique<dp::Ports>(dp::testing::Eal("hostroutes").pool, 1);
    RuntimePorts rt{.worker_count = 1};
    applier_ =
        std::make_unique<Applier>(*ports_, *published_, rt, "none", PodPortType::kTap, fib_.get());
    applier_->SetHostPodRouteOps(kernel_.Ops());
    ASSERT_TRUE(applier_->Start().ok());
    ASSERT_TRUE(applier_->SetNode(Local()).ok());
  }
  void TearDown() override {
    applier_.reset();
    published_.reset();
    fib_.reset();
    ports_.reset();
    rcu_.reset();
  }

  static NodeModel Local() {
    NodeModel n;
    n.name = "node-a";
    n.addresses = {Ip4Prefix{A("192.168.1.10"), 24}};
    n.pod_cidrs = {P("10.244.1.0/24")};
    n.vtep = A("192.168.1.10");
    return n;
  }
  static RemoteNodeModel Remote(const char* name, const char* underlay,
                                std::vector<Ip4Prefix> cidrs) {
    RemoteNodeModel r;
    r.name = name;
    r.underlay = A(underlay);
    r.pod_cidrs = std::move(cidrs);
    return r;
  }

  FakeKernel kernel_;
  std::unique_ptr<dp::Rcu> rcu_;
  std::unique_ptr<dp::Fib> fib_;
  std::unique_ptr<dp::Published<dp::Snapshot>> published_;
  std::unique_ptr<dp::Ports> ports_;
  std::unique_ptr<Applier> applier_;
};

TEST_F(ApplierHostRoutesTest, RemoteNodesPodCidrsAreRoutedToTheHostWhileTheyExist) {
  ASSERT_TRUE(applier_->UpsertRemoteNodes({Remote("node-b", "192.168.1.20", {P("10.244.2.0/24")})})
                  .ok());
  EXPECT_THAT(kernel_.routes, ElementsAre(P("10.244.2.0/24")));
  // Its CIDR changes: the new one in, the old one out.
  ASSERT_TRUE(applier_->UpsertRemoteNodes({Remote("node-b", "192.168.1.20", {P("10.244.5.0/24")})})
                  .ok());
  EXPECT_THAT(kernel_.routes, ElementsAre(P("10.244.5.0/24")));
  ASSERT_TRUE(applier_->DeleteRemoteNodes({"node-b"}).ok());
  EXPECT_THAT(kernel_.routes, IsEmpty());
  EXPECT_THAT(applier_->host_pod_routes(), IsEmpty());
}

TEST_F(ApplierHostRoutesTest, SettingTheNodeAddsTheRoutesAgain) {
  ASSERT_TRUE(applier_->UpsertRemoteNodes({Remote("node-b", "192.168.1.20", {P("10.244.2.0/24")})})
                  .ok());
  kernel_.routes.clear();  // as if the interface's address change had taken them
  ASSERT_TRUE(applier_->SetNode(Local()).ok());
  EXPECT_THAT(kernel_.routes, ElementsAre(P("10.244.2.0/24")));
}

TEST_F(ApplierHostRoutesTest, ASyncLeavesExactlyTheSyncedNodesRoutes) {
  ASSERT_TRUE(applier_->UpsertRemoteNodes({Remote("node-b", "192.168.1.20", {P("10.244.2.0/24")})})
                  .ok());
  ASSERT_TRUE(applier_->Sync(Local(), {}, {Remote("node-c", "192.168.1.30", {P("10.244.3.0/24")})})
                  .ok());
  EXPECT_THAT(kernel_.routes, ElementsAre(P("10.244.3.0/24")));
}

TEST_F(ApplierHostRoutesTest, ARejectedChangeLeavesTheRoutesAsTheyWere) {
  ASSERT_TRUE(applier_->UpsertRemoteNodes({Remote("node-b", "192.168.1.20", {P("10.244.2.0/24")})})
                  .ok());
  kernel_.calls.clear();
  // Invalid (overlaps our own pod CIDR): refused before any route is touched.
  auto invalid = applier_->UpsertRemoteNodes({Remote("node-c", "192.168.1.30", {P("10.244.1.0/25")})});
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();
  EXPECT_THAT(kernel_.calls, IsEmpty());
  // Valid but more than the Fib holds: its routes went in first and come out again.
  auto full = applier_->UpsertRemoteNodes(
      {Remote("node-c", "192.168.1.30", {P("10.244.3.0/24"), P("10.244.4.0/24")})});
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
  EXPECT_THAT(kernel_.routes, ElementsAre(P("10.244.2.0/24")));
  EXPECT_THAT(applier_->host_pod_routes(), ElementsAre(P("10.244.2.0/24")));
  EXPECT_THAT(kernel_.calls, UnorderedElementsAre("replace 10.244.3.0/24", "replace 10.244.4.0/24",
                                                  "remove 10.244.3.0/24", "remove 10.244.4.0/24"));
}

}  // namespace
}  // namespace nodeplane::ctl
