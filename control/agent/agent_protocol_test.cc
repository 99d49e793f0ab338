// nodeplane-agent against the Kubernetes list/watch protocol: a test API server (Python, serving
// real Kubernetes JSON over HTTP or HTTPS, testdata/test_apiserver.py) and a fake nodeplaned on a
// unix socket. Asserts what nodeplaned is told: a full sync once everything is listed, deltas
// after, bookmarks, 410 relists, reconnects, token rotation, nodeplaned restarts.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "control/agent/agent.h"
#include "control/agent/fake_nodeplane.h"

namespace nodeplane::agent {
namespace {

using testing::FakeNodeplaneServer;

// Waits for a condition the agent reaches asynchronously (never a fixed sleep).
template <typename Fn>
bool WaitFor(Fn fn, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return fn();
}

// The test API server as a child process, driven over its stdin/stdout.
class ApiServer {
 public:
  explicit ApiServer(const std::vector<std::string>& extra_args = {}) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<std::string> args = {"/usr/bin/python3", NP_TEST_APISERVER};
      args.insert(args.end(), extra_args.begin(), extra_args.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    port_ = ReadReply().at("port").get<int>();
  }
  ~ApiServer() {
    fclose(to_);
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    fclose(from_);
  }
  int port() const { return port_; }

  Json Command(const Json& cmd) {
    const std::string line = cmd.dump() + "\n";
    fputs(line.c_str(), to_);
    fflush(to_);
    Json reply = ReadReply();
    EXPECT_FALSE(reply.contains("error")) << reply.dump();
    return reply;
  }
  void Upsert(const std::string& path, const Json& object) {
    Command({{"op", "upsert"}, {"path", path}, {"object", object}});
  }
  // Requests to a path, oldest first.
  std::vector<Json> Requests(const std::string& path) {
    std::vector<Json> out;
    const Json reply = Command({{"op", "requests"}});
    for (const Json& r : reply["requests"]) {
      if (r["path"] == path) out.push_back(r);
    }
    return out;
  }
  std::vector<Json> Watches(const std::string& path) {
    std::vector<Json> out;
    for (const Json& r : Requests(path)) {
      if (r["query"].value("watch", "") == "1") out.push_back(r);
    }
    return out;
  }
  int OpenWatches(const std::string& path) {
    return Command({{"op", "watchers"}, {"path", path}})["count"].get<int>();
  }

 private:
  Json ReadReply() {
    char buf[1 << 16];
    std::string line;
    while (fgets(buf, sizeof buf, from_) != nullptr) {
      line += buf;
      if (!line.empty() && line.back() == '\n') break;
    }
    if (line.empty()) return Json{{"error", "test API server exited"}};
    return Json::parse(line);
  }

  pid_t pid_;
  FILE* to_;
  FILE* from_;
  int port_;
};

constexpr char kPods[] = "/api/v1/pods";
constexpr char kServices[] = "/api/v1/services";
constexpr char kNodes[] = "/api/v1/nodes";

Json PodJson(const std::string& name, const std::string& ip, const std::string& node = "node-a") {
  return {{"apiVersion", "v1"}, {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", {{"app", name}}}}},
          {"spec", {{"nodeName", node}, {"containers", Json::array()}}},
          {"status", {{"phase", "Running"}, {"podIPs", {{{"ip", ip}}}}}}};
}

Json ServiceJson(const std::string& name, const std::string& ip, int port = 80) {
  return {{"apiVersion", "v1"}, {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec", {{"type", "ClusterIP"}, {"clusterIPs", {ip}},
                    {"ports", {{{"name", "http"}, {"port", port}, {"targetPort", 8080}}}}}}};
}

Json NodeJson(const std::string& name, const std::string& ip, const std::string& cidr) {
  return {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}},
          {"spec", {{"podCIDRs", {cidr}}}},
          {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", ip}}}}}}};
}

class AgentProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("np-agent-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    nodeplaned_ = std::make_unique<FakeNodeplaneServer>((dir_ / "np.sock").string());
    v1::Node node;
    node.set_name("node-a");
    node.add_addresses("192.168.1.11/24");
    node.mutable_vxlan()->set_udp_port(8472);
    nodeplaned_->service().SetInitialNode(node);
    stub_ = nodeplaned_->NewStub();
  }
  void TearDown() override {
    StopAgent();
    std::filesystem::remove_all(dir_);
  }

