// Services through the Applier into the long-lived service table: the right keys and backends,
// per-Service updates that leave other Services' entries untouched, ignored Services without
// keys, named target ports, UDP conntrack flushes for backends that disappear, and changes
// rejected whole — by the claim check or by the table's capacity after the model was edited —
// that leave the model, the table and the generation exactly as they were.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dataplane/testing/test_eal.h"
#include "control/daemon/applier.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }


class RecordingFlusher : public ConntrackFlusher {
 public:
  size_t FlushUdpToBackend(uint32_t ip_be, uint16_t port_be) override {
    flushed.insert({ip_be, port_be});
    return 0;
  }
  std::set<std::pair<uint32_t, uint16_t>> flushed;
};

ServiceModel Svc(const std::string& name, const char* vip, uint16_t port,
                 L4Protocol proto = L4Protocol::kTcp) {
  ServiceModel s;
  s.key = {"default", name};
  s.cluster_ips = {A(vip)};
  s.ports = {ServicePortModel{"", proto, port, 8080, "", 0}};
  return s;
}

EndpointSliceModel Slice(const std::string& name, const std::string& svc,
                         const std::vector<std::pair<const char*, const char*>>& eps,
                         L4Protocol proto = L4Protocol::kTcp, uint16_t port = 8080) {
  EndpointSliceModel s;
  s.key = {"default", name};
  s.service_name = svc;
  for (const auto& [ip, node] : eps) {
    EndpointModel e;
    e.address = A(ip);
    e.node_name = node;
    s.endpoints.push_back(e);
  }
  s.ports = {EndpointPortModel{"", proto, port}};
  return s;
}

class ServiceApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::testing::Eal("svcapply");  // once per binary, before anything takes EAL memory
    rcu_ = std::make_unique<dp::Rcu>(1);
    std::string error;
    ASSERT_TRUE(table_.Init(4096, rcu_->qsbr(), &error)) << error;
    ASSERT_TRUE(affinity_.Init(1024, &error)) << error;
    published_ = std::make_unique<dp::Published<dp::Snapshot>>(*rcu_);
    ports_ = std::make_unique<dp::Ports>(dp::testing::Eal("svcapply").pool, 1);
    applier_ = std::make_unique<Applier>(*ports_, *published_, RuntimePorts{.worker_count = 1},
                                         "none", PodPortType::kTap);
    applier_->SetServiceTables(&table_, &affinity_);
    applier_->SetConntrackFlusher(&flusher_);
    ASSERT_TRUE(applier_->Start().ok());
    NodeModel node;
    node.name = "node1";
    node.addresses = {Ip4Prefix{A("10.77.0.11"), 24}, Ip4Prefix{A("10.77.1.11"), 24}};
    node.pod_cidrs = {*Ip4Prefix::Parse("10.244.1.0/24")};
    node.pod_gateway = A("169.254.1.1");
    ASSERT_TRUE(applier_->SetNode(node).ok());
  }

  const dp::ServiceEntry* Find(const char* ip, uint16_t port, uint8_t proto = IPPROTO_TCP) {
    return table_.Lookup(dp::ServiceTableKey{A(ip).be, Be16(port), proto, 0});
  }
  static std::set<std::string> Backends(const dp::ServiceEntry* e) {
    std::set<std::string> out;
    for (uint16_t i = 0; i < e->n_backends; ++i) {
      out.insert(Ip4{e->backends[i].ip_be}.ToString() + ":" +
                 std::to_string(Be16(e->backends[i].port_be)));
    }
    return out;
  }

  std::unique_ptr<dp::Rcu> rcu_;
  dp::ServiceTable table_;
  dp::AffinityTable affinity_;
  RecordingFlusher flusher_;
  std::unique_ptr<dp::Published<dp::Snapshot>> published_;
  std::unique_ptr<dp::Ports> ports_;
  std::unique_ptr<Applier> applier_;
};

