// Manifest mode: the seed examples (deploy/examples/seed), bad manifests, derived
// EndpointSlices, and the nodeplane-agent binary applying them to a fake nodeplaned.
#include "control/agent/manifests.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "control/agent/fake_nodeplane.h"

namespace nodeplane::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSeed = std::string(NP_SOURCE_DIR) + "/deploy/examples/seed";

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("np-manifest-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

const v1::EndpointSlice* SliceOf(const ManifestSet& set, const std::string& service) {
  for (const auto& [k, s] : set.objects.endpoint_slices) {
    if (s.service_name() == service) return &s;
  }
  return nullptr;
}

TEST_F(ManifestTest, TheSeedExamplesLoadWhole) {
  auto set = LoadManifests({kSeed}, {});
  ASSERT_TRUE(set.ok()) << set.status();
  const KubeObjects& o = set->objects;
  EXPECT_EQ(o.namespaces.size(), 2u);
  EXPECT_EQ(o.pods.size(), 5u);
  EXPECT_EQ(o.services.size(), 5u);
  EXPECT_EQ(o.network_policies.size(), 5u);
  EXPECT_EQ(o.services.at("demo/backend-api").ports(0).target_port_number(), 8080u);
  EXPECT_EQ(o.services.at("demo/frontend").type(), v1::NODE_PORT);
  EXPECT_EQ(o.services.at("demo/frontend").ports(0).node_port(), 31080u);
  EXPECT_EQ(o.services.at("demo/public-api").type(), v1::LOAD_BALANCER);
  EXPECT_THAT(o.services.at("demo/public-api").load_balancer_ips(), ElementsAre("10.77.0.200"));
  EXPECT_EQ(o.services.at("demo/external-db").type(), v1::EXTERNAL_NAME);
  EXPECT_THAT(o.services.at("demo/cassandra").cluster_ips(), ElementsAre("None"));
  EXPECT_THAT(o.pods.at("demo/frontend").ips(), ElementsAre("10.244.1.10"));
  const v1::NetworkPolicy& egress = o.network_policies.at("demo/backend-egress");
  ASSERT_EQ(egress.egress_size(), 2);
  EXPECT_EQ(egress.egress(1).ports(0).protocol(), v1::UDP);
  EXPECT_EQ(egress.egress(1).ports(0).port_number(), 53u);
  EXPECT_EQ(egress.egress(1).ports(1).protocol(), v1::TCP);

  // Derived endpoints: the backend on 8080, the frontend's named port resolved to 3000, none for
  // the ExternalName Service.
  const v1::EndpointSlice* backend = SliceOf(*set, "backend-api");
  ASSERT_NE(backend, nullptr);
  ASSERT_EQ(backend->endpoints_size(), 1);
  EXPECT_THAT(backend->endpoints(0).addresses(), ElementsAre("10.244.2.10"));
  EXPECT_TRUE(backend->endpoints(0).conditions().ready());
  EXPECT_EQ(backend->endpoints(0).node_name(), "node2");
  EXPECT_EQ(backend->endpoints(0).target_pod().name(), "backend-api");
  EXPECT_EQ(backend->ports(0).port(), 8080u);
  EXPECT_EQ(backend->ports(0).name(), "http");
  const v1::EndpointSlice* frontend = SliceOf(*set, "frontend");
  ASSERT_NE(frontend, nullptr);
  EXPECT_EQ(frontend->ports(0).port(), 3000u);
  EXPECT_NE(SliceOf(*set, "cassandra"), nullptr);
  EXPECT_EQ(SliceOf(*set, "external-db"), nullptr);
}

TEST_F(ManifestTest, ReadinessAndNamedPortsShapeTheDerivedSlices) {
  const std::string path = Write("app.yaml", R"(
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web}
  spec:
    selector: {app: web}
    ports: [{name: http, port: 80, targetPort: web}]
- apiVersion: v1
  kind: Pod
  metadata: {name: a, labels: {app: web}, annotations: {nodeplane.io/pod-ips: 10.244.1.2}}
  spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: b, labels: {app: web}, annotations: {nodeplane.io/pod-ips: 10.244.1.3}}
  spec: {containers: [{name: c, ports: [{name: web, containerPort: 9090}]}]}
  status: {conditions: [{type: Ready, status: "False"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: c, labels: {app: web}, deletionTimestamp: "2024-01-01T00:00:00Z",
             annotations: {nodeplane.io/pod-ips: 10.244.1.4}}
  spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: unplaced, labels: {app: web}}
  spec: {containers: [{name: c}]}
)");
  auto set = LoadManifests({path}, {});
  ASSERT_TRUE(set.ok()) << set.status();
  // Implied namespace, pod without an address left out with a note.
  EXPECT_TRUE(set->objects.namespaces.contains("default"));
  EXPECT_FALSE(set->objects.pods.contains("default/unplaced"));
  EXPECT_THAT(::testing::PrintToString(set->notes), HasSubstr("left out Pod default/unplaced"));
  // Two port sets (8080 and 9090): two slices.
  ASSERT_EQ(set->objects.endpoint_slices.size(), 2u);
  const v1::EndpointSlice& s8080 = set->objects.endpoint_slices.at("default/web-manifest-0");
  const v1::EndpointSlice& s9090 = set->objects.endpoint_slices.at("default/web-manifest-1");
  EXPECT_EQ(s8080.ports(0).port(), 8080u);
  ASSERT_EQ(s8080.endpoints_size(), 2);
  EXPECT_TRUE(s8080.endpoints(0).conditions().ready());
  EXPECT_FALSE(s8080.endpoints(1).conditions().ready());      // c: terminating
  EXPECT_TRUE(s8080.endpoints(1).conditions().terminating());
  EXPECT_TRUE(s8080.endpoints(1).conditions().serving());
  EXPECT_EQ(s9090.ports(0).port(), 9090u);
  EXPECT_FALSE(s9090.endpoints(0).conditions().ready());      // b: Ready=False
  EXPECT_FALSE(s9090.endpoints(0).conditions().serving());
}