  void Seed(ApiServer& api) {
    api.Upsert("/api/v1/namespaces", {{"metadata", {{"name", "shop"}}}});
    api.Upsert(kNodes, NodeJson("node-a", "192.168.1.11", "10.244.1.0/24"));
    api.Upsert(kNodes, NodeJson("node-b", "192.168.1.12", "10.244.2.0/24"));
    api.Upsert(kPods, PodJson("web", "10.244.1.5"));
    api.Upsert(kPods, PodJson("db", "10.244.2.7", "node-b"));
    api.Upsert(kServices, ServiceJson("web", "10.96.0.10"));
  }

  void StartAgent(KubeConfig config) {
    client_ = std::make_unique<KubeClient>(std::move(config));
    AgentOptions o;
    o.push.node_name = "node-a";
    o.reflector.backoff_initial = std::chrono::milliseconds(20);
    o.reflector.backoff_max = std::chrono::milliseconds(200);
    o.probe_interval = std::chrono::milliseconds(50);
    o.reflector.watch_timeout = watch_timeout_;
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> l(log_mu_);
      log_.push_back(line);
    };
    agent_ = std::make_unique<Agent>(*client_, *stub_, o);
    stop_ = false;
    thread_ = std::thread([this] { agent_->Run(stop_); });
  }
  void StartAgent(ApiServer& api) {
    KubeConfig c;
    c.server = "http://127.0.0.1:" + std::to_string(api.port());
    StartAgent(c);
  }
  void StopAgent() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> l(log_mu_);
    return log_;
  }
  bool LogHas(const std::string& text) {
    for (const auto& l : Log()) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }

  v1::State State() { return nodeplaned_->service().state(); }
  bool HasService(const std::string& name, int port = 0) {
    const v1::State state = State();
    for (const auto& s : state.services()) {
      if (s.key().name() == name && (port == 0 || s.ports(0).port() == static_cast<uint32_t>(port))) {
        return true;
      }
    }
    return false;
  }
  bool HasPod(const std::string& name) {
    const v1::State state = State();
    for (const auto& p : state.pods()) {
      if (p.key().name() == name) return true;
    }
    return false;
  }
  // Full seed programmed: what a restart of either side must bring back.
  bool Seeded() {
    v1::State s = State();
    return s.pods_size() == 2 && s.services_size() == 1 && s.namespaces_size() == 1 &&
           s.remote_nodes_size() == 1 && s.node().pod_cidrs_size() == 1;
  }
  int Syncs() { return nodeplaned_->service().count("SyncState"); }

  std::filesystem::path dir_;
  std::unique_ptr<FakeNodeplaneServer> nodeplaned_;
  std::unique_ptr<v1::Nodeplane::Stub> stub_;
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<Agent> agent_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::chrono::seconds watch_timeout_{300};
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(AgentProtocolTest, ListsEverythingThenOneFullSyncThenWatchesFromTheListVersion) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded(); })) << State().DebugString();
  EXPECT_EQ(Syncs(), 1);
  v1::State s = State();
  // This node from its Node object (the prefix nodeplaned had is kept; VXLAN settings too), the
  // other node as a remote node speaking this node's VXLAN port.
  EXPECT_EQ(s.node().name(), "node-a");
  EXPECT_THAT(s.node().addresses(), ::testing::ElementsAre("192.168.1.11/24"));
  EXPECT_THAT(s.node().pod_cidrs(), ::testing::ElementsAre("10.244.1.0/24"));
  EXPECT_EQ(s.node().vxlan().udp_port(), 8472u);
  EXPECT_EQ(s.remote_nodes(0).name(), "node-b");
  EXPECT_EQ(s.remote_nodes(0).underlay_address(), "192.168.1.12");
  EXPECT_EQ(s.remote_nodes(0).udp_port(), 8472u);
  EXPECT_EQ(s.namespaces(0).labels().at("kubernetes.io/metadata.name"), "shop");

  ASSERT_TRUE(WaitFor([&] { return api.OpenWatches(kPods) == 1; }));
  const std::vector<Json> lists = api.Requests(kPods);
  ASSERT_GE(lists.size(), 2u);
  EXPECT_EQ(lists[0]["query"].value("limit", ""), "500");
  const Json watch = api.Watches(kPods).at(0)["query"];
  EXPECT_EQ(watch.value("allowWatchBookmarks", ""), "true");
  EXPECT_EQ(watch.value("resourceVersion", ""), "106");  // the list's version: nothing missed
  EXPECT_EQ(watch.value("timeoutSeconds", ""), "300");
}

