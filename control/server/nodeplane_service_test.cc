// The API's contract for bad input, through a real gRPC server on a unix socket backed by the real
// Applier and EAL (no hugepages): every rejected request names its field, uses the right code, and
// leaves the state and the running generation exactly as they were.
#include "control/server/nodeplane_service.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "control/daemon/applier.h"
#include "control/model/from_proto.h"
#include "control/server/stats_reader.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/worker.h"
#include "google/protobuf/util/message_differencer.h"

namespace nodeplane::ctl {
namespace {

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dp::EalConfig cfg{.program = "nodeplane_service_test",
                      .lcores = "0",
                      .file_prefix = "np-api-test-" + std::to_string(getpid()),
                      .memory_mb = 128,
                      .force_no_huge = true};
    dp::EalInfo info;
    std::string error;
    ASSERT_TRUE(dp::StartEal(cfg, &info, &error)) << error;
    pool_ = dp::CreatePacketPool(1023, &error);
    ASSERT_NE(pool_, nullptr) << error;
  }

  static void TearDownTestSuite() {
    dp::StopEal();
    std::filesystem::remove_all("/var/run/dpdk/np-api-test-" + std::to_string(getpid()));
  }

  void SetUp() override {
    rcu_ = std::make_unique<dp::Rcu>(1);
    published_ = std::make_unique<dp::Published<dp::Snapshot>>(*rcu_);
    ports_ = std::make_unique<dp::Ports>(pool_, 1);
    applier_ = std::make_unique<Applier>(*ports_, *published_, RuntimePorts{.worker_count = 1},
                                         "none", PodPortType::kTap);
    ASSERT_TRUE(applier_->Start().ok());
    DaemonInfo info{.version = "test"};
    service_ = std::make_unique<NodeplaneService>(*applier_, info);
    socket_ = std::filesystem::temp_directory_path() /
              ("np-api-test-" + std::to_string(getpid()) + ".sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    builder.SetMaxReceiveMessageSize(1 << 20);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    stub_ = v1::Nodeplane::NewStub(channel_);

    v1::SetNodeRequest node;
    node.mutable_node()->set_name("node1");
    node.mutable_node()->add_addresses("10.77.0.11/24");
    node.mutable_node()->add_pod_cidrs("10.244.1.0/24");
    v1::WriteReply reply;
    ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SetNode, node, &reply).ok());
    v1::UpsertPodsRequest pods;
    AddPod(pods, "default", "a", "10.244.1.2");
    ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertPods, pods, &reply).ok());
    before_ = State();
  }

  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove(socket_);
  }

  template <typename Req, typename Rep>
  grpc::Status Call(grpc::Status (v1::Nodeplane::Stub::*rpc)(grpc::ClientContext*, const Req&,
                                                             Rep*),
                    const Req& req, Rep* rep) {
    grpc::ClientContext ctx;
    return (stub_.get()->*rpc)(&ctx, req, rep);
  }

  static v1::Pod* AddPod(v1::UpsertPodsRequest& req, const std::string& ns, const std::string& name,
                         const std::string& ip) {
    v1::Pod* p = req.add_pods();
    p->mutable_key()->set_namespace_(ns);
    p->mutable_key()->set_name(name);
    if (!ip.empty()) p->add_ips(ip);
    p->set_node_name("node1");
    return p;
  }

  v1::State State() {
    v1::State s;
    EXPECT_TRUE(Call(&v1::Nodeplane::Stub::GetState, v1::GetStateRequest(), &s).ok());
    return s;
  }

  // The request was rejected with `code`, its message names `field`, and nothing changed.
  void ExpectRejected(const grpc::Status& st, grpc::StatusCode code, const std::string& field) {
    EXPECT_EQ(st.error_code(), code) << st.error_message();
    EXPECT_NE(st.error_message().find(field), std::string::npos)
        << "message does not name " << field << ": " << st.error_message();
    const v1::State after = State();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before_, after))
        << "state changed:\nbefore: " << before_.ShortDebugString()
        << "\nafter:  " << after.ShortDebugString();
    EXPECT_EQ(published_->Get()->generation, before_.generation());
  }

  static inline rte_mempool* pool_ = nullptr;
  std::unique_ptr<dp::Rcu> rcu_;
  std::unique_ptr<dp::Published<dp::Snapshot>> published_;
  std::unique_ptr<dp::Ports> ports_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<NodeplaneService> service_;
  std::string socket_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Nodeplane::Stub> stub_;
  v1::State before_;
};

// Service and affinity tables attached to the applier for one test (detached at its end).
struct ServiceTables {
  explicit ServiceTables(Applier& a) : applier(a) {
    ok = table.Init(256, nullptr, &error) && affinity.Init(64, &error);
    if (ok) applier.SetServiceTables(&table, &affinity);
  }
  ~ServiceTables() { applier.SetServiceTables(nullptr, nullptr); }
  Applier& applier;
  dp::ServiceTable table;
  dp::AffinityTable affinity;
  std::string error;
  bool ok = false;
};

