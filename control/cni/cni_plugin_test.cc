// nodeplane-cni run exactly as a container runtime runs it: CNI_* variables, the configuration
// on stdin, the result or error object on stdout; IPAM by Debian's host-local (/usr/lib/cni);
// nodeplaned is the fake (the e2e test tests/e2e/cni.py uses the real one). Network namespaces
// are real ones this test creates and deletes.
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "control/agent/fake_nodeplane.h"

namespace nodeplane::cni {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kCniPath[] = "/usr/lib/cni";

struct Invocation {
  int exit_code;
  Json out;         // stdout as JSON (null when empty)
  std::string raw;
};

class CniPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (!fs::exists(std::string(kCniPath) + "/host-local")) GTEST_SKIP() << "containernetworking-plugins missing";
    tag_ = "npcni" + std::to_string(getpid());
    dir_ = fs::temp_directory_path() / tag_;
    fs::create_directories(dir_);
    np_ = std::make_unique<agent::testing::FakeNodeplaneServer>((dir_ / "np.sock").string());
    netns_ = MakeNetns(tag_ + "a");
  }
  void TearDown() override {
    for (const auto& n : netns_names_) std::system(("ip netns del " + n + " 2>/dev/null").c_str());
    np_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string MakeNetns(const std::string& name) {
    EXPECT_EQ(std::system(("ip netns add " + name).c_str()), 0);
    netns_names_.push_back(name);
    return "/var/run/netns/" + name;
  }

  Json Config(const std::string& version = "1.1.0") {
    return {{"cniVersion", version}, {"name", "nodeplane"}, {"type", "nodeplane-cni"},
            {"socket", np_->socket_path()}, {"stateDir", (dir_ / "state").string()},
            {"ipam", {{"type", "host-local"}, {"dataDir", (dir_ / "ipam").string()},
                      {"ranges", {{{{"subnet", "10.244.9.0/24"}}}}}}}};
  }

  // Runs the plugin: `env` are the CNI_* variables (nothing else of CNI leaks in).
  Invocation Invoke(const std::map<std::string, std::string>& env, const std::string& stdin_text) {
    std::string cmd = "env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_ARGS -u CNI_PATH";
    for (const auto& [k, v] : env) cmd += " " + k + "='" + v + "'";
    const fs::path in = dir_ / "stdin";
    std::ofstream(in) << stdin_text;
    cmd += " " + std::string(NP_CNI_BINARY) + " < " + in.string() + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    const int status = pclose(p);
    Invocation r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Json(), out};
    if (!out.empty()) r.out = Json::parse(out, nullptr, false);
    return r;
  }
  std::map<std::string, std::string> Env(const std::string& command, const std::string& id = "c0ffee01",
                                         const std::string& netns = "") {
    return {{"CNI_COMMAND", command}, {"CNI_CONTAINERID", id},
            {"CNI_NETNS", netns.empty() ? netns_ : netns}, {"CNI_IFNAME", "eth0"},
            {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-" + id},
            {"CNI_PATH", "/nonexistent:" + std::string(kCniPath)}};
  }
  bool Reserved(const std::string& ip) { return fs::exists(dir_ / "ipam" / "nodeplane" / ip); }
  int Attached() { return np_->service().state().attachments_size(); }

  std::string tag_;
  fs::path dir_;
  std::unique_ptr<agent::testing::FakeNodeplaneServer> np_;
  std::string netns_;
  std::vector<std::string> netns_names_;
};