TEST_F(AgentProtocolTest, WatchEventsBecomeUpsertsAndDeletesNotSyncs) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  api.Upsert(kServices, ServiceJson("api", "10.96.0.11"));
  ASSERT_TRUE(WaitFor([&] { return HasService("api"); }));
  api.Upsert(kServices, ServiceJson("api", "10.96.0.11", 8080));
  ASSERT_TRUE(WaitFor([&] { return HasService("api", 8080); }));
  api.Command({{"op", "delete"}, {"path", kPods}, {"key", "shop/web"}});
  ASSERT_TRUE(WaitFor([&] { return !HasPod("web"); }));
  EXPECT_EQ(Syncs(), 1);
  EXPECT_GE(nodeplaned_->service().count("UpsertServices"), 2);
  EXPECT_EQ(nodeplaned_->service().count("DeletePods"), 1);
}

TEST_F(AgentProtocolTest, PagedListsAreJoined) {
  ApiServer api;
  Seed(api);
  for (int i = 0; i < 7; ++i) {
    api.Upsert(kPods, PodJson("p" + std::to_string(i), "10.244.1." + std::to_string(20 + i)));
  }
  KubeConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(api.port());
  client_ = std::make_unique<KubeClient>(c);
  struct Sink : ReflectorSink {
    std::vector<Json> items;
    void OnListed(Kind, const std::vector<Json>& i) override { items = i; }
    void OnEvent(Kind, const std::string&, const Json&) override {}
    void OnApiError(Kind, const std::string&) override {}
  } sink;
  ReflectorOptions o;
  o.page_size = 3;
  Reflector r(*client_, Kind::kPod, sink, o);
  std::atomic<bool> stop{false};
  std::thread t([&] { r.Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return api.OpenWatches(kPods) == 1; }));
  stop = true;
  t.join();
  EXPECT_EQ(sink.items.size(), 9u);
  std::vector<Json> reqs = api.Requests(kPods);
  EXPECT_EQ(reqs[1]["query"].value("continue", ""), "3");
  EXPECT_EQ(reqs[2]["query"].value("continue", ""), "6");
}

TEST_F(AgentProtocolTest, BookmarksMoveTheResumePoint) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kPods) == 1; }));
  const std::string bookmark = api.Command({{"op", "bookmark"}, {"path", kPods}})["rv"];
  ASSERT_TRUE(WaitFor([&] { return agent_->counters(Kind::kPod)->bookmarks.load() == 1; }));
  api.Command({{"op", "drop"}});
  ASSERT_TRUE(WaitFor([&] { return api.Watches(kPods).size() == 2; }));
  EXPECT_EQ(api.Watches(kPods)[1]["query"].value("resourceVersion", ""), bookmark);
  EXPECT_EQ(agent_->counters(Kind::kPod)->lists.load(), 1u);  // resumed, not relisted
  EXPECT_EQ(Syncs(), 1);
}

TEST_F(AgentProtocolTest, WatchesTheServerEndsAreResumedFromTheLastVersionWithoutRelisting) {
  ApiServer api;
  Seed(api);
  watch_timeout_ = std::chrono::seconds(1);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded(); }));
  api.Upsert(kServices, ServiceJson("between", "10.96.0.16"));
  ASSERT_TRUE(WaitFor([&] { return HasService("between"); }));
  // timeoutSeconds=1: the server ends each watch after a second; the agent goes on from the last
  // version it saw (the event's), and never lists again.
  ASSERT_TRUE(WaitFor([&] { return api.Watches(kServices).size() >= 3; }));
  const std::vector<Json> watches = api.Watches(kServices);
  EXPECT_EQ(watches[0]["query"].value("timeoutSeconds", ""), "1");
  EXPECT_NE(watches.back()["query"]["resourceVersion"], watches[0]["query"]["resourceVersion"]);
  EXPECT_EQ(agent_->counters(Kind::kService)->lists.load(), 1u);
  api.Upsert(kServices, ServiceJson("later", "10.96.0.17"));
  ASSERT_TRUE(WaitFor([&] { return HasService("later"); }));
  EXPECT_EQ(Syncs(), 1);
}