TEST_F(ApiTest, WriteRepliesCarryTheGenerationTheWorkersRun) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.3");
  v1::WriteReply reply;
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply).ok());
  EXPECT_EQ(reply.generation(), before_.generation() + 1);
  EXPECT_EQ(published_->Get()->generation, reply.generation());
  // Idempotent: the same upsert again is accepted and changes nothing but the generation.
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply).ok());
  EXPECT_EQ(State().pods_size(), 2);
}

TEST_F(ApiTest, WriteReplyIsSentOnlyOnceTheWorkerRunsItsGeneration) {
  // A real worker on its own thread (no ports: it just loops, picks up snapshots and echoes them).
  std::atomic<bool> stop{false};
  dp::Worker worker(0, *rcu_, *published_, dp::IdlePolicy{.max_sleep_us = 200});
  std::thread loop([&] { worker.Run(stop); });
  applier_->SetWorkerAck([&](uint64_t generation) {
    while (worker.generation() < generation) std::this_thread::yield();
  });
  for (int i = 0; i < 20; ++i) {
    v1::UpsertPodsRequest req;
    AddPod(req, "default", "b", "10.244.1." + std::to_string(10 + i));
    v1::WriteReply reply;
    ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply).ok());
    EXPECT_GE(worker.generation(), reply.generation()) << "replied before the worker ran it";
  }
  stop = true;
  loop.join();
}

TEST_F(ApiTest, MalformedAddressIsInvalidArgumentNamingTheField) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.3");
  AddPod(req, "default", "c", "10.244.1.300");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "pods[1].ips[0]");
}

TEST_F(ApiTest, MalformedNodeFieldsAreRejected) {
  v1::WriteReply reply;
  v1::SetNodeRequest req;
  req.mutable_node()->set_name("node1");
  req.mutable_node()->add_pod_cidrs("10.244.1.7/24");
  ExpectRejected(Call(&v1::Nodeplane::Stub::SetNode, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "node.pod_cidrs[0]");
  req.mutable_node()->clear_pod_cidrs();
  req.mutable_node()->add_addresses("10.77.0.11/40");
  ExpectRejected(Call(&v1::Nodeplane::Stub::SetNode, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "node.addresses[0]");
  req.mutable_node()->set_name("Not_A_Name");
  ExpectRejected(Call(&v1::Nodeplane::Stub::SetNode, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "node.name");
}

TEST_F(ApiTest, UnknownNodeIsRejected) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.3")->set_node_name("node-that-does-not-exist");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "node-that-does-not-exist");
}

TEST_F(ApiTest, DuplicatePodInOneRequestIsRejected) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.3");
  AddPod(req, "default", "b", "10.244.1.4");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "pods[1].key");
}

TEST_F(ApiTest, AddressAlreadyUsedByAnotherPodIsAlreadyExists) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.2");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply),
                 grpc::StatusCode::ALREADY_EXISTS, "default/a");
}

TEST_F(ApiTest, AttachToMissingNamespaceIsNotFound) {
  v1::AttachPodRequest req;
  req.mutable_key()->set_namespace_("default");
  req.mutable_key()->set_name("b");
  req.set_netns("/run/netns/np-api-test-no-such-namespace");
  req.add_ips("10.244.1.3");
  v1::AttachPodReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::AttachPod, req, &reply), grpc::StatusCode::NOT_FOUND,
                 "netns");
}

TEST_F(ApiTest, AttachWithBadFieldsIsInvalidArgument) {
  v1::AttachPodRequest req;
  req.mutable_key()->set_namespace_("default");
  req.mutable_key()->set_name("b");
  req.set_netns("/proc/self/ns/net");
  req.add_ips("10.244.1.3");
  req.set_mtu(9000);
  v1::AttachPodReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::AttachPod, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "mtu");
  req.set_mtu(0);
  req.set_interface("way-too-long-interface-name");
  ExpectRejected(Call(&v1::Nodeplane::Stub::AttachPod, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "interface");
  req.clear_interface();
  req.mutable_key()->set_name("");
  ExpectRejected(Call(&v1::Nodeplane::Stub::AttachPod, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "key.name");
}

TEST_F(ApiTest, DetachOfUnattachedPodIsNotFound) {
  v1::DetachPodRequest req;
  req.mutable_key()->set_namespace_("default");
  req.mutable_key()->set_name("a");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::DetachPod, req, &reply), grpc::StatusCode::NOT_FOUND,
                 "default/a");
}