TEST_F(CniPluginTest, Version) {
  Invocation r = Invoke({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion": "1.0.0"})");
  ASSERT_EQ(r.exit_code, 0) << r.raw;
  EXPECT_EQ(r.out["cniVersion"], "1.0.0");
  EXPECT_THAT(r.out["supportedVersions"].get<std::vector<std::string>>(),
              ::testing::ElementsAre("1.0.0", "1.1.0"));
}

TEST_F(CniPluginTest, AddCheckDelDelAgain) {
  Invocation add = Invoke(Env("ADD"), Config().dump());
  ASSERT_EQ(add.exit_code, 0) << add.raw;
  EXPECT_EQ(add.out["cniVersion"], "1.1.0");
  EXPECT_EQ(add.out["interfaces"][0]["name"], "eth0");
  EXPECT_EQ(add.out["interfaces"][0]["sandbox"], netns_);
  EXPECT_EQ(add.out["ips"][0]["address"], "10.244.9.2/32");
  EXPECT_EQ(add.out["ips"][0]["gateway"], "169.254.1.1");
  EXPECT_EQ(add.out["ips"][0]["interface"], 0);
  EXPECT_EQ(add.out["routes"][0], (Json{{"dst", "0.0.0.0/0"}, {"gw", "169.254.1.1"}}));
  // nodeplaned was asked to attach the Kubernetes pod in that netns with that address.
  v1::State st = np_->service().state();
  ASSERT_EQ(st.attachments_size(), 1);
  EXPECT_EQ(st.attachments(0).key().namespace_(), "shop");
  EXPECT_EQ(st.attachments(0).key().name(), "web-c0ffee01");
  EXPECT_EQ(st.attachments(0).netns(), netns_);
  EXPECT_EQ(st.pods(0).ips(0), "10.244.9.2");
  EXPECT_TRUE(Reserved("10.244.9.2"));

  Json check = Config();
  check["prevResult"] = add.out;
  Invocation c = Invoke(Env("CHECK"), check.dump());
  EXPECT_EQ(c.exit_code, 0) << c.raw;

  Invocation again = Invoke(Env("ADD"), Config().dump());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out["code"], 100);
  EXPECT_THAT(again.out["msg"].get<std::string>(), HasSubstr("already attached"));

  Json del = Config();
  del["prevResult"] = add.out;
  Invocation d1 = Invoke(Env("DEL"), del.dump());
  EXPECT_EQ(d1.exit_code, 0) << d1.raw;
  EXPECT_EQ(Attached(), 0);
  EXPECT_FALSE(Reserved("10.244.9.2"));
  Invocation d2 = Invoke(Env("DEL"), del.dump());
  EXPECT_EQ(d2.exit_code, 0) << d2.raw;
  auto no_netns = Env("DEL");
  no_netns.erase("CNI_NETNS");
  Invocation d3 = Invoke(no_netns, Config().dump());
  EXPECT_EQ(d3.exit_code, 0) << d3.raw;

  Invocation gone = Invoke(Env("CHECK"), check.dump());
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.out["code"], 101);
}

TEST_F(CniPluginTest, CheckNoticesADetachBehindItsBack) {
  Invocation add = Invoke(Env("ADD"), Config().dump());
  ASSERT_EQ(add.exit_code, 0) << add.raw;
  v1::DetachPodRequest req;
  req.mutable_key()->set_namespace_("shop");
  req.mutable_key()->set_name("web-c0ffee01");
  v1::WriteReply reply;
  grpc::ClientContext ctx;
  ASSERT_TRUE(np_->NewStub()->DetachPod(&ctx, req, &reply).ok());
  Json check = Config();
  check["prevResult"] = add.out;
  Invocation c = Invoke(Env("CHECK"), check.dump());
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.out["code"], 101);
  EXPECT_THAT(c.out["msg"].get<std::string>(), HasSubstr("pod shop/web-c0ffee01 is not attached"));
}

TEST_F(CniPluginTest, FailedAttachGivesTheAddressBack) {
  np_->service().FailNext("AttachPod", grpc::Status(grpc::StatusCode::NOT_FOUND, "netns: no such namespace"));
  Invocation add = Invoke(Env("ADD"), Config().dump());
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_EQ(add.out["code"], 3);
  EXPECT_THAT(add.out["msg"].get<std::string>(), HasSubstr("netns: no such namespace"));
  EXPECT_FALSE(Reserved("10.244.9.2"));
  EXPECT_EQ(Attached(), 0);
  // Nothing left behind: the same container can be added again.
  Invocation ok = Invoke(Env("ADD"), Config().dump());
  ASSERT_EQ(ok.exit_code, 0) << ok.raw;
  EXPECT_EQ(Attached(), 1);
}