TEST_F(ServiceApplierTest, ClusterIpAndNodePortOnEveryNodeAddressGetTheSlicesBackends) {
  ServiceModel web = Svc("web", "10.96.0.10", 80);
  web.type = ServiceType::kNodePort;
  web.ports[0].node_port = 30080;
  ASSERT_TRUE(applier_->UpsertServices({web}).ok());
  const dp::ServiceEntry* none = Find("10.96.0.10", 80);
  ASSERT_NE(none, nullptr);
  EXPECT_FALSE(none->has_any_endpoint) << "no slice yet: REJECT";
  ASSERT_TRUE(applier_
                  ->UpsertEndpointSlices({Slice("web-1", "web", {{"10.244.1.2", "node1"},
                                                                 {"10.244.2.5", "node2"}},
                                                L4Protocol::kTcp, 8443)})
                  .ok());
  const dp::ServiceEntry* vip = Find("10.96.0.10", 80);
  ASSERT_NE(vip, nullptr);
  EXPECT_EQ(published_->Get()->services, &table_);
  EXPECT_TRUE(vip->has_any_endpoint);
  EXPECT_EQ(vip->kind, dp::ServiceAddressKind::kClusterIp);
  EXPECT_EQ(Backends(vip), (std::set<std::string>{"10.244.1.2:8443", "10.244.2.5:8443"}))
      << "the slice's port, not the Service's targetPort";
  EXPECT_EQ(vip->cluster_slots, 211u);
  for (const char* addr : {"10.77.0.11", "10.77.1.11"}) {
    const dp::ServiceEntry* np = Find(addr, 30080);
    ASSERT_NE(np, nullptr) << addr;
    EXPECT_EQ(np->kind, dp::ServiceAddressKind::kNodePort);
    EXPECT_EQ(np->snat_ip_be, A(addr).be) << "SNAT to the address the client called";
  }
  EXPECT_EQ(Find("10.96.0.10", 80, IPPROTO_UDP), nullptr);
  EXPECT_EQ(Find("10.96.0.10", 30080), nullptr);
  ASSERT_TRUE(applier_->DeleteServices({web.key}).ok());
  EXPECT_EQ(Find("10.96.0.10", 80), nullptr);
  EXPECT_EQ(Find("10.77.0.11", 30080), nullptr);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(ServiceApplierTest, AChangeToOneServiceLeavesEveryOtherEntryInPlace) {
  std::vector<ServiceModel> svcs;
  std::vector<EndpointSliceModel> slices;
  std::vector<std::string> vips;
  for (int i = 0; i < 50; ++i) {
    vips.push_back("10.96.1." + std::to_string(i + 1));
    const std::string name = "s" + std::to_string(i);
    svcs.push_back(Svc(name, vips.back().c_str(), 80));
    const std::string ep = "10.244.2." + std::to_string(i + 1);
    slices.push_back(Slice(name + "-1", name, {{ep.c_str(), "node2"}}));
  }
  ASSERT_TRUE(applier_->UpsertServices(svcs).ok());
  ASSERT_TRUE(applier_->UpsertEndpointSlices(slices).ok());
  std::vector<const dp::ServiceEntry*> before;
  for (const std::string& v : vips) before.push_back(Find(v.c_str(), 80));
  ASSERT_TRUE(applier_->UpsertEndpointSlices(
                          {Slice("s7-1", "s7", {{"10.244.2.8", "node2"}, {"10.244.3.9", "node3"}})})
                  .ok());
  for (size_t i = 0; i < vips.size(); ++i) {
    const dp::ServiceEntry* now = Find(vips[i].c_str(), 80);
    if (i == 7) {
      EXPECT_NE(now, before[i]);
      EXPECT_EQ(now->n_backends, 2);
    } else {
      EXPECT_EQ(now, before[i]) << vips[i] << " was replaced by a change to another Service";
    }
  }
  // A pod change recompiles no Service (none uses named ports).
  PodModel pod{{"default", "p"}, {A("10.244.1.9")}, {}, "node1", {}};
  ASSERT_TRUE(applier_->UpsertPods({pod}).ok());
  EXPECT_EQ(Find(vips[3].c_str(), 80), before[3]);
}

TEST_F(ServiceApplierTest, IgnoredServicesGetNoEntries) {
  ServiceModel ext;
  ext.key = {"default", "ext"};
  ext.type = ServiceType::kExternalName;
  ServiceModel headless = Svc("hl", "10.96.0.20", 80);
  headless.cluster_ips.clear();
  headless.headless = true;
  ServiceModel other = Svc("other", "10.96.0.21", 80);
  other.labels[kServiceProxyNameLabel] = "someone-else";
  ServiceModel marked = Svc("marked", "10.96.0.22", 80);
  marked.labels[kHeadlessLabel] = "";
  ASSERT_TRUE(applier_->UpsertServices({ext, headless, other, marked}).ok());
  ASSERT_TRUE(applier_->UpsertEndpointSlices({Slice("hl-1", "hl", {{"10.244.1.2", "node1"}}),
                                              Slice("other-1", "other", {{"10.244.1.3", "node1"}})})
                  .ok());
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(applier_->state().services->services.size(), 4u) << "stored all the same";
}

TEST_F(ServiceApplierTest, NamedTargetPortsResolvePerPod) {
  ServiceModel web = Svc("web", "10.96.0.10", 80);
  web.ports[0].target_port = 0;
  web.ports[0].target_port_name = "http";
  PodModel a{{"default", "a"}, {A("10.244.1.2")}, {}, "node1", {{"http", 8080, L4Protocol::kTcp}}};
  PodModel b{{"default", "b"}, {A("10.244.1.3")}, {}, "node1", {{"http", 9090, L4Protocol::kTcp}}};
  ASSERT_TRUE(applier_->UpsertPods({a, b}).ok());
  ASSERT_TRUE(applier_->UpsertServices({web}).ok());
  EndpointSliceModel s = Slice("web-1", "web", {{"10.244.1.2", "node1"}, {"10.244.1.3", "node1"}});
  s.ports.clear();  // no resolved ports in the slice: the pods' container ports decide
  s.endpoints[0].target_pod = a.key;
  s.endpoints[1].target_pod = b.key;
  ASSERT_TRUE(applier_->UpsertEndpointSlices({s}).ok());
  EXPECT_EQ(Backends(Find("10.96.0.10", 80)),
            (std::set<std::string>{"10.244.1.2:8080", "10.244.1.3:9090"}));
  // Pod b renames its port: b no longer serves "http".
  b.ports[0].name = "web";
  ASSERT_TRUE(applier_->UpsertPods({b}).ok());
  EXPECT_EQ(Backends(Find("10.96.0.10", 80)), (std::set<std::string>{"10.244.1.2:8080"}));
}

TEST_F(ServiceApplierTest, LocalPoliciesGetALocalTableOfThisNodesEndpoints) {
  ServiceModel web = Svc("web", "10.96.0.10", 80);
  web.type = ServiceType::kNodePort;
  web.ports[0].node_port = 30080;
  web.external_policy = TrafficPolicy::kLocal;
  ASSERT_TRUE(applier_->UpsertServices({web}).ok());
  ASSERT_TRUE(applier_
                  ->UpsertEndpointSlices({Slice("web-1", "web", {{"10.244.1.2", "node1"},
                                                                 {"10.244.2.5", "node2"}})})
                  .ok());
  const dp::ServiceEntry* np = Find("10.77.0.11", 30080);
  ASSERT_NE(np, nullptr);
  EXPECT_TRUE(np->external_local);
  ASSERT_GT(np->local_slots, 0u);
  for (uint32_t i = 0; i < np->local_slots; ++i) {
    ASSERT_EQ(Ip4{np->backends[np->local_table[i]].ip_be}, A("10.244.1.2"));
  }
  std::set<uint16_t> cluster(np->cluster_table, np->cluster_table + np->cluster_slots);
  EXPECT_EQ(cluster.size(), 2u) << "in-cluster traffic still uses every endpoint";
}

TEST_F(ServiceApplierTest, RemovedUdpBackendsAreFlushedFromConntrack) {
  ASSERT_TRUE(applier_->UpsertServices({Svc("dns", "10.96.0.53", 53, L4Protocol::kUdp),
                                        Svc("web", "10.96.0.80", 80)})
                  .ok());
  ASSERT_TRUE(applier_
                  ->UpsertEndpointSlices(
                      {Slice("dns-1", "dns", {{"10.244.1.2", "node1"}, {"10.244.2.5", "node2"}},
                             L4Protocol::kUdp, 5353),
                       Slice("web-1", "web", {{"10.244.1.7", "node1"}, {"10.244.2.7", "node2"}})})
                  .ok());
  EXPECT_TRUE(flusher_.flushed.empty());
  ASSERT_TRUE(applier_
                  ->UpsertEndpointSlices(
                      {Slice("dns-1", "dns", {{"10.244.1.2", "node1"}}, L4Protocol::kUdp, 5353),
                       Slice("web-1", "web", {{"10.244.1.7", "node1"}})})
                  .ok());
  EXPECT_EQ(flusher_.flushed, (std::set<std::pair<uint32_t, uint16_t>>{
                                  {A("10.244.2.5").be, Be16(5353)}}))
      << "only the UDP backend that went away (TCP ends by itself)";
}

TEST_F(ServiceApplierTest, HealthCheckNodePortsFollowTheServices) {
  HealthCheckServer server;
  applier_->SetHealthCheckServer(&server);
  ServiceModel lb = Svc("lb", "10.96.0.10", 80);
  lb.type = ServiceType::kLoadBalancer;
  lb.ports[0].node_port = 30080;
  lb.external_policy = TrafficPolicy::kLocal;
  lb.health_check_node_port = 0;  // set below to a port free on this machine
  for (uint16_t p = static_cast<uint16_t>(31000 + getpid() % 1000); p < 32767; ++p) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(p);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (free) {
      lb.health_check_node_port = p;
      break;
    }
  }
  ASSERT_NE(lb.health_check_node_port, 0);
  ASSERT_TRUE(applier_->UpsertServices({lb}).ok());
  EXPECT_EQ(server.ports(), std::vector<uint16_t>{lb.health_check_node_port});
  ASSERT_TRUE(applier_->DeleteServices({lb.key}).ok());
  EXPECT_TRUE(server.ports().empty()) << "the port is released with the Service";
  applier_->SetHealthCheckServer(nullptr);
}