TEST_F(ManifestTest, PublishNotReadyAddressesMakesEveryPodReady) {
  const std::string path = Write("a.yaml", R"(
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, publishNotReadyAddresses: true, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}, annotations: {nodeplane.io/pod-ips: 10.244.1.9}}
status: {conditions: [{type: Ready, status: "False"}]}
)");
  auto set = LoadManifests({path}, {});
  ASSERT_TRUE(set.ok()) << set.status();
  const v1::EndpointSlice& s = set->objects.endpoint_slices.at("default/db-manifest-0");
  EXPECT_TRUE(s.endpoints(0).conditions().ready());
}

TEST_F(ManifestTest, PodsWithoutAddressTakeWhatNodeplanedHas) {
  const std::string path = Write("p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: lab}\n");
  auto set = LoadManifests({path}, {{"lab/x", KnownPod{{"10.244.1.7"}, "node1"}}});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->objects.pods.at("lab/x").ips(), ElementsAre("10.244.1.7"));
  EXPECT_EQ(set->objects.pods.at("lab/x").node_name(), "node1");
}

TEST_F(ManifestTest, BadManifestsNameFileDocumentAndFieldAndNothingLoads) {
  struct Case { const char* yaml; const char* message; };
  const Case cases[] = {
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
       "bad.yaml: document 1: unknown kind apps/v1 Deployment"},
      {"apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Service\n"
       "metadata: {name: web}\nspec:\n  ports: [{port: \"80\"}]\n",
       "bad.yaml: document 2: Service default/web: spec.ports[0].port: expected an integer, got string"},
      {"apiVersion: v1\nkind: Service\nmetadata: {name: web\n",
       "bad.yaml: line "},
      {"kind: Service\nmetadata: {name: web}\n", "bad.yaml: document 1: apiVersion: required"},
      {"- just\n- a list\n", "bad.yaml: document 1: not a Kubernetes object"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
       "bad.yaml: document 2: Pod default/p is defined twice"},
      {"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n"
       "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n",
       "bad.yaml: document 1: NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock.cidr: not a CIDR"},
  };
  for (const Case& c : cases) {
    const std::string good = Write("good.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n");
    const std::string bad = Write("bad.yaml", c.yaml);
    auto set = LoadManifests({good, bad}, {});
    ASSERT_FALSE(set.ok()) << c.yaml;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(set.status().message()), HasSubstr(c.message)) << c.yaml;
    EXPECT_THAT(std::string(set.status().message()), HasSubstr("nothing was"));
  }
  EXPECT_THAT(std::string(LoadManifests({"/nonexistent/x.yaml"}, {}).status().message()),
              HasSubstr("/nonexistent/x.yaml: no such file or directory"));
}

