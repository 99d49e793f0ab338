// ServiceStore: a request applied in place to the running Services gives what the whole check
// (ApplyServiceChange) gives — state and errors — and a rejected or undone request leaves the
// state and the claim index exactly as they were.
#include "control/model/service_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "control/model/service_from_proto.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }

ServiceModel Svc(const std::string& name, const char* vip, uint16_t port, uint16_t node_port = 0) {
  ServiceModel s;
  s.key = {"default", name};
  s.type = node_port != 0 ? ServiceType::kNodePort : ServiceType::kClusterIp;
  s.cluster_ips = {A(vip)};
  s.ports = {ServicePortModel{"", L4Protocol::kTcp, port, 8080, "", node_port}};
  return s;
}

EndpointSliceModel Slice(const std::string& name, const std::string& svc, int endpoints,
                         int first = 1) {
  EndpointSliceModel s;
  s.key = {"default", name};
  s.service_name = svc;
  for (int i = 0; i < endpoints; ++i) {
    EndpointModel e;
    e.address = Ip4::FromHost((10u << 24) | (244u << 16) | static_cast<uint32_t>(first + i));
    e.node_name = "node1";
    s.endpoints.push_back(e);
  }
  s.ports = {EndpointPortModel{"", L4Protocol::kTcp, 8080}};
  return s;
}

// The claims a store builds from scratch for a copy of `state`.
ServiceClaims FreshClaims(const ServiceState& state) {
  ServiceStore fresh;
  auto copy = std::make_shared<const ServiceState>(state);
  return fresh.Claims(copy);
}

class ServiceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = store_.Apply(state_,
                               {Svc("a", "10.96.0.1", 80, 30001), Svc("b", "10.96.0.2", 80, 30002),
                                Svc("c", "10.96.0.3", 53)},
                               {}, {Slice("a-1", "a", 2), Slice("b-1", "b", 3, 10)}, {},
                               "services", "endpoint_slices");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
  }

  // What the whole check makes of the same request on the same state.
  absl::StatusOr<ServiceState> Whole(std::vector<ServiceModel> svcs,
                                     const std::vector<ServiceKey>& del,
                                     std::vector<EndpointSliceModel> slices,
                                     const std::vector<EndpointSliceKey>& del_slices) {
    return ApplyServiceChange(*state_, false, std::move(svcs), del, std::move(slices), del_slices,
                              "services", "endpoint_slices");
  }

  ServiceStore store_;
  std::shared_ptr<const ServiceState> state_;
};

TEST_F(ServiceStoreTest, AClashingServiceRejectsTheWholeRequestAndChangesNothing) {
  const ServiceState before = *state_;
  const ServiceClaims claims_before = store_.Claims(state_);
  // The first Service is fine, the second takes a's NodePort: neither is applied.
  std::vector<ServiceModel> req = {Svc("d", "10.96.0.4", 80), Svc("e", "10.96.0.5", 80, 30001)};
  auto whole = Whole(req, {}, {}, {});
  auto got = store_.Apply(state_, req, {}, {}, {}, "services", "endpoint_slices");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status(), whole.status());
  EXPECT_EQ(got.status().message(),
            "services[1].ports[0].node_port: NodePort 30001/TCP is already used by Service default/a");
  EXPECT_EQ(*state_, before);
  EXPECT_EQ(store_.Claims(state_), claims_before);
  // A VIP:port clash after a replaced Service's own claims are dropped: b keeps its own VIP.
  req = {Svc("b", "10.96.0.2", 80, 30002), Svc("f", "10.96.0.3", 53)};
  got = store_.Apply(state_, req, {}, {}, {}, "services", "endpoint_slices");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status(), Whole(req, {}, {}, {}).status());
  EXPECT_EQ(got.status().message(),
            "services[1].cluster_ips[0]: 10.96.0.3:53/TCP is already used by Service default/c");
  EXPECT_EQ(*state_, before);
  EXPECT_EQ(store_.Claims(state_), claims_before);
}

TEST_F(ServiceStoreTest, TooManyEndpointsRejectTheWholeRequestAndChangeNothing) {
  const ServiceState before = *state_;
  const ServiceClaims claims_before = store_.Claims(state_);
  std::vector<EndpointSliceModel> slices;
  slices.push_back(Slice("c-1", "c", 5, 100));
  for (int i = 0; i < 5; ++i) slices.push_back(Slice("a-big-" + std::to_string(i), "a", 1000, 1000 * i));
  auto got = store_.Apply(state_, {Svc("c", "10.96.0.3", 54)}, {}, slices, {{"default", "b-1"}},
                          "services", "endpoint_slices");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status(),
            Whole({Svc("c", "10.96.0.3", 54)}, {}, slices, {{"default", "b-1"}}).status());
  EXPECT_EQ(got.status().message(),
            "endpoint_slices[1].endpoints: Service default/a would have 5002 endpoints; a Service "
            "holds at most 4096");
  EXPECT_EQ(*state_, before);
  EXPECT_EQ(store_.Claims(state_), claims_before);
}