// Everything a user could observe of the Services: the model, the entries and the generation.
struct Observed {
  ServiceState model;
  uint64_t generation;
  size_t table_size;
  std::map<ServiceKey, CompiledService> installed;
};

TEST_F(ServiceApplierTest, RejectedChangesLeaveTheModelTheTableAndTheGenerationAsBefore) {
  ServiceModel a = Svc("a", "10.96.0.10", 80);
  a.type = ServiceType::kNodePort;
  a.ports[0].node_port = 30080;
  ASSERT_TRUE(applier_->UpsertServices({a, Svc("b", "10.96.0.11", 80)}).ok());
  ASSERT_TRUE(applier_
                  ->UpsertEndpointSlices({Slice("a-1", "a", {{"10.244.1.2", "node1"}}),
                                          Slice("b-1", "b", {{"10.244.2.3", "node2"}})})
                  .ok());
  auto observe = [&] {
    return Observed{*applier_->state().services, applier_->generation(), table_.size(),
                    applier_->installed_services()};
  };
  const Observed before = observe();
  const dp::ServiceEntry* a_entry = Find("10.96.0.10", 80);
  const dp::ServiceEntry* b_entry = Find("10.96.0.11", 80);
  auto unchanged = [&](const char* what) {
    const Observed now = observe();
    EXPECT_EQ(now.model, before.model) << what;
    EXPECT_EQ(now.generation, before.generation) << what;
    EXPECT_EQ(now.table_size, before.table_size) << what;
    EXPECT_EQ(now.installed.size(), before.installed.size()) << what;
    for (const auto& [key, c] : before.installed) {
      ASSERT_TRUE(now.installed.contains(key)) << what;
      EXPECT_EQ(now.installed.at(key).entries, c.entries) << what << ": " << key.ToString();
    }
    EXPECT_EQ(Find("10.96.0.10", 80), a_entry) << what;
    EXPECT_EQ(Find("10.96.0.11", 80), b_entry) << what;
  };

  // 1. The claim check: b changes (new VIP), c takes a's NodePort — neither is applied.
  ServiceModel c = Svc("c", "10.96.0.12", 80);
  c.type = ServiceType::kNodePort;
  c.ports[0].node_port = 30080;
  auto clash = applier_->UpsertServices({Svc("b", "10.96.0.21", 80), c});
  ASSERT_EQ(clash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(clash.status().message(),
            "services[1].ports[0].node_port: NodePort 30080/TCP is already used by Service "
            "default/a");
  unchanged("after a NodePort clash");

  // 2. The table's capacity, found only after the model was edited: a moves its NodePort and a
  //    new Service has more external IPs than the table holds keys. All of it is taken back.
  ServiceModel moved = a;
  moved.ports[0].node_port = 30090;
  ServiceModel big = Svc("big", "10.96.0.30", 80);
  for (uint32_t i = 0; i < 4100; ++i) big.external_ips.push_back(Ip4::FromHost(0xcb007100u + i));
  auto full = applier_->UpsertServices({moved, big});
  ASSERT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
  unchanged("after a change too big for the table");
  // The claims were taken back too: a still holds 30080, and 30090 and big's addresses are free.
  ServiceModel x = Svc("x", "10.96.0.40", 80);
  x.type = ServiceType::kNodePort;
  x.ports[0].node_port = 30080;
  EXPECT_EQ(applier_->UpsertServices({x}).status().code(), absl::StatusCode::kInvalidArgument);
  x.ports[0].node_port = 30090;
  x.external_ips = {big.external_ips[7]};
  EXPECT_TRUE(applier_->UpsertServices({x}).ok());
  EXPECT_NE(Find("10.77.0.11", 30090), nullptr);
  EXPECT_EQ(Find("10.96.0.10", 80), a_entry) << "a's entry was never replaced";
}

TEST_F(ServiceApplierTest, AReadersStateNeverChangesUnderIt) {
  ASSERT_TRUE(applier_->UpsertServices({Svc("a", "10.96.0.10", 80)}).ok());
  ASSERT_TRUE(applier_->UpsertEndpointSlices({Slice("a-1", "a", {{"10.244.1.2", "node1"}})}).ok());
  const DesiredState read = applier_->state();  // as GetState holds it while it answers
  const ServiceState seen = *read.services;
  ASSERT_TRUE(applier_->UpsertEndpointSlices({Slice("a-1", "a", {{"10.244.1.3", "node1"}})}).ok());
  ASSERT_TRUE(applier_->DeleteServices({{"default", "a"}}).ok());
  EXPECT_EQ(*read.services, seen);
  EXPECT_TRUE(applier_->state().services->services.empty());
}

TEST_F(ServiceApplierTest, ChangesAfterASyncAreCheckedAgainstTheSyncedServices) {
  ServiceModel a = Svc("a", "10.96.0.10", 80);
  a.type = ServiceType::kNodePort;
  a.ports[0].node_port = 30080;
  ASSERT_TRUE(applier_->UpsertServices({a}).ok());
  ServiceModel s = Svc("s", "10.96.0.20", 80);
  s.type = ServiceType::kNodePort;
  s.ports[0].node_port = 30081;
  auto synced = std::make_shared<ServiceState>();
  synced->services[s.key] = s;
  ASSERT_TRUE(applier_->Sync(*applier_->state().node, {}, {}, synced).ok());
  EXPECT_EQ(Find("10.96.0.10", 80), nullptr) << "a went with the sync";
  ServiceModel b = Svc("b", "10.96.0.11", 80);
  b.type = ServiceType::kNodePort;
  b.ports[0].node_port = 30080;
  EXPECT_TRUE(applier_->UpsertServices({b}).ok()) << "a's NodePort is free since the sync";
  b.ports[0].node_port = 30081;
  auto clash = applier_->UpsertServices({b});
  EXPECT_EQ(clash.status().message(),
            "services[0].ports[0].node_port: NodePort 30081/TCP is already used by Service "
            "default/s");
}

}  // namespace
}  // namespace nodeplane::ctl