TEST_F(AgentProtocolTest, GoneInTheStreamRelistsAndCatchesUpWithWhatWasMissed) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  // A delete the agent never sees as an event, then the history is compacted away.
  api.Command({{"op", "delete_silently"}, {"path", kServices}, {"key", "shop/web"}});
  api.Command({{"op", "compact"}});
  api.Command({{"op", "drop"}});
  ASSERT_TRUE(WaitFor([&] { return !HasService("web"); })) << State().DebugString();
  EXPECT_GE(agent_->counters(Kind::kService)->gone.load(), 1u);
  EXPECT_EQ(agent_->counters(Kind::kService)->lists.load(), 2u);
  EXPECT_EQ(nodeplaned_->service().count("DeleteServices"), 1);
  EXPECT_TRUE(HasPod("web"));  // other kinds untouched
  EXPECT_EQ(Syncs(), 1);
}

TEST_F(AgentProtocolTest, GoneAsHttpStatusRelistsToo) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  api.Command({{"op", "gone_as_http"}, {"value", true}});
  api.Command({{"op", "delete_silently"}, {"path", kServices}, {"key", "shop/web"}});
  api.Command({{"op", "compact"}});
  api.Command({{"op", "drop"}});
  ASSERT_TRUE(WaitFor([&] { return !HasService("web"); }));
  EXPECT_EQ(agent_->counters(Kind::kService)->lists.load(), 2u);
}

TEST_F(AgentProtocolTest, MalformedEventsAndStreamsCutMidObjectResumeWithoutLosingState) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  api.Command({{"op", "raw"}, {"path", kServices}, {"text", "{\"type\": \"ADDED\", \"obj\n"}});
  ASSERT_TRUE(WaitFor([&] { return api.Watches(kServices).size() == 2 && api.OpenWatches(kServices) == 1; }))
      << api.Watches(kServices).size() << " watches, " << api.OpenWatches(kServices) << " open";
  api.Command({{"op", "raw"}, {"path", kServices},
               {"text", "{\"type\": \"ADDED\", \"object\": {\"kind\": \"Serv"}, {"then_drop", true}});
  ASSERT_TRUE(WaitFor([&] { return api.Watches(kServices).size() == 3 && api.OpenWatches(kServices) == 1; }));
  // Both resumed from the last good version; the stream works again.
  EXPECT_EQ(api.Watches(kServices)[2]["query"]["resourceVersion"],
            api.Watches(kServices)[0]["query"]["resourceVersion"]);
  api.Upsert(kServices, ServiceJson("after", "10.96.0.12"));
  ASSERT_TRUE(WaitFor([&] { return HasService("after"); }));
  EXPECT_TRUE(HasService("web"));
  EXPECT_GE(agent_->counters(Kind::kService)->errors.load(), 2u);
  EXPECT_TRUE(LogHas("malformed watch event"));
  EXPECT_EQ(Syncs(), 1);
}

TEST_F(AgentProtocolTest, ObjectsThatFailTranslationKeepTheirLastGoodVersion) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  api.Upsert(kServices, ServiceJson("web", "10.96.0.999"));
  ASSERT_TRUE(WaitFor([&] { return LogHas("Service shop/web: spec.clusterIPs[0]: not an IP address"); }));
  api.Upsert(kServices, ServiceJson("next", "10.96.0.13"));
  ASSERT_TRUE(WaitFor([&] { return HasService("next"); }))
      << ::testing::PrintToString(Log()) << api.Watches(kServices).size() << " watches "
      << agent_->counters(Kind::kService)->events.load() << " events "
      << ::testing::PrintToString(nodeplaned_->service().calls().size());
  const v1::State state = State();
  for (const auto& svc : state.services()) {
    if (svc.key().name() == "web") {
      EXPECT_THAT(svc.cluster_ips(), ::testing::ElementsAre("10.96.0.10"));
    }
  }
}