TEST_F(ServiceStoreTest, AcceptedRequestsGiveWhatTheWholeCheckGives) {
  // A request may swap VIPs and NodePorts between its own Services, delete one and reuse its
  // claims, move a slice to another Service and delete another.
  ServiceModel a = Svc("a", "10.96.0.2", 80, 30002);
  ServiceModel b = Svc("b", "10.96.0.1", 80, 30001);
  ServiceModel d = Svc("d", "10.96.0.3", 53);
  EndpointSliceModel moved = Slice("a-1", "d", 4, 50);
  auto whole = Whole({a, b, d}, {{"default", "c"}}, {moved}, {{"default", "b-1"}});
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto got = store_.Apply(state_, {a, b, d}, {{"default", "c"}}, {moved}, {{"default", "b-1"}},
                          "services", "endpoint_slices");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*state_, *whole);
  EXPECT_EQ(store_.Claims(state_), FreshClaims(*state_));
  EXPECT_EQ(got->touched, (std::set<ServiceKey>{{"default", "a"}, {"default", "b"},
                                               {"default", "c"}, {"default", "d"}}))
      << "the slice's old and new owners, the upserted and the deleted Services";
}

TEST_F(ServiceStoreTest, UndoRestoresTheStateAndTheClaims) {
  const ServiceState before = *state_;
  const ServiceClaims claims_before = store_.Claims(state_);
  auto got = store_.Apply(state_, {Svc("a", "10.96.0.9", 81, 30009), Svc("n", "10.96.0.1", 80)},
                          {{"default", "b"}}, {Slice("a-1", "n", 1), Slice("n-2", "n", 2)},
                          {{"default", "b-1"}}, "services", "endpoint_slices");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_NE(*state_, before);
  store_.Undo(state_, std::move(*got));
  EXPECT_EQ(*state_, before);
  EXPECT_EQ(store_.Claims(state_), claims_before);
  // The restored claims still guard: a's NodePort is taken again.
  EXPECT_FALSE(store_.Apply(state_, {Svc("z", "10.96.0.99", 80, 30001)}, {}, {}, {}, "services",
                            "endpoint_slices")
                   .ok());
}

TEST_F(ServiceStoreTest, EditsInPlaceUnlessAReaderHoldsTheState) {
  const ServiceState* running = state_.get();
  ASSERT_TRUE(store_.Apply(state_, {}, {}, {Slice("a-1", "a", 3)}, {}, "services",
                           "endpoint_slices")
                  .ok());
  EXPECT_EQ(state_.get(), running) << "nobody else holds it: edited in place";
  std::shared_ptr<const ServiceState> reader = state_;
  const ServiceState seen = *reader;
  ASSERT_TRUE(store_.Apply(state_, {}, {}, {Slice("a-1", "a", 1)}, {}, "services",
                           "endpoint_slices")
                  .ok());
  EXPECT_NE(state_.get(), reader.get());
  EXPECT_EQ(*reader, seen) << "a reader's copy never changes under it";
  EXPECT_EQ(state_->slices.at({"default", "a-1"}).endpoints.size(), 1u);
}

TEST_F(ServiceStoreTest, AStateReplacedWholeIsIndexedAgain) {
  // A sync replaces the state: its claims, not the old ones, guard the next request.
  auto synced = ApplyServiceChange(ServiceState{}, true, {Svc("x", "10.96.0.1", 80, 30050)}, {},
                                   {}, {}, "state.services", "state.endpoint_slices");
  ASSERT_TRUE(synced.ok());
  state_ = std::make_shared<const ServiceState>(*synced);
  EXPECT_TRUE(store_.Apply(state_, {Svc("y", "10.96.0.2", 80, 30001)}, {}, {}, {}, "services",
                           "endpoint_slices")
                  .ok())
      << "30001 belonged to a Service the sync removed";
  auto clash = store_.Apply(state_, {Svc("z", "10.96.0.7", 80, 30050)}, {}, {}, {}, "services",
                            "endpoint_slices");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "services[0].ports[0].node_port: NodePort 30050/TCP is already used by Service default/x");
}

TEST_F(ServiceStoreTest, HealthCheckedServicesFollowChanges) {
  ServiceModel lb = Svc("lb", "10.96.0.20", 80, 30020);
  lb.type = ServiceType::kLoadBalancer;
  lb.external_policy = TrafficPolicy::kLocal;
  lb.health_check_node_port = 32000;
  ASSERT_TRUE(store_.Apply(state_, {lb}, {}, {}, {}, "services", "endpoint_slices").ok());
  EXPECT_EQ(store_.HealthChecked(state_), (std::set<ServiceKey>{lb.key}));
  // Its health-check port is claimed like a NodePort.
  auto clash = store_.Apply(state_, {Svc("z", "10.96.0.7", 80, 32000)}, {}, {}, {}, "services",
                            "endpoint_slices");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "services[0].ports[0].node_port: NodePort 32000/TCP is already used by Service "
            "default/lb");
  ASSERT_TRUE(store_.Apply(state_, {}, {lb.key}, {}, {}, "services", "endpoint_slices").ok());
  EXPECT_TRUE(store_.HealthChecked(state_).empty());
}

}  // namespace
}  // namespace nodeplane::ctl
