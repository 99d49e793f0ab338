// The overlay through the API and the Applier, on a real EAL (no hugepages) and a real Fib: remote
// nodes become Fib routes and remote node table entries in the published snapshot, neighbours
// resolve them, deletes and syncs remove them again, invalid requests name their field and change
// nothing, and a pod's default MTU leaves room for VXLAN.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/testing/test_eal.h"
#include "control/daemon/applier.h"
#include "control/server/nodeplane_service.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/fib.h"
#include "dataplane/tables/service_table.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
Mac M(const char* s) { return *Mac::Parse(s); }

template <typename T>
T Parse(const std::string& text) {
  T msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &msg)) << text;
  return msg;
}


class OverlayApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::testing::Eal("ovlapply");  // once per binary, before anything takes EAL memory
    rcu_ = std::make_unique<dp::Rcu>(1);
    fib_ = std::make_unique<dp::Fib>();
    std::string error;
    ASSERT_TRUE(
        fib_->Init(dp::Fib::Limits{.max_routes = 64, .tbl8_groups = 4}, rcu_->qsbr(), &error))
        << error;
    published_ = std::make_unique<dp::Published<dp::Snapshot>>(*rcu_);
    ports_ = std::make_unique<dp::Ports>(dp::testing::Eal("ovlapply").pool, 1);
    RuntimePorts rt{.worker_count = 1};
    rt.uplink = RuntimePort{0, M("02:00:00:00:00:10"), 1, 1, 1500};  // never probed here
    applier_ =
        std::make_unique<Applier>(*ports_, *published_, rt, "none", PodPortType::kTap, fib_.get());
    ASSERT_TRUE(applier_->Start().ok());
    service_ = std::make_unique<NodeplaneService>(*applier_, DaemonInfo{.version = "test"});
    ASSERT_TRUE(Write(&NodeplaneService::SetNode, Parse<v1::SetNodeRequest>(R"pb(
                  node {
                    name: "node-a"
                    addresses: "192.168.1.10/24"
                    pod_cidrs: "10.244.1.0/24"
                    vxlan { vni: 42 }
                  }
                )pb"))
                    .ok());
  }

  void TearDown() override {
    if (applier_) applier_->SetServiceTables(nullptr, nullptr);
    service_.reset();
    applier_.reset();
    published_.reset();  // the last snapshot goes before the Fib it refers to
    fib_.reset();
    ports_.reset();
    rcu_.reset();
  }

  template <typename Req>
  grpc::Status Write(grpc::Status (NodeplaneService::*method)(grpc::ServerContext*, const Req*,
                                                              v1::WriteReply*),
                     const Req& req) {
    v1::WriteReply reply;
    return (service_.get()->*method)(nullptr, &req, &reply);
  }

  grpc::Status UpsertBAndC() {
    return Write(&NodeplaneService::UpsertRemoteNodes, Parse<v1::UpsertRemoteNodesRequest>(R"pb(
      remote_nodes { name: "node-b" underlay_address: "192.168.1.20" pod_cidrs: "10.244.2.0/24" }
      remote_nodes {
        name: "node-c"
        underlay_address: "192.168.1.30"
        pod_cidrs: "10.244.3.0/24"
        udp_port: 8472
        vtep_mac: "02:00:00:00:0c:ee"
      }
    )pb"));
  }

  // Service tables for the applier, for one test (detached at its end).
  void AttachServiceTables() {
    std::string error;
    ASSERT_TRUE(table_.Init(64, nullptr, &error)) << error;
    ASSERT_TRUE(affinity_.Init(64, &error)) << error;
    applier_->SetServiceTables(&table_, &affinity_);
  }
  // A NodePort Service `name` (ClusterIP `cluster_ip`, TCP 80 → `target_port`) whose one ready
  // endpoint is `endpoint` on node-b.
  grpc::Status UpsertNodePortWithOneEndpoint(const std::string& name, const std::string& cluster_ip,
                                             int target_port, int node_port,
                                             const std::string& endpoint) {
    v1::UpsertServicesRequest svc;
    v1::Service* s = svc.add_services();
    s->mutable_key()->set_namespace_("default");
    s->mutable_key()->set_name(name);
    s->set_type(v1::NODE_PORT);
    s->add_cluster_ips(cluster_ip);
    v1::ServicePort* p = s->add_ports();
    p->set_protocol(v1::TCP);
    p->set_port(80);
    p->set_target_port_number(target_port);
    p->set_node_port(node_port);
    if (grpc::Status st = Write(&NodeplaneService::UpsertServices, svc); !st.ok()) return st;
    v1::UpsertEndpointSlicesRequest eps;
    v1::EndpointSlice* e = eps.add_endpoint_slices();
    e->mutable_key()->set_namespace_("default");
    e->mutable_key()->set_name(name + "-1");
    e->set_service_name(name);
    e->set_address_type("IPv4");
    v1::Endpoint* ep = e->add_endpoints();
    ep->add_addresses(endpoint);
    ep->mutable_conditions()->set_ready(true);
    ep->mutable_conditions()->set_serving(true);
    ep->set_node_name("node-b");
    v1::EndpointPort* port = e->add_ports();
    port->set_protocol(v1::TCP);
    port->set_port(target_port);
    return Write(&NodeplaneService::UpsertEndpointSlices, eps);
  }
  // The explanation of a TCP connection from an outside client to our NodePort `node_port`.
  v1::ExplainServiceBackendReply ExplainFromOutside(int node_port) {
    v1::ExplainServiceBackendRequest req;
    req.set_source_ip("198.51.100.9");
    req.set_destination_ip("192.168.1.10");
    req.set_destination_port(node_port);
    req.set_protocol(v1::TCP);
    v1::ExplainServiceBackendReply x;
    EXPECT_TRUE(service_->ExplainServiceBackend(nullptr, &req, &x).ok());
    return x;
  }

  uint32_t Route(const char* ip) const { return fib_->Lookup(A(ip).be); }
  const dp::Snapshot& Snap() const { return *published_->Get(); }
  uint32_t SlotOf(const std::string& name) const { return applier_->remote_slots().at(name); }

  std::unique_ptr<dp::Rcu> rcu_;
  std::unique_ptr<dp::Fib> fib_;
  std::unique_ptr<dp::Published<dp::Snapshot>> published_;
  std::unique_ptr<dp::Ports> ports_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<NodeplaneService> service_;
  dp::ServiceTable table_;
  dp::AffinityTable affinity_;
};