TEST_F(AgentProtocolTest, ApiErrorsAndGarbageDelayTheFirstSyncButNeverSendAPartialOne) {
  ApiServer api;
  Seed(api);
  api.Command({{"op", "fail"}, {"count", 4}, {"status", 500}, {"body", "{\"kind\": \"Status\", \"message\": \"etcd unavailable\"}"}});
  api.Command({{"op", "fail"}, {"count", 3}, {"status", 200}, {"body", "<html>proxy error</html>"}});
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded(); }));
  EXPECT_EQ(Syncs(), 1);  // one sync, complete: nothing was pushed from a partial view
  EXPECT_TRUE(LogHas("HTTP 500: etcd unavailable"));
  EXPECT_TRUE(LogHas("malformed answer"));
}

TEST_F(AgentProtocolTest, ApiServerRestartKeepsStateAndResumes) {
  auto api = std::make_unique<ApiServer>();
  Seed(*api);
  StartAgent(*api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api->OpenWatches(kServices) == 1; }));
  // The API server goes away: nodeplaned keeps everything while the agent retries.
  api.reset();
  ASSERT_TRUE(WaitFor([&] { return agent_->counters(Kind::kService)->errors.load() >= 2; }));
  EXPECT_TRUE(Seeded());
  EXPECT_EQ(nodeplaned_->service().count("DeleteServices"), 0);
  EXPECT_EQ(nodeplaned_->service().count("DeletePods"), 0);
}

TEST_F(AgentProtocolTest, RotatedTokenFileIsReadOnTheNextRequest) {
  ApiServer api;
  Seed(api);
  const std::string token_file = (dir_ / "token").string();
  std::ofstream(token_file) << "token-one\n";
  api.Command({{"op", "token"}, {"value", "token-one"}});
  KubeConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(api.port());
  c.token_file = token_file;
  StartAgent(c);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  // Rotation: the old token stops working, the file has the new one.
  api.Command({{"op", "token"}, {"value", "token-two"}});
  std::ofstream(token_file) << "token-two\n";
  api.Command({{"op", "drop"}});
  api.Upsert(kServices, ServiceJson("rotated", "10.96.0.14"));
  ASSERT_TRUE(WaitFor([&] { return HasService("rotated"); }));
  EXPECT_EQ(api.Watches(kServices).back()["auth"], "Bearer token-two");
  EXPECT_EQ(api.Watches(kServices).front()["auth"], "Bearer token-one");
}

TEST_F(AgentProtocolTest, NodeplanedRestartGetsAFullSyncThatRestoresTheState) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded(); }));
  nodeplaned_->Restart();
  ASSERT_FALSE(Seeded());  // a blank daemon
  ASSERT_TRUE(WaitFor([&] { return Seeded(); })) << State().DebugString();
  EXPECT_EQ(nodeplaned_->service().count("SyncState"), 1);  // counted by the new instance
  EXPECT_EQ(State().node().pod_cidrs(0), "10.244.1.0/24");
}

TEST_F(AgentProtocolTest, RejectedWritesAreRetriedAndTheRestKept) {
  ApiServer api;
  Seed(api);
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() && api.OpenWatches(kServices) == 1; }));
  nodeplaned_->service().FailNext(
      "UpsertServices", grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "services[0]: no"), 2);
  api.Upsert(kServices, ServiceJson("late", "10.96.0.15"));
  ASSERT_TRUE(WaitFor([&] { return LogHas("UpsertServices: services[0]: no"); }));
  ASSERT_TRUE(WaitFor([&] { return HasService("late"); }));
  EXPECT_TRUE(Seeded() || HasService("web"));
  EXPECT_EQ(Syncs(), 1);
  EXPECT_TRUE(LogHas("in sync again"));
}

