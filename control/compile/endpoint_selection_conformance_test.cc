// Endpoint selection against the kube-proxy conformance cases: every *.yaml under
// tests/conformance/kubeproxy/ (copied from upstream's TestCategorizeEndpoints table) and, when
// NP_CONFORMANCE_KUBEPROXY_DIR is set, every *.yaml there too. Cases marked `legacy: true`
// describe behaviour behind feature gates that are now always on, and are skipped.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/compile/endpoint_selection.h"

namespace nodeplane::ctl {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> CaseFiles() {
  std::vector<std::string> dirs = {std::string(NP_SOURCE_DIR) + "/tests/conformance/kubeproxy"};
  if (const char* extra = std::getenv("NP_CONFORMANCE_KUBEPROXY_DIR"); extra && *extra) {
    dirs.push_back(extra);
  }
  std::vector<fs::path> out;
  for (const std::string& d : dirs) {
    if (!fs::is_directory(d)) {
      ADD_FAILURE() << "not a directory: " << d;
      continue;
    }
    for (const auto& f : fs::directory_iterator(d)) {
      if (f.path().extension() == ".yaml" || f.path().extension() == ".yml") out.push_back(f.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Flag(const YAML::Node& n, const char* key) { return n && n[key] && n[key].as<bool>(); }

std::vector<std::string> Strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n && n.IsSequence()) {
    for (const auto& s : n) out.push_back(s.as<std::string>());
  }
  return out;
}

// null (or absent) → nullopt; a list → the set.
std::optional<std::set<std::string>> ExpectedSet(const YAML::Node& n) {
  if (!n || n.IsNull()) return std::nullopt;
  const auto v = Strings(n);
  return std::set<std::string>(v.begin(), v.end());
}

std::set<std::string> Names(const std::vector<size_t>& idx, const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (size_t i : idx) out.insert(names[i]);
  return out;
}

std::string Show(const std::optional<std::set<std::string>>& s) {
  if (!s) return "null";
  std::string out = "[";
  for (const std::string& e : *s) out += (out.size() > 1 ? " " : "") + e;
  return out + "]";
}

// As upstream's test compares: an expected null needs a null result; an expected list needs the
// same members (a null result counts as empty).
void CheckSet(const std::string& what, const YAML::Node& expected,
              const std::optional<std::vector<size_t>>& got, const std::vector<std::string>& names) {
  if (!expected) return;
  const auto want = ExpectedSet(expected);
  const std::optional<std::set<std::string>> have =
      got ? std::optional(Names(*got, names)) : std::nullopt;
  if (!want) {
    EXPECT_FALSE(have.has_value()) << what << ": want null, got " << Show(have);
  } else {
    EXPECT_EQ(have.value_or(std::set<std::string>{}), *want)
        << what << ": want " << Show(want) << ", got " << Show(have);
  }
}

TEST(EndpointSelectionConformance, KubeProxyCategorizeEndpointsCases) {
  int ran = 0;
  for (const fs::path& file : CaseFiles()) {
    const YAML::Node doc = YAML::LoadFile(file.string());
    ASSERT_TRUE(doc["cases"] && doc["cases"].IsSequence()) << file << ": no `cases` list";
    for (const YAML::Node& c : doc["cases"]) {
      const std::string name = c["name"].as<std::string>();
      if (Flag(c, "legacy")) continue;
      SCOPED_TRACE(file.filename().string() + ": " + name);
      const YAML::Node svc = c["service"];
      SelectionPolicy policy;
      policy.internal_local = Flag(svc, "itp_local");
      policy.external_local = Flag(svc, "etp_local");
      // Upstream gives the eTP Local cases a NodePort unless they say otherwise.
      policy.externally_accessible =
          Flag(svc, "has_nodeport") || Flag(svc, "has_external_ips") ||
          Flag(svc, "has_load_balancer") || (policy.external_local && !Flag(svc, "no_external"));
      NodeTopology node;
      if (c["nodeZone"]) node.zone = c["nodeZone"].as<std::string>();
      if (c["nodeName"]) node.name = c["nodeName"].as<std::string>();
      std::vector<SelectionEndpoint> eps;
      std::vector<std::string> names;
      for (const YAML::Node& e : c["endpoints"]) {
        SelectionEndpoint ep;
        ep.ready = e["ready"].as<bool>();
        ep.serving = e["serving"].as<bool>();
        ep.terminating = e["terminating"].as<bool>();
        ep.local = e["local"].as<bool>();
        ep.zone_hints = Strings(e["zones"]);
        ep.node_hints = Strings(e["nodes"]);
        eps.push_back(ep);
        names.push_back(e["ep"].as<std::string>());
      }
      const EndpointSets got = CategorizeEndpoints(eps, policy, node);
      const YAML::Node expect = c["expect"];
      CheckSet("clusterEndpoints", expect["clusterEndpoints"], got.cluster, names);
      CheckSet("localEndpoints", expect["localEndpoints"], got.local, names);
      CheckSet("allReachable", expect["allReachable"], got.all_reachable, names);
      if (expect["hasAnyEndpoints"]) {
        EXPECT_EQ(got.has_any, expect["hasAnyEndpoints"].as<bool>()) << "hasAnyEndpoints";
      }
      ++ran;
    }
  }
  EXPECT_GE(ran, 25) << "the project's own cases did not all run";
}

// The rule on its own, for the decisions the data-driven cases exercise least.
TEST(EndpointSelection, TerminatingFallbackOnlyWhenNothingIsReady) {
  std::vector<SelectionEndpoint> eps(3);
  eps[0] = {.ready = false, .serving = true, .terminating = true};
  eps[1] = {.ready = true};
  eps[2] = {.ready = false, .serving = false, .terminating = true};
  EndpointSets s = CategorizeEndpoints(eps, {}, {});
  EXPECT_EQ(*s.cluster, (std::vector<size_t>{1}));
  eps[1].ready = false;  // now none is ready: the serving-and-terminating one serves
  s = CategorizeEndpoints(eps, {}, {});
  EXPECT_EQ(*s.cluster, (std::vector<size_t>{0}));
  EXPECT_TRUE(s.has_any);
  eps[0].serving = false;
  s = CategorizeEndpoints(eps, {}, {});
  EXPECT_TRUE(s.cluster->empty());
  EXPECT_FALSE(s.has_any) << "no usable endpoint: REJECT";
}

TEST(EndpointSelection, NodeHintsWinOverZoneHints) {
  std::vector<SelectionEndpoint> eps(2);
  eps[0] = {.zone_hints = {"z1"}, .node_hints = {"n1"}};
  eps[1] = {.zone_hints = {"z1"}, .node_hints = {"n2"}};
  EndpointSets s = CategorizeEndpoints(eps, {}, {.name = "n1", .zone = "z1"});
  EXPECT_EQ(*s.cluster, (std::vector<size_t>{0}));
  s = CategorizeEndpoints(eps, {}, {.name = "n3", .zone = "z1"});
  EXPECT_EQ(*s.cluster, (std::vector<size_t>{0, 1})) << "no node hint for n3: zone hints apply";
}

}  // namespace
}  // namespace nodeplane::ctl