TEST_F(OverlayApiTest, RemoteNodesBecomeRoutesAndTableEntries) {
  const uint64_t before = applier_->generation();
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_EQ(applier_->generation(), before + 1);
  EXPECT_TRUE(Snap().overlay.enabled);
  EXPECT_EQ(Snap().overlay.vni, 42u);
  EXPECT_EQ(Route("10.244.2.9"), SlotOf("node-b"));
  EXPECT_EQ(Route("10.244.3.9"), SlotOf("node-c"));
  EXPECT_EQ(Route("10.244.1.9"), dp::Fib::kMiss) << "our own pods are not remote";
  const dp::RemoteNodeEntry* b = Snap().remotes.Find(SlotOf("node-b"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->underlay_ip(), A("192.168.1.20").be);
  EXPECT_FALSE(b->resolved) << "no neighbour known yet";
  const dp::RemoteNodeEntry* c = Snap().remotes.Find(SlotOf("node-c"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((c->outer[36] << 8) | c->outer[37], 8472);
  EXPECT_EQ(c->vtep_mac, M("02:00:00:00:0c:ee").bytes);
  EXPECT_EQ((c->outer[46] << 16) | (c->outer[47] << 8) | c->outer[48], 42) << "this node's VNI";
}

// Routes to new nodes go into the Fib after the snapshot holding those nodes is published; the
// established connections' remembered routes (dataplane/core/ct_route.h) hold per snapshot, so
// the same tables are published again once the routes are in, under a newer epoch.
TEST_F(OverlayApiTest, RoutesAddedAfterPublishingAreFollowedByAnotherSnapshot) {
  const uint32_t before = Snap().epoch;
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_EQ(Snap().epoch, before + 2) << "one snapshot for the nodes, one after their routes";
  EXPECT_EQ(Snap().remotes.size(), 2u);
  EXPECT_EQ(Route("10.244.2.9"), SlotOf("node-b"));
  const uint32_t with_routes = Snap().epoch;
  // Node C's VXLAN port changes; its routes stay as they are.
  ASSERT_TRUE(Write(&NodeplaneService::UpsertRemoteNodes, Parse<v1::UpsertRemoteNodesRequest>(R"pb(
    remote_nodes { name: "node-c" underlay_address: "192.168.1.30" pod_cidrs: "10.244.3.0/24" }
  )pb"))
                  .ok());
  EXPECT_EQ(Snap().epoch, with_routes + 1) << "no route went in after publishing: one snapshot";
}

TEST_F(OverlayApiTest, ANeighbourResolvesItsNodeWithANewGeneration) {
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_EQ(applier_->UnresolvedNextHops(),
            (std::vector<Ip4>{A("192.168.1.20"), A("192.168.1.30")}));
  const uint64_t before = applier_->generation();
  const auto gen = applier_->LearnNeighbor(A("192.168.1.20"), M("02:00:00:00:00:20"));
  ASSERT_TRUE(gen.ok());
  EXPECT_EQ(*gen, before + 1);
  const dp::RemoteNodeEntry* b = Snap().remotes.Find(SlotOf("node-b"));
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->resolved);
  EXPECT_EQ(std::vector<uint8_t>(b->outer, b->outer + 6),
            std::vector<uint8_t>({2, 0, 0, 0, 0, 0x20}));
  EXPECT_EQ(applier_->UnresolvedNextHops(), std::vector<Ip4>{A("192.168.1.30")});
  // The same MAC again, or a neighbour no node uses: nothing to republish.
  EXPECT_EQ(*applier_->LearnNeighbor(A("192.168.1.20"), M("02:00:00:00:00:20")), before + 1);
  EXPECT_EQ(*applier_->LearnNeighbor(A("192.168.1.77"), M("02:00:00:00:00:77")), before + 1);
  // Ageing it out unresolves the node again.
  EXPECT_EQ(*applier_->ForgetNeighbor(A("192.168.1.20")), before + 2);
  EXPECT_FALSE(Snap().remotes.Find(SlotOf("node-b"))->resolved);
}

TEST_F(OverlayApiTest, AStaticNeighbourResolvesAndCannotBeOverriddenByLearning) {
  ASSERT_TRUE(applier_->AddStaticNeighbor(A("192.168.1.20"), M("02:00:00:00:00:20")).ok());
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_TRUE(Snap().remotes.Find(SlotOf("node-b"))->resolved);
  EXPECT_EQ(applier_->LearnNeighbor(A("192.168.1.20"), M("02:00:00:00:00:66")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(OverlayApiTest, ChangingOneNodesCidrLeavesTheOthersRoute) {
  ASSERT_TRUE(UpsertBAndC().ok());
  const uint32_t c = SlotOf("node-c");
  ASSERT_TRUE(
      Write(&NodeplaneService::UpsertRemoteNodes, Parse<v1::UpsertRemoteNodesRequest>(R"pb(
        remote_nodes { name: "node-b" underlay_address: "192.168.1.20" pod_cidrs: "10.244.4.0/24" }
      )pb"))
          .ok());
  EXPECT_EQ(Route("10.244.2.9"), dp::Fib::kMiss);
  EXPECT_EQ(Route("10.244.4.9"), SlotOf("node-b"));
  EXPECT_EQ(Route("10.244.3.9"), c);
  EXPECT_EQ(SlotOf("node-c"), c);
}

TEST_F(OverlayApiTest, DeletedNodesLoseTheirRoutesAndEntries) {
  ASSERT_TRUE(UpsertBAndC().ok());
  const uint32_t b = SlotOf("node-b");
  v1::DeleteRemoteNodesRequest del;
  del.add_names("node-b");
  del.add_names("never-existed");
  ASSERT_TRUE(Write(&NodeplaneService::DeleteRemoteNodes, del).ok());
  EXPECT_EQ(Route("10.244.2.9"), dp::Fib::kMiss);
  EXPECT_EQ(Snap().remotes.Find(b), nullptr);
  EXPECT_EQ(Route("10.244.3.9"), SlotOf("node-c"));
  // The slot is free again for the next node.
  ASSERT_TRUE(
      Write(&NodeplaneService::UpsertRemoteNodes, Parse<v1::UpsertRemoteNodesRequest>(R"pb(
        remote_nodes { name: "node-d" underlay_address: "192.168.1.40" pod_cidrs: "10.244.2.0/24" }
      )pb"))
          .ok());
  EXPECT_EQ(SlotOf("node-d"), b);
  EXPECT_EQ(Route("10.244.2.9"), b);
}

TEST_F(OverlayApiTest, ANodeThatPodsStillNameCannotBeDeleted) {
  ASSERT_TRUE(UpsertBAndC().ok());
  ASSERT_TRUE(Write(&NodeplaneService::UpsertPods, Parse<v1::UpsertPodsRequest>(R"pb(
                pods {
                  key { namespace: "default" name: "web" }
                  ips: "10.244.2.5"
                  node_name: "node-b"
                }
              )pb"))
                  .ok())
      << "pods on a remote node are valid";
  v1::DeleteRemoteNodesRequest del;
  del.add_names("node-b");
  const grpc::Status st = Write(&NodeplaneService::DeleteRemoteNodes, del);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message().rfind("names[0]: ", 0), 0u) << st.error_message();
  EXPECT_NE(st.error_message().find("default/web"), std::string::npos) << st.error_message();
  EXPECT_EQ(Route("10.244.2.9"), SlotOf("node-b"));
}

struct BadRequest {
  std::string name;
  std::string text;
  grpc::StatusCode code;
  std::string prefix;
  friend void PrintTo(const BadRequest& c, std::ostream* os) { *os << c.name; }
};

class OverlayApiRejects : public OverlayApiTest,
                          public ::testing::WithParamInterface<BadRequest> {};

TEST_P(OverlayApiRejects, NamingTheFieldAndChangingNothing) {
  ASSERT_TRUE(UpsertBAndC().ok());
  const uint64_t before = applier_->generation();
  const grpc::Status st = Write(&NodeplaneService::UpsertRemoteNodes,
                                Parse<v1::UpsertRemoteNodesRequest>(GetParam().text));
  EXPECT_EQ(st.error_code(), GetParam().code) << st.error_message();
  EXPECT_EQ(st.error_message().rfind(GetParam().prefix, 0), 0u) << st.error_message();
  EXPECT_EQ(applier_->generation(), before);
  EXPECT_EQ(Route("10.244.2.9"), SlotOf("node-b"));
  EXPECT_EQ(applier_->state().remote_nodes.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Upsert, OverlayApiRejects,
    ::testing::ValuesIn(std::vector<BadRequest>{
        {"DuplicateNameInTheRequest",
         R"pb(remote_nodes { name: "x" underlay_address: "192.168.1.50" }
              remote_nodes { name: "x" underlay_address: "192.168.1.51" })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote_nodes[1].name: "},
        {"BadUnderlay", R"pb(remote_nodes { name: "x" underlay_address: "nope" })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote_nodes[0].underlay_address: "},
        {"CidrOverlapsThisNodes", R"pb(remote_nodes {
                                         name: "x"
                                         underlay_address: "192.168.1.50"
                                         pod_cidrs: "10.244.1.128/25"
                                       })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote node x: pod_cidrs: "},
        {"CidrOverlapsAnotherNodes", R"pb(remote_nodes {
                                            name: "x"
                                            underlay_address: "192.168.1.50"
                                            pod_cidrs: "10.244.3.0/25"
                                          })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote node x: pod_cidrs: "},
        {"UnderlayIsThisNodes",
         R"pb(remote_nodes { name: "x" underlay_address: "192.168.1.10" })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote node x: underlay_address: "},
        {"UnderlayTaken", R"pb(remote_nodes { name: "x" underlay_address: "192.168.1.20" })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote node x: underlay_address: "},
        {"NamedLikeThisNode",
         R"pb(remote_nodes { name: "node-a" underlay_address: "192.168.1.50" })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote node node-a: name: "},
        {"VniOutOfRange",
         R"pb(remote_nodes { name: "x" underlay_address: "192.168.1.50" vni: 16777216 })pb",
         grpc::StatusCode::INVALID_ARGUMENT, "remote_nodes[0].vni: "},
        {"TooManyRoutesForTheTable",
         R"pb(remote_nodes {
                name: "x"
                underlay_address: "192.168.1.50"
                pod_cidrs: "10.9.0.0/24"
                pod_cidrs: "10.9.1.0/24"
                pod_cidrs: "10.9.2.0/26"
                pod_cidrs: "10.9.3.0/26"
                pod_cidrs: "10.9.4.0/26"
                pod_cidrs: "10.9.5.0/26"
                pod_cidrs: "10.9.6.0/26"
              })pb",
         grpc::StatusCode::RESOURCE_EXHAUSTED, "remote_nodes: pod_cidrs: "},
    }),
    [](const auto& info) { return info.param.name; });

TEST_F(OverlayApiTest, SyncStateReplacesTheRemoteNodes) {
  ASSERT_TRUE(UpsertBAndC().ok());
  ASSERT_TRUE(Write(&NodeplaneService::SyncState, Parse<v1::SyncStateRequest>(R"pb(
                state {
                  node { name: "node-a" addresses: "192.168.1.10/24" pod_cidrs: "10.244.1.0/24" }
                  remote_nodes {
                    name: "node-c"
                    underlay_address: "192.168.1.30"
                    pod_cidrs: "10.244.3.0/24"
                  }
                  remote_nodes {
                    name: "node-e"
                    underlay_address: "192.168.1.50"
                    pod_cidrs: "10.244.5.0/24"
                  }
                }
              )pb"))
                  .ok());
  EXPECT_EQ(Route("10.244.2.9"), dp::Fib::kMiss);
  EXPECT_EQ(Route("10.244.3.9"), SlotOf("node-c"));
  EXPECT_EQ(Route("10.244.5.9"), SlotOf("node-e"));
  EXPECT_EQ(Snap().remotes.size(), 2u);
  const grpc::Status bad = Write(&NodeplaneService::SyncState, Parse<v1::SyncStateRequest>(R"pb(
    state {
      node { name: "node-a" addresses: "192.168.1.10/24" }
      remote_nodes { name: "node-c" underlay_address: "192.168.1.30" pod_cidrs: "10.244.3.0/33" }
    }
  )pb"));
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().rfind("state.remote_nodes[0].pod_cidrs[0]: ", 0), 0u)
      << bad.error_message();
}

TEST_F(OverlayApiTest, GetStateReturnsTheRemoteNodesAsWritten) {
  ASSERT_TRUE(UpsertBAndC().ok());
  v1::State state;
  ASSERT_TRUE(service_->GetState(nullptr, nullptr, &state).ok());
  ASSERT_EQ(state.remote_nodes_size(), 2);
  EXPECT_EQ(state.remote_nodes(1).name(), "node-c");
  EXPECT_EQ(state.remote_nodes(1).udp_port(), 8472u);
  EXPECT_EQ(state.remote_nodes(1).vtep_mac(), "02:00:00:00:0c:ee");
  EXPECT_EQ(state.remote_nodes(0).vni(), 0u) << "0 stays 0: the default, as written";
  EXPECT_EQ(state.node().vxlan().vni(), 42u);
}

TEST(DefaultPodMtu, IsTheUplinkMtuLessVxlanWithinThePodLimits) {
  RuntimePorts rt;
  EXPECT_EQ(DefaultPodMtu(rt), 1500u) << "no uplink";
  rt.uplink = RuntimePort{.mtu = 1500};
  EXPECT_EQ(DefaultPodMtu(rt), 1450u);
  rt.uplink->mtu = 9000;
  EXPECT_EQ(DefaultPodMtu(rt), 1900u) << "what one mbuf holds";
  rt.uplink->mtu = 600;
  EXPECT_EQ(DefaultPodMtu(rt), 576u);
}

// Services from outside whose backend runs on another node (control/compile/overlay_source.h):
// remote nodes' own addresses are routes to them, the snapshot carries the overlay address SNAT
// uses, and the explanation of a NodePort connection from outside names it.
TEST_F(OverlayApiTest, RemoteNodesAddressesAreRoutesToThem) {
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_EQ(Route("192.168.1.20"), SlotOf("node-b"));
  EXPECT_EQ(Route("192.168.1.30"), SlotOf("node-c"));
  EXPECT_EQ(Route("192.168.1.10"), dp::Fib::kMiss) << "our own address is not remote";
}

TEST_F(OverlayApiTest, OutsideClientsOfANodePortAreSnattedToTheOverlayAddress) {
  EXPECT_EQ(Snap().overlay.snat_ip, A("10.244.1.0").be);
  ASSERT_NO_FATAL_FAILURE(AttachServiceTables());
  ASSERT_TRUE(UpsertBAndC().ok());
  ASSERT_TRUE(UpsertNodePortWithOneEndpoint("web", "10.96.0.10", 8080, 30080, "10.244.2.7").ok());
  const v1::ExplainServiceBackendReply x = ExplainFromOutside(30080);
  EXPECT_EQ(x.backend(), "10.244.2.7:8080");
  EXPECT_EQ(x.snat_source(), "10.244.1.0") << "node-b accepts and routes back only our pod CIDR";
}

// A NodePort whose endpoint is another node's own address (a hostNetwork pod there): SNAT to our
// underlay address, as kube-proxy's masquerade, so that the connection stays on the underlay both
// ways (dataplane/stages/ip4_forward.h). Which addresses are nodes' follows the remote nodes: the
// Service is compiled again when one comes or goes, though the Service itself did not change.
TEST_F(OverlayApiTest, OutsideClientsOfANodePortWhoseEndpointIsAnotherNodeAreSnattedToOurAddress) {
  ASSERT_NO_FATAL_FAILURE(AttachServiceTables());
  ASSERT_TRUE(
      UpsertNodePortWithOneEndpoint("hostnet", "10.96.0.18", 8181, 30083, "192.168.1.20").ok());
  auto snat = [&] {
    const v1::ExplainServiceBackendReply x = ExplainFromOutside(30083);
    EXPECT_EQ(x.backend(), "192.168.1.20:8181");
    return x.snat_source();
  };
  EXPECT_EQ(snat(), "10.244.1.0") << "no node has that address yet: an ordinary backend";
  ASSERT_TRUE(UpsertBAndC().ok());
  EXPECT_EQ(snat(), "192.168.1.10") << "node-b's own address: our underlay address";
  v1::DeleteRemoteNodesRequest del;
  del.add_names("node-b");
  ASSERT_TRUE(Write(&NodeplaneService::DeleteRemoteNodes, del).ok());
  EXPECT_EQ(snat(), "10.244.1.0") << "node-b is gone";
}

}  // namespace
}  // namespace nodeplane::ctl