TEST_F(ApiTest, Ipv6AddressesAreUnimplementedNotIgnored) {
  v1::WriteReply reply;
  v1::UpsertPodsRequest v6;
  AddPod(v6, "default", "b", "fd00::5");
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, v6, &reply),
                 grpc::StatusCode::UNIMPLEMENTED, "pods[0].ips[0]");
}

TEST_F(ApiTest, TooManyPodsInOneRequestIsInvalidArgument) {
  v1::UpsertPodsRequest req;
  for (int i = 0; i <= kMaxPodsPerRequest; ++i) AddPod(req, "default", "p" + std::to_string(i), "");
  v1::WriteReply reply;
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "pods");
}

TEST_F(ApiTest, OversizedRequestIsRefusedBeforeItIsApplied) {
  v1::UpsertPodsRequest req;
  v1::Pod* p = AddPod(req, "default", "b", "10.244.1.3");
  (*p->mutable_labels())["big"] = std::string(2 << 20, 'x');
  v1::WriteReply reply;
  const grpc::Status st = Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before_, State()));
}

TEST_F(ApiTest, TruncatedRequestBytesAreRefusedAndChangeNothing) {
  v1::UpsertPodsRequest req;
  AddPod(req, "default", "b", "10.244.1.3");
  std::string bytes = req.SerializeAsString();
  bytes.resize(bytes.size() - 3);  // cut inside the last field
  grpc::Slice slice(bytes);
  grpc::ByteBuffer send(&slice, 1), recv;
  grpc::GenericStub generic(channel_);
  grpc::ClientContext ctx;
  grpc::Status st;
  bool done = false;
  std::mutex mu;
  std::condition_variable cv;
  generic.UnaryCall(&ctx, "/nodeplane.v1.Nodeplane/UpsertPods", grpc::StubOptions(), &send, &recv,
                    [&](grpc::Status s) {
                      std::lock_guard lock(mu);
                      st = std::move(s);
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << "the method exists; the bytes are bad";
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before_, State()));
}

// Services and EndpointSlices.

v1::Service* AddService(v1::UpsertServicesRequest& req, const std::string& name,
                        const std::string& vip, uint32_t port,
                        v1::ServiceType type = v1::CLUSTER_IP, uint32_t node_port = 0,
                        v1::Protocol proto = v1::TCP) {
  v1::Service* s = req.add_services();
  s->mutable_key()->set_namespace_("default");
  s->mutable_key()->set_name(name);
  s->set_type(type);
  s->add_cluster_ips(vip);
  v1::ServicePort* p = s->add_ports();
  p->set_protocol(proto);
  p->set_port(port);
  p->set_target_port_number(8080);
  p->set_node_port(node_port);
  return s;
}

v1::EndpointSlice* AddSlice(v1::UpsertEndpointSlicesRequest& req, const std::string& name,
                            const std::string& service, const std::vector<std::string>& ips) {
  v1::EndpointSlice* s = req.add_endpoint_slices();
  s->mutable_key()->set_namespace_("default");
  s->mutable_key()->set_name(name);
  s->set_service_name(service);
  s->set_address_type("IPv4");
  for (const std::string& ip : ips) {
    v1::Endpoint* e = s->add_endpoints();
    e->add_addresses(ip);
    e->mutable_conditions()->set_ready(true);
    e->mutable_conditions()->set_serving(true);
    e->set_node_name("node1");
  }
  v1::EndpointPort* p = s->add_ports();
  p->set_protocol(v1::TCP);
  p->set_port(8080);
  return s;
}

TEST_F(ApiTest, ServicesAndSlicesAreStoredReadBackAndDeleted) {
  v1::WriteReply reply;
  v1::UpsertServicesRequest svc;
  AddService(svc, "web", "10.96.0.10", 80, v1::NODE_PORT, 30080);
  v1::Service* ext = svc.add_services();  // ExternalName: stored, never programmed
  ext->mutable_key()->set_namespace_("default");
  ext->mutable_key()->set_name("ext");
  ext->set_type(v1::EXTERNAL_NAME);
  v1::Service* headless = AddService(svc, "hl", "None", 80);
  headless->mutable_ports(0)->clear_target_port_number();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, svc, &reply).ok());
  EXPECT_EQ(published_->Get()->generation, reply.generation());
  v1::UpsertEndpointSlicesRequest eps;
  AddSlice(eps, "web-abc", "web", {"10.244.1.2", "10.244.2.7"});
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, eps, &reply).ok());

  v1::State st = State();
  ASSERT_EQ(st.services_size(), 3);
  const v1::Service& web = st.services(2);  // key order: ext, hl, web
  EXPECT_EQ(web.key().name(), "web");
  EXPECT_EQ(web.ports(0).node_port(), 30080u);
  EXPECT_EQ(web.cluster_ips(0), "10.96.0.10");
  EXPECT_EQ(st.services(1).cluster_ips(0), "None");
  EXPECT_EQ(st.services(1).ports(0).target_port_number(), 80u) << "targetPort defaults to port";
  ASSERT_EQ(st.endpoint_slices_size(), 1);
  EXPECT_EQ(st.endpoint_slices(0).endpoints_size(), 2);

  v1::DeleteServicesRequest del;
  *del.add_keys() = web.key();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::DeleteServices, del, &reply).ok());
  v1::DeleteEndpointSlicesRequest dels;
  *dels.add_keys() = st.endpoint_slices(0).key();
  dels.add_keys()->set_name("never-existed");  // unknown keys are ignored
  dels.mutable_keys(1)->set_namespace_("default");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::DeleteEndpointSlices, dels, &reply).ok());
  st = State();
  EXPECT_EQ(st.services_size(), 2);
  EXPECT_EQ(st.endpoint_slices_size(), 0);
}