TEST_F(AgentProtocolTest, AttachedPodsSurviveSyncsAndAreNotDeletedByTheAgent) {
  ApiServer api;
  Seed(api);
  // The CNI plugin attached a pod the API server does not show yet.
  v1::AttachPodRequest attach;
  attach.mutable_key()->set_namespace_("shop");
  attach.mutable_key()->set_name("fresh");
  attach.add_ips("10.244.1.9");
  v1::AttachPodReply reply;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->AttachPod(&ctx, attach, &reply).ok());
  StartAgent(api);
  ASSERT_TRUE(WaitFor([&] { return Seeded() || State().pods_size() == 3; }));
  EXPECT_TRUE(HasPod("fresh"));
  EXPECT_EQ(Syncs(), 1);
}

// HTTPS with a certificate made for this test: the CA must verify the server, and a server that
// requires client certificates gets the kubeconfig's.
class AgentTlsTest : public AgentProtocolTest {
 protected:
  void MakeCerts() {
    const std::string d = dir_.string();
    const std::string cmd =
        "cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca "
        "-keyout ca.key -out ca.crt 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile san.ext -out server.crt 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=system:node:node-a -keyout client.key -out client.csr 2>/dev/null && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -out client.crt 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string Path(const char* name) { return (dir_ / name).string(); }
};

TEST_F(AgentTlsTest, KubeconfigWithCaAndClientCertificate) {
  MakeCerts();
  ApiServer api({"--tls", Path("server.crt"), Path("server.key"), "--client-ca", Path("ca.crt")});
  Seed(api);
  const std::string kubeconfig = Path("kubeconfig");
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
      "clusters:\n- name: lab\n  cluster:\n    server: https://127.0.0.1:" << api.port()
      << "\n    certificate-authority: ca.crt\n"
      "users:\n- name: node\n  user:\n    client-certificate: client.crt\n    client-key: client.key\n"
      "contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: node\n";
  auto config = KubeconfigFile(kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status();
  StartAgent(*config);
  ASSERT_TRUE(WaitFor([&] { return Seeded(); }));
}

TEST_F(AgentTlsTest, AnUntrustedServerIsNeverBelieved) {
  MakeCerts();
  ApiServer api({"--tls", Path("server.crt"), Path("server.key")});
  Seed(api);
  KubeConfig c;
  c.server = "https://127.0.0.1:" + std::to_string(api.port());  // system CAs only
  StartAgent(c);
  ASSERT_TRUE(WaitFor([&] { return LogHas("certificate"); })) << ::testing::PrintToString(Log());
  EXPECT_EQ(Syncs(), 0);
}

TEST(KubeConfigTest, InClusterNeedsTheServiceEnvironment) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_THAT(std::string(InClusterConfig("/nonexistent").status().message()),
              ::testing::HasSubstr("not in a cluster"));
  const auto dir = std::filesystem::temp_directory_path() / ("np-sa-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "sa-token";
  std::ofstream(dir / "ca.crt") << "PEM";
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = InClusterConfig(dir.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://[fd00::1]:443");
  EXPECT_EQ(c->token_file, dir.string() + "/token");
  EXPECT_EQ(c->ca_pem, "PEM");
  std::filesystem::remove_all(dir);
}

TEST(KubeConfigTest, KubeconfigInlineDataAndToken) {
  const auto path = std::filesystem::temp_directory_path() / ("np-kc-data-" + std::to_string(getpid()));
  // "Q0EtUEVN" is base64 of "CA-PEM"; the context is chosen explicitly.
  std::ofstream(path) << "current-context: other\n"
      "clusters:\n- name: c\n  cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: Q0EtUEVN}\n"
      "users:\n- name: u\n  user: {token: abc, tokenFile: /var/run/tok}\n"
      "contexts:\n- name: mine\n  context: {cluster: c, user: u}\n- name: other\n  context: {cluster: x}\n";
  auto c = KubeconfigFile(path.string(), "mine");
  std::filesystem::remove(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_EQ(c->token, "abc");
  EXPECT_EQ(c->token_file, "/var/run/tok");
}

TEST(KubeConfigTest, KubeconfigErrorsNameTheEntry) {
  const auto path = std::filesystem::temp_directory_path() / ("np-kc-" + std::to_string(getpid()));
  std::ofstream(path) << "current-context: x\ncontexts:\n- name: x\n  context: {cluster: missing}\n";
  EXPECT_THAT(std::string(KubeconfigFile(path.string()).status().message()),
              ::testing::HasSubstr("clusters: no cluster \"missing\""));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nodeplane::agent
