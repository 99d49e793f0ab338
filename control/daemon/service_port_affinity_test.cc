// ClientIP affinity is per Service port, as kube-proxy keeps it: packets through svc_lb over
// entries the ServiceInstaller compiled and installed. A client's backend on one port of a Service
// does not decide its backend on another port of the same Service (even one that reaches the same
// backends on the same target port); on the same port it still does, and it survives a change to
// the Service's other ports.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include "control/daemon/service_installer.h"
#include "dataplane/stages/svc_lb.h"
#include "dataplane/stages/svc_lb_decide.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/stage_harness.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::ctl {
namespace {

using dp::testing::Pkt;
using dp::testing::StageHarness;
using dp::testing::Topo;

Ip4 A(const char* s) { return *Ip4::Parse(s); }
uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

const Ip4 kVip = A("10.96.0.10");

uint32_t g_now_s = 1000;
uint32_t FakeClock() { return g_now_s; }

// Two ports, "http" 80 and "alt" 81, both to target port 8080 of the same four endpoints on
// another node: the two ports' entries list the same backends in the same order.
ServiceModel Web() {
  ServiceModel s;
  s.key = {"default", "web"};
  s.cluster_ips = {kVip};
  s.ports = {ServicePortModel{"http", L4Protocol::kTcp, 80, 8080, "", 0},
             ServicePortModel{"alt", L4Protocol::kTcp, 81, 8080, "", 0}};
  s.affinity_timeout_s = 0;  // ClientIP, the default timeout
  return s;
}

EndpointSliceModel Endpoints() {
  EndpointSliceModel s;
  s.key = {"default", "web-1"};
  s.service_name = "web";
  for (const char* ip : {"10.244.2.5", "10.244.2.6", "10.244.2.7", "10.244.2.8"}) {
    EndpointModel e;
    e.address = A(ip);
    e.node_name = "node2";
    s.endpoints.push_back(e);
  }
  s.ports = {EndpointPortModel{"http", L4Protocol::kTcp, 8080},
             EndpointPortModel{"alt", L4Protocol::kTcp, 8080}};
  return s;
}

class ServicePortAffinityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::testing::Eal();
    std::string error;
    ASSERT_TRUE(table_.Init(256, nullptr, &error)) << error;
    affinity_.SetClock(FakeClock);
    ASSERT_TRUE(affinity_.Init(4096, &error)) << error;
    snap_ = dp::testing::StandardTopology().Build();
    snap_->services = &table_;
    snap_->affinity = &affinity_;
    installer_.SetTables(&table_, &affinity_);
    NodeModel node;
    node.name = "node1";
    node.addresses = {Ip4Prefix{Topo::NodeIp(), 24}};
    state_.node = node;
    Install(Web());
  }

  void Install(const ServiceModel& svc) {
    auto services = std::make_shared<ServiceState>();
    services->services[svc.key] = svc;
    services->PutSlice(Endpoints());
    state_.services = services;
    installer_.MarkDirty(svc.key);
    auto plan = installer_.MakePlan(state_);
    ASSERT_TRUE(plan.ok()) << plan.status();
    installer_.Apply(std::move(*plan));
  }

  const dp::ServiceEntry& Entry(uint16_t port) {
    const dp::ServiceEntry* e = table_.Lookup(dp::ServiceTableKey{kVip.be, Be16(port), IPPROTO_TCP, 0});
    EXPECT_NE(e, nullptr) << port;
    return *e;
  }

  // The backend Maglev alone gives a new connection from pod A (no affinity).
  uint32_t MaglevBackend(uint16_t sport, uint16_t dport) {
    const dp::ServiceEntry& e = Entry(dport);
    const dp::ServiceDecision d = dp::DecideService(e, false, Topo::PodAIp().be, kVip.be, Be16(sport),
                                                    Be16(dport), IPPROTO_TCP, nullptr, 0);
    return e.backends[d.backend].ip_be;
  }

  // A source port whose Maglev choice on `dport` is not `avoid`: a connection from it that lands
  // on `avoid` got there by affinity, not by the hash.
  uint16_t SourcePortAvoiding(uint16_t dport, uint32_t avoid, uint16_t from) {
    for (uint16_t s = from; s < from + 1000; ++s) {
      if (MaglevBackend(s, dport) != avoid) return s;
    }
    ADD_FAILURE() << "every source port hashes to the same backend";
    return from;
  }

  // A new TCP connection from pod A to the VIP: the backend svc_lb chose.
  uint32_t Connect(uint16_t sport, uint16_t dport) {
    StageHarness<dp::SvcLbStage> h(*snap_);
    const auto out = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                               .Ip4(Topo::PodAIp(), kVip)
                               .Tcp(sport, dport),
                           Topo::kPodA);
    EXPECT_EQ(out.decided_by, dp::SvcLbStage::kName);
    EXPECT_EQ(h.leaked_mbufs(), 0);
    return out.meta.xlate_dst_ip;
  }

  dp::ServiceTable table_;
  dp::AffinityTable affinity_;
  std::unique_ptr<dp::Snapshot> snap_;
  ServiceInstaller installer_;
  DesiredState state_;
};

TEST_F(ServicePortAffinityTest, EachPortOfAServiceHasItsOwnAffinityId) {
  EXPECT_NE(Entry(80).service_id, 0u);
  EXPECT_NE(Entry(80).service_id, Entry(81).service_id);
  EXPECT_NE(Entry(80).affinity_timeout_s, 0u);
  EXPECT_EQ(Entry(80).affinity_timeout_s, Entry(81).affinity_timeout_s);
}

TEST_F(ServicePortAffinityTest, AffinityOnOnePortDoesNotDecideAnotherPortOfTheSameService) {
  g_now_s = 1000;
  const uint32_t on80 = Connect(40000, 80);
  ASSERT_NE(on80, 0u);
  // Port 81 from a source port Maglev sends elsewhere: the hash decides, not port 80's choice.
  const uint16_t s81 = SourcePortAvoiding(81, on80, 41000);
  g_now_s += 5;
  const uint32_t on81 = Connect(s81, 81);
  EXPECT_EQ(on81, MaglevBackend(s81, 81));
  EXPECT_NE(on81, on80) << "the client's affinity on port 80 chose its backend on port 81";
  // Port 80 still sticks, even from a source port Maglev would send elsewhere...
  g_now_s += 5;
  EXPECT_EQ(Connect(SourcePortAvoiding(80, on80, 42000), 80), on80);
  // ...and port 81 now sticks to its own choice.
  g_now_s += 5;
  EXPECT_EQ(Connect(SourcePortAvoiding(81, on81, 43000), 81), on81);
}

TEST_F(ServicePortAffinityTest, APortKeepsItsAffinityWhenTheServicesOtherPortsChange) {
  g_now_s = 2000;
  const uint32_t on80 = Connect(40000, 80);
  ASSERT_NE(on80, 0u);
  const uint32_t id80 = Entry(80).service_id;
  ServiceModel changed = Web();
  changed.ports.erase(changed.ports.begin() + 1);  // "alt" goes
  changed.ports.insert(changed.ports.begin(),      // "extra" comes, before "http"
                       ServicePortModel{"extra", L4Protocol::kTcp, 82, 8080, "", 0});
  Install(changed);
  EXPECT_EQ(Entry(80).service_id, id80) << "port 80 is the same port: same id";
  EXPECT_NE(Entry(82).service_id, id80);
  g_now_s += 5;
  EXPECT_EQ(Connect(SourcePortAvoiding(80, on80, 44000), 80), on80);
}

}  // namespace
}  // namespace nodeplane::ctl