TEST_F(ApiTest, InvalidServiceFieldsAreNamed) {
  v1::WriteReply reply;
  struct Case {
    std::function<void(v1::Service*)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::Service* s) { s->mutable_ports(0)->set_port(0); }, "services[1].ports[0].port"},
      {[](v1::Service* s) { s->mutable_ports(0)->set_port(70000); }, "services[1].ports[0].port"},
      {[](v1::Service* s) { s->mutable_ports(0)->set_protocol(static_cast<v1::Protocol>(9)); },
       "services[1].ports[0].protocol"},
      {[](v1::Service* s) { s->mutable_ports(0)->set_target_port_name("Not A Name"); },
       "services[1].ports[0].target_port_name"},
      {[](v1::Service* s) {
         s->set_type(v1::NODE_PORT);
         s->mutable_ports(0)->set_node_port(29999);
       },
       "services[1].ports[0].node_port: 29999 outside the NodePort range 30000-32767"},
      {[](v1::Service* s) { s->set_type(v1::NODE_PORT); }, "services[1].ports[0].node_port"},
      {[](v1::Service* s) { s->mutable_ports(0)->set_node_port(30001); },
       "services[1].ports[0].node_port"},  // a ClusterIP Service has none
      {[](v1::Service* s) { s->set_cluster_ips(0, "10.96.0.300"); }, "services[1].cluster_ips[0]"},
      {[](v1::Service* s) { s->add_external_ips("nope"); }, "services[1].external_ips[0]"},
      {[](v1::Service* s) { s->add_load_balancer_source_ranges("10.0.0.0/33"); },
       "services[1].load_balancer_source_ranges[0]"},
      {[](v1::Service* s) { s->mutable_client_ip_affinity()->set_timeout_seconds(86401); },
       "services[1].client_ip_affinity.timeout_seconds"},
      {[](v1::Service* s) {
         s->mutable_ports(0)->set_name("http");
         *s->add_ports() = s->ports(0);
       },
       "services[1].ports[1].name"},
      {[](v1::Service* s) { *s->add_ports() = s->ports(0); }, "services[1].ports[0].name"},
      {[](v1::Service* s) { s->mutable_key()->set_name("Web_1"); }, "services[1].key.name"},
      {[](v1::Service* s) { s->set_health_check_node_port(31000); },
       "services[1].health_check_node_port"},
  };
  for (const Case& c : cases) {
    v1::UpsertServicesRequest req;
    AddService(req, "ok", "10.96.0.9", 80);
    c.spoil(AddService(req, "web", "10.96.0.10", 80));
    ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertServices, req, &reply),
                   grpc::StatusCode::INVALID_ARGUMENT, c.field);
  }
}

TEST_F(ApiTest, NodePortCollisionsAndDuplicateVipsAreRejectedWhole) {
  v1::WriteReply reply;
  v1::UpsertServicesRequest first;
  AddService(first, "a", "10.96.0.10", 80, v1::NODE_PORT, 30080, v1::TCP);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, first, &reply).ok());
  before_ = State();

  // The same NodePort number and protocol on another Service.
  v1::UpsertServicesRequest clash;
  AddService(clash, "fine", "10.96.0.12", 80);
  AddService(clash, "b", "10.96.0.11", 80, v1::NODE_PORT, 30080, v1::TCP);
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertServices, clash, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "services[1].ports[0].node_port");
  // The same ClusterIP:port/protocol.
  v1::UpsertServicesRequest dup_vip;
  AddService(dup_vip, "c", "10.96.0.10", 80);
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertServices, dup_vip, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "services[0].cluster_ips[0]");
  // An external IP two Services claim on one port, within one request.
  v1::UpsertServicesRequest dup_ext;
  AddService(dup_ext, "d", "10.96.0.20", 80)->add_external_ips("203.0.113.250");
  AddService(dup_ext, "e", "10.96.0.21", 80)->add_external_ips("203.0.113.250");
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertServices, dup_ext, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "services[1].external_ips[0]");

  // TCP, UDP and SCTP may share a number; replacing a Service may keep its own NodePort.
  v1::UpsertServicesRequest share;
  AddService(share, "udp", "10.96.0.30", 53, v1::NODE_PORT, 30080, v1::UDP);
  AddService(share, "sctp", "10.96.0.31", 53, v1::NODE_PORT, 30080, v1::SCTP);
  AddService(share, "a", "10.96.0.10", 80, v1::NODE_PORT, 30080, v1::TCP);
  EXPECT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, share, &reply).ok());
  // A Service the proxy ignores claims nothing.
  v1::UpsertServicesRequest ignored;
  (*AddService(ignored, "other-proxy", "10.96.0.10", 80)
        ->mutable_labels())["service.kubernetes.io/service-proxy-name"] = "foo";
  EXPECT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, ignored, &reply).ok());
}