TEST_F(CniPluginTest, NodeplanedDownIsTryAgainLater) {
  Json config = Config();
  config["socket"] = (dir_ / "absent.sock").string();
  Invocation add = Invoke(Env("ADD"), config.dump());
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_EQ(add.out["code"], 11);
  EXPECT_FALSE(Reserved("10.244.9.2"));
  Invocation status = Invoke(Env("STATUS"), config.dump());
  EXPECT_EQ(status.out["code"], 50);
  Invocation up = Invoke(Env("STATUS"), Config().dump());
  EXPECT_EQ(up.exit_code, 0) << up.raw;
}

TEST_F(CniPluginTest, GcRemovesWhatTheRuntimeNoLongerLists) {
  const std::string other = MakeNetns(tag_ + "b");
  Invocation a = Invoke(Env("ADD", "keep01"), Config().dump());
  Invocation b = Invoke(Env("ADD", "stale02", other), Config().dump());
  ASSERT_EQ(a.exit_code, 0) << a.raw;
  ASSERT_EQ(b.exit_code, 0) << b.raw;
  ASSERT_EQ(Attached(), 2);
  Json gc = Config();
  gc["cni.dev/valid-attachments"] = {{{"containerID", "keep01"}, {"ifname", "eth0"}}};
  Invocation r = Invoke({{"CNI_COMMAND", "GC"}, {"CNI_PATH", kCniPath}}, gc.dump());
  EXPECT_EQ(r.exit_code, 0) << r.raw;
  v1::State st = np_->service().state();
  ASSERT_EQ(st.attachments_size(), 1);
  EXPECT_EQ(st.attachments(0).key().name(), "web-keep01");
  EXPECT_TRUE(Reserved("10.244.9.2"));
  EXPECT_FALSE(Reserved("10.244.9.3"));
}

TEST_F(CniPluginTest, BadInvocationsGetTheSpecsErrorCodes) {
  auto missing = Env("ADD");
  missing.erase("CNI_NETNS");
  missing.erase("CNI_IFNAME");
  Invocation r = Invoke(missing, Config().dump());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out["code"], 4);
  EXPECT_EQ(r.out["msg"], "required env variables [CNI_NETNS CNI_IFNAME] missing");

  r = Invoke(Env("ADD"), "{\"cniVersion\": ");
  EXPECT_EQ(r.out["code"], 6);
  r = Invoke(Env("ADD"), Config("0.3.1").dump());
  EXPECT_EQ(r.out["code"], 1);
  EXPECT_EQ(r.out["msg"], "incompatible CNI version 0.3.1");
  Json no_ipam = Config();
  no_ipam.erase("ipam");
  r = Invoke(Env("ADD"), no_ipam.dump());
  EXPECT_EQ(r.out["code"], 7);
  EXPECT_THAT(r.out["msg"].get<std::string>(), HasSubstr("ipam.type: required"));
  Json missing_plugin = Config();
  missing_plugin["ipam"]["type"] = "no-such-ipam";
  r = Invoke(Env("ADD"), missing_plugin.dump());
  EXPECT_EQ(r.out["code"], 7);
  EXPECT_THAT(r.out["msg"].get<std::string>(), HasSubstr("\"no-such-ipam\" not found in CNI_PATH"));
  r = Invoke(Env("CHECK"), Config().dump());
  EXPECT_EQ(r.out["code"], 7);
  EXPECT_THAT(r.out["msg"].get<std::string>(), HasSubstr("prevResult"));
  Json bad_mtu = Config();
  bad_mtu["mtu"] = 100;
  r = Invoke(Env("ADD"), bad_mtu.dump());
  EXPECT_EQ(r.out["code"], 7);
  r = Invoke({{"CNI_COMMAND", "FROB"}}, Config().dump());
  EXPECT_EQ(r.out["code"], 4);
  EXPECT_EQ(Attached(), 0);
}

}  // namespace
}  // namespace nodeplane::cni