TEST(YamlToJson, CoreSchemaScalars) {
  Json j = YamlToJson("a: 80\nb: \"80\"\nc: true\nd: 'true'\ne: ~\nf: 10.96.0.1\ng: -3\n");
  EXPECT_TRUE(j["a"].is_number_integer());
  EXPECT_TRUE(j["b"].is_string());
  EXPECT_TRUE(j["c"].is_boolean());
  EXPECT_TRUE(j["d"].is_string());
  EXPECT_TRUE(j["e"].is_null());
  EXPECT_EQ(j["f"], "10.96.0.1");
  EXPECT_EQ(j["g"], -3);
}

// The binary, as the lab runs it, against a fake nodeplaned.
class ManifestBinaryTest : public ManifestTest {
 protected:
  int Run(const std::string& args, std::string* out) {
    const std::string cmd = std::string(NP_AGENT_BINARY) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    out->clear();
    while (fgets(buf, sizeof buf, p) != nullptr) *out += buf;
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(ManifestBinaryTest, AppliesTheSeedAsUpserts) {
  testing::FakeNodeplaneServer np((dir_ / "np.sock").string());
  std::string out;
  ASSERT_EQ(Run("--from-manifests " + kSeed + " --socket " + np.socket_path(), &out), 0) << out;
  v1::State s = np.service().state();
  EXPECT_EQ(s.services_size(), 5);
  EXPECT_EQ(s.pods_size(), 5);
  EXPECT_EQ(s.network_policies_size(), 5);
  EXPECT_EQ(s.endpoint_slices_size(), 4);
  EXPECT_EQ(np.service().count("SyncState"), 0);  // apply, never replace
  EXPECT_THAT(out, HasSubstr("derived EndpointSlice demo/backend-api-manifest-0: backend-api"));
  EXPECT_THAT(out, HasSubstr("applied, generation"));
}

TEST_F(ManifestBinaryTest, UnimplementedKindsAreAClearErrorAndKindsRestrictThePush) {
  testing::FakeNodeplaneServer np((dir_ / "np.sock").string());
  np.service().FailNext("UpsertServices",
                        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "Services: not implemented yet"));
  std::string out;
  EXPECT_EQ(Run("--from-manifests " + kSeed + " --socket " + np.socket_path(), &out), 1);
  EXPECT_THAT(out, HasSubstr("UpsertServices: Services: not implemented yet"));
  EXPECT_THAT(out, HasSubstr("--kinds"));
  ASSERT_EQ(Run("--from-manifests " + kSeed + " --kinds namespaces,pods --socket " +
                    np.socket_path(), &out), 0) << out;
  EXPECT_EQ(np.service().state().pods_size(), 5);
  EXPECT_EQ(np.service().state().services_size(), 0);
}

TEST_F(ManifestBinaryTest, BadManifestsApplyNothing) {
  testing::FakeNodeplaneServer np((dir_ / "np.sock").string());
  const std::string dir = (dir_ / "m").string();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/a.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
  std::ofstream(dir + "/b.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: Bogus}\n";
  std::string out;
  EXPECT_EQ(Run("--from-manifests " + dir + " --socket " + np.socket_path(), &out), 1);
  EXPECT_THAT(out, HasSubstr("b.yaml: document 1: Service default/s: spec.type: unknown Service type"));
  EXPECT_EQ(np.service().count("UpsertNamespaces"), 0);
  EXPECT_EQ(Run("--kinds gadgets --from-manifests " + dir, &out), 2);
  EXPECT_THAT(out, HasSubstr("--kinds: unknown kind \"gadgets\""));
}

}  // namespace
}  // namespace nodeplane::agent