TEST_F(ApiTest, InvalidEndpointSlicesAreNamed) {
  v1::WriteReply reply;
  {
    v1::UpsertEndpointSlicesRequest req;
    AddSlice(req, "s1", "web", {"10.244.1.2", "10.244.1.999"});
    ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, req, &reply),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "endpoint_slices[0].endpoints[1].addresses[0]");
  }
  {
    v1::UpsertEndpointSlicesRequest req;
    AddSlice(req, "s1", "web", {"fd00::1"});
    ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, req, &reply),
                   grpc::StatusCode::UNIMPLEMENTED, "endpoint_slices[0].endpoints[0].addresses[0]");
  }
  {
    v1::UpsertEndpointSlicesRequest req;
    AddSlice(req, "s1", "web", {"10.244.1.2"})->mutable_ports(0)->set_port(0);
    ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, req, &reply),
                   grpc::StatusCode::INVALID_ARGUMENT, "endpoint_slices[0].ports[0].port");
  }
  {
    // More backends than a Service's table holds, over several slices: rejected whole.
    v1::UpsertEndpointSlicesRequest req;
    for (int s = 0; s < 5; ++s) {
      std::vector<std::string> ips;
      for (int i = 0; i < 1000; ++i) {
        ips.push_back("10." + std::to_string(100 + s) + "." + std::to_string(i / 250) + "." +
                      std::to_string(1 + i % 250));
      }
      AddSlice(req, "big-" + std::to_string(s), "web", ips);
    }
    ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, req, &reply),
                   grpc::StatusCode::INVALID_ARGUMENT, "endpoint_slices[0].endpoints");
  }
}

TEST_F(ApiTest, SyncStateCarriesServicesAndChecksThemWhole) {
  v1::WriteReply reply;
  v1::SyncStateRequest sync;
  *sync.mutable_state()->mutable_node() = before_.node();
  *sync.mutable_state()->mutable_pods() = before_.pods();
  v1::UpsertServicesRequest svcs;
  AddService(svcs, "a", "10.96.0.10", 80, v1::NODE_PORT, 30080);
  AddService(svcs, "b", "10.96.0.11", 80, v1::NODE_PORT, 30080);
  *sync.mutable_state()->mutable_services() = svcs.services();
  ExpectRejected(Call(&v1::Nodeplane::Stub::SyncState, sync, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "state.services[1].ports[0].node_port");
  sync.mutable_state()->mutable_services(1)->mutable_ports(0)->set_node_port(30081);
  v1::UpsertEndpointSlicesRequest eps;
  AddSlice(eps, "a-1", "a", {"10.244.1.2"});
  *sync.mutable_state()->mutable_endpoint_slices() = eps.endpoint_slices();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SyncState, sync, &reply).ok());
  const v1::State st = State();
  EXPECT_EQ(st.services_size(), 2);
  EXPECT_EQ(st.endpoint_slices_size(), 1);
}

TEST_F(ApiTest, ExplainServiceBackendSaysWhichBackendAndWhy) {
  ServiceTables tables(*applier_);
  ASSERT_TRUE(tables.ok) << tables.error;
  v1::WriteReply reply;
  v1::UpsertServicesRequest svc;
  AddService(svc, "web", "10.96.0.10", 80, v1::NODE_PORT, 30080);
  AddService(svc, "empty", "10.96.0.11", 80);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, svc, &reply).ok());
  v1::UpsertEndpointSlicesRequest eps;
  AddSlice(eps, "web-1", "web", {"10.244.1.2", "10.244.2.7"});
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, eps, &reply).ok());

  v1::ExplainServiceBackendRequest req;
  req.set_source_ip("198.51.100.9");
  req.set_destination_ip("10.77.0.11");  // the node's address: the NodePort
  req.set_destination_port(30080);
  req.set_protocol(v1::TCP);
  v1::ExplainServiceBackendReply x;
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).ok());
  EXPECT_EQ(x.service().name(), "web");
  EXPECT_EQ(x.address_kind(), "NodePort");
  EXPECT_TRUE(x.from_outside());
  EXPECT_EQ(x.outcome(), "translated");
  EXPECT_TRUE(x.backend() == "10.244.1.2:8080" || x.backend() == "10.244.2.7:8080") << x.backend();
  EXPECT_EQ(x.snat_source(), "10.77.0.11") << "eTP Cluster from outside: SNAT to the node";
  EXPECT_EQ(x.maglev_slots(), 211u);
  EXPECT_EQ(x.set_size(), 2u);
  // The same from a pod of this node: inside, no SNAT.
  req.set_source_ip("10.244.1.2");
  req.set_destination_ip("10.96.0.10");
  req.set_destination_port(80);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).ok());
  EXPECT_FALSE(x.from_outside());
  EXPECT_EQ(x.address_kind(), "ClusterIP");
  // No endpoints: rejected.
  req.set_destination_ip("10.96.0.11");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).ok());
  EXPECT_EQ(x.outcome(), "rejected");
  // Not a Service.
  req.set_destination_port(81);
  EXPECT_EQ(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// The node's zone and the endpoints' topology hints: stored, read back, and used — this node
// sends only to the endpoints hinted for its zone, and to all once it has no zone.
TEST_F(ApiTest, NodeZoneAndTopologyHintsAreReadBackAndChooseTheBackends) {
  ServiceTables tables(*applier_);
  ASSERT_TRUE(tables.ok) << tables.error;
  v1::WriteReply reply;
  v1::SetNodeRequest node;
  node.mutable_node()->set_name("node1");
  node.mutable_node()->add_addresses("10.77.0.11/24");
  node.mutable_node()->add_pod_cidrs("10.244.1.0/24");
  node.mutable_node()->set_zone("zone-a");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SetNode, node, &reply).ok());
  v1::UpsertServicesRequest svc;
  AddService(svc, "web", "10.96.0.10", 80);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, svc, &reply).ok());
  v1::UpsertEndpointSlicesRequest eps;
  v1::EndpointSlice* slice =
      AddSlice(eps, "web-1", "web", {"10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"});
  for (int i = 0; i < 4; ++i) {
    slice->mutable_endpoints(i)->add_zone_hints(i < 2 ? "zone-a" : "zone-b");
    slice->mutable_endpoints(i)->add_node_hints("node7");  // names no node here: ignored
  }
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, eps, &reply).ok());

  v1::State st = State();
  EXPECT_EQ(st.node().zone(), "zone-a");
  ASSERT_EQ(st.endpoint_slices_size(), 1);
  EXPECT_EQ(st.endpoint_slices(0).endpoints(2).zone_hints(0), "zone-b");
  ASSERT_EQ(st.endpoint_slices(0).endpoints(2).node_hints_size(), 1);
  EXPECT_EQ(st.endpoint_slices(0).endpoints(2).node_hints(0), "node7");

  v1::ExplainServiceBackendRequest req;
  req.set_source_ip("10.244.1.2");
  req.set_destination_ip("10.96.0.10");
  req.set_destination_port(80);
  req.set_protocol(v1::TCP);
  v1::ExplainServiceBackendReply x;
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).ok());
  EXPECT_EQ(x.set_size(), 2u) << "only zone-a's endpoints";
  EXPECT_TRUE(x.backend() == "10.244.1.3:8080" || x.backend() == "10.244.1.4:8080") << x.backend();

  node.mutable_node()->clear_zone();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SetNode, node, &reply).ok());
  EXPECT_EQ(State().node().zone(), "");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainServiceBackend, req, &x).ok());
  EXPECT_EQ(x.set_size(), 4u) << "no zone: the hints are ignored";

  before_ = State();
  node.mutable_node()->set_zone("zone a");
  ExpectRejected(Call(&v1::Nodeplane::Stub::SetNode, node, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "node.zone");
}

// Endpoint weights (a nodeplane extension): read back as given; one above the maximum rejects the
// whole request, naming the endpoint, and nothing of it is applied.
TEST_F(ApiTest, EndpointWeightsAreReadBackAndAWeightAboveTheMaximumRejectsTheRequest) {
  v1::WriteReply reply;
  v1::UpsertServicesRequest svc;
  AddService(svc, "web", "10.96.0.10", 80);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertServices, svc, &reply).ok());
  before_ = State();
  v1::UpsertEndpointSlicesRequest eps;
  AddSlice(eps, "web-1", "web", {"10.244.1.3"})->mutable_endpoints(0)->set_weight(3);
  v1::EndpointSlice* bad =
      AddSlice(eps, "web-2", "web", {"10.244.1.4", "10.244.1.5", "10.244.1.6"});
  bad->mutable_endpoints(2)->set_weight(170);
  const grpc::Status st = Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, eps, &reply);
  ExpectRejected(st, grpc::StatusCode::INVALID_ARGUMENT, "endpoint_slices[1].endpoints[2].weight");
  EXPECT_EQ(st.error_message(),
            "endpoint_slices[1].endpoints[2].weight: 170 above the maximum 100");

  bad->mutable_endpoints(2)->set_weight(100);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertEndpointSlices, eps, &reply).ok());
  const v1::State after = State();
  ASSERT_EQ(after.endpoint_slices_size(), 2);
  EXPECT_EQ(after.endpoint_slices(0).endpoints(0).weight(), 3u);
  EXPECT_EQ(after.endpoint_slices(1).endpoints(0).weight(), 0u) << "unset reads back unset";
  EXPECT_EQ(after.endpoint_slices(1).endpoints(2).weight(), 100u);
}

// ---- Namespaces and NetworkPolicies ----

v1::NetworkPolicy DenyAll(const std::string& ns, const std::string& name) {
  v1::NetworkPolicy p;
  p.mutable_key()->set_namespace_(ns);
  p.mutable_key()->set_name(name);
  p.mutable_pod_selector();
  return p;
}

TEST_F(ApiTest, PoliciesAndNamespacesAreStoredReadBackAndDeleted) {
  v1::WriteReply reply;
  v1::UpsertNamespacesRequest ns;
  ns.add_namespaces()->set_name("default");
  (*ns.mutable_namespaces(0)->mutable_labels())["team"] = "a";
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertNamespaces, ns, &reply).ok());
  const uint32_t policy_gen_before = published_->Get()->policy_generation;
  v1::UpsertNetworkPoliciesRequest pol;
  *pol.add_network_policies() = DenyAll("default", "deny-all");
  // A policy may name a namespace nobody has told us about yet.
  *pol.add_network_policies() = DenyAll("later", "deny-all");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertNetworkPolicies, pol, &reply).ok());
  EXPECT_EQ(published_->Get()->generation, reply.generation());
  EXPECT_NE(published_->Get()->policy_generation, policy_gen_before)
      << "a policy change moves the policy generation";
  v1::State s = State();
  ASSERT_EQ(s.namespaces_size(), 1);
  EXPECT_EQ(s.namespaces(0).labels().at("kubernetes.io/metadata.name"), "default");
  ASSERT_EQ(s.network_policies_size(), 2);
  EXPECT_EQ(s.network_policies(0).key().namespace_(), "default");

  v1::DeleteNetworkPoliciesRequest del;
  *del.add_keys() = pol.network_policies(0).key();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::DeleteNetworkPolicies, del, &reply).ok());
  v1::DeleteNamespacesRequest del_ns;
  del_ns.add_names("default");
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::DeleteNamespaces, del_ns, &reply).ok());
  s = State();
  EXPECT_EQ(s.namespaces_size(), 0);
  ASSERT_EQ(s.network_policies_size(), 1);
  EXPECT_EQ(s.network_policies(0).key().namespace_(), "later");
}

TEST_F(ApiTest, AnInvalidPolicyRejectsTheWholeRequest) {
  v1::WriteReply reply;
  v1::UpsertNetworkPoliciesRequest pol;
  *pol.add_network_policies() = DenyAll("default", "fine");
  v1::NetworkPolicy* bad = pol.add_network_policies();
  *bad = DenyAll("default", "bad");
  v1::NetworkPolicyPort* port = bad->add_ingress()->add_ports();
  port->set_port_number(80);
  port->set_end_port(79);
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertNetworkPolicies, pol, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT,
                 "network_policies[1].ingress[0].ports[0].end_port");
  pol.mutable_network_policies(1)->CopyFrom(pol.network_policies(0));
  ExpectRejected(Call(&v1::Nodeplane::Stub::UpsertNetworkPolicies, pol, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "network_policies[1].key: duplicate");
  v1::SyncStateRequest sync;
  *sync.mutable_state()->mutable_node() = before_.node();
  *sync.mutable_state()->mutable_pods() = before_.pods();
  sync.mutable_state()->add_namespaces()->set_name("Not_A_Label");
  ExpectRejected(Call(&v1::Nodeplane::Stub::SyncState, sync, &reply),
                 grpc::StatusCode::INVALID_ARGUMENT, "state.namespaces[0].name");
}

TEST_F(ApiTest, SyncStateCarriesPoliciesAndNamespaces) {
  v1::SyncStateRequest sync;
  *sync.mutable_state()->mutable_node() = before_.node();
  *sync.mutable_state()->mutable_pods() = before_.pods();
  sync.mutable_state()->add_namespaces()->set_name("default");
  *sync.mutable_state()->add_network_policies() = DenyAll("default", "deny-all");
  v1::WriteReply reply;
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SyncState, sync, &reply).ok());
  const v1::State s = State();
  EXPECT_EQ(s.namespaces_size(), 1);
  EXPECT_EQ(s.network_policies_size(), 1);
  // A sync without them removes them.
  sync.mutable_state()->clear_namespaces();
  sync.mutable_state()->clear_network_policies();
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::SyncState, sync, &reply).ok());
  EXPECT_EQ(State().network_policies_size(), 0);
}

TEST_F(ApiTest, ExplainPolicyNamesTheIsolatingAndTheAllowingPolicies) {
  v1::WriteReply reply;
  v1::UpsertPodsRequest pods;
  AddPod(pods, "default", "frontend", "10.244.1.20")->mutable_labels()->insert({"app", "frontend"});
  AddPod(pods, "default", "backend", "10.244.1.21")->mutable_labels()->insert({"app", "backend"});
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertPods, pods, &reply).ok());
  v1::UpsertNetworkPoliciesRequest pol;
  *pol.add_network_policies() = DenyAll("default", "default-deny-ingress");
  v1::NetworkPolicy* allow = pol.add_network_policies();
  *allow = DenyAll("default", "allow-frontend-to-backend");
  (*allow->mutable_pod_selector()->mutable_match_labels())["app"] = "backend";
  v1::NetworkPolicyRule* rule = allow->add_ingress();
  rule->add_ports()->set_port_number(8080);
  (*rule->add_peers()->mutable_pod_selector()->mutable_match_labels())["app"] = "frontend";
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::UpsertNetworkPolicies, pol, &reply).ok());

  v1::ExplainPolicyRequest req;
  req.set_source("default/frontend");
  req.set_destination("10.244.1.21");
  req.set_port(8080);
  v1::PolicyExplanation e;
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainPolicy, req, &e).ok());
  EXPECT_TRUE(e.allowed());
  EXPECT_EQ(e.destination_pod().name(), "backend");
  ASSERT_EQ(e.ingress().allowing_size(), 1);
  EXPECT_EQ(e.ingress().allowing(0).name(), "allow-frontend-to-backend");
  EXPECT_EQ(e.ingress().isolating_size(), 2);
  EXPECT_FALSE(e.egress().isolated());

  req.set_port(9090);
  ASSERT_TRUE(Call(&v1::Nodeplane::Stub::ExplainPolicy, req, &e).ok());
  EXPECT_FALSE(e.allowed());
  EXPECT_FALSE(e.ingress().allowed());
  EXPECT_EQ(e.ingress().allowing_size(), 0);
  EXPECT_EQ(e.ingress().pod().name(), "backend");

  req.set_source("default/nobody");
  EXPECT_EQ(Call(&v1::Nodeplane::Stub::ExplainPolicy, req, &e).error_code(),
            grpc::StatusCode::NOT_FOUND);
  req.set_source("10.244.1.300");
  const grpc::Status bad = Call(&v1::Nodeplane::Stub::ExplainPolicy, req, &e);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().rfind("source: ", 0), 0u) << bad.error_message();
}

TEST(PolicyDenials, OldestFirstWithTheDecidingPodAndDirection) {
  DesiredState state;
  PodModel a{.key = {"x", "a"}, .ips = {*Ip4::Parse("10.244.1.10")}};
  PodModel b{.key = {"y", "b"}, .ips = {*Ip4::Parse("10.244.1.11")}};
  state.pods[a.key] = a;
  state.pods[b.key] = b;
  dp::PolicyDenyRing ring;
  // More than the ring holds: only the last kSize survive, oldest first.
  for (uint32_t i = 0; i < dp::PolicyDenyRing::kSize + 3; ++i) {
    const bool egress = i % 2 == 0;
    ring.Record(
        dp::PolicyDeny{a.ips[0].be, b.ips[0].be, static_cast<uint16_t>(1000 + i), 6,
                       egress ? dp::PolicyDirection::kEgress : dp::PolicyDirection::kIngress});
  }
  v1::Stats out;
  AddPolicyDenials(out, state, 2, ring);
  ASSERT_EQ(out.recent_policy_denials_size(), static_cast<int>(dp::PolicyDenyRing::kSize));
  const v1::PolicyDenial& first = out.recent_policy_denials(0);
  EXPECT_EQ(first.port(), 1003u);
  EXPECT_EQ(first.worker(), 2u);
  EXPECT_EQ(first.direction(), v1::INGRESS);
  EXPECT_EQ(first.pod().name(), "b") << "ingress: the destination decided";
  const v1::PolicyDenial& second = out.recent_policy_denials(1);
  EXPECT_EQ(second.direction(), v1::EGRESS);
  EXPECT_EQ(second.pod().name(), "a") << "egress: the source decided";
  EXPECT_EQ(second.source_ip(), "10.244.1.10");
  EXPECT_EQ(second.destination_ip(), "10.244.1.11");
  EXPECT_EQ(second.ip_protocol(), 6u);
}

}  // namespace
}  // namespace nodeplane::ctl
