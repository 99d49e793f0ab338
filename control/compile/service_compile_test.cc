// Unit tests of the Service compiler's choice of backends from what the API gives: topology hints
// against this node's zone and name (which endpoints this node sends to), endpoint weights (each
// backend's share of the Maglev table).
#include "control/compile/service_compile.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "control/compile/maglev.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

ServiceModel Web() {
  ServiceModel s;
  s.key = {"default", "web"};
  s.cluster_ips = {A("10.96.0.10")};
  s.ports = {ServicePortModel{"", L4Protocol::kTcp, 80, 8080, "", 0}};
  return s;
}

struct Ep {
  const char* ip;
  const char* node;
  std::vector<std::string> zone_hints;
  std::vector<std::string> node_hints;
};

EndpointSliceModel Slice(const std::vector<Ep>& eps) {
  EndpointSliceModel s;
  s.key = {"default", "web-1"};
  s.service_name = "web";
  for (const Ep& e : eps) {
    EndpointModel m;
    m.address = A(e.ip);
    m.node_name = e.node;
    m.zone_hints = e.zone_hints;
    m.node_hints = e.node_hints;
    s.endpoints.push_back(m);
  }
  s.ports = {EndpointPortModel{"", L4Protocol::kTcp, 8080}};
  return s;
}

NodeModel Node(const std::string& name, const std::string& zone) {
  NodeModel n;
  n.name = name;
  n.addresses = {Ip4Prefix{A("10.77.0.11"), 24}};
  n.zone = zone;
  return n;
}

// The backends the ClusterIP's cluster Maglev table sends to (what this node's traffic reaches).
std::set<std::string> ClusterBackends(const CompiledService& c) {
  const auto it = c.entries.find(dp::ServiceTableKey{A("10.96.0.10").be, Be16(80), 6, 0});
  if (it == c.entries.end()) return {"<no entry>"};
  std::set<std::string> out;
  for (uint16_t i : it->second.cluster_table) out.insert(Ip4{it->second.backends[i].ip_be}.ToString());
  return out;
}

CompiledService Compile(const ServiceModel& svc, const EndpointSliceModel& slice,
                        const NodeModel& node) {
  return CompileService(svc, {&slice}, &node, {}, {1});
}

// Two endpoints hinted for zone a, two for zone b: every ready endpoint has hints.
EndpointSliceModel TwoZones() {
  return Slice({{"10.244.1.2", "node1", {"zone-a"}, {}},
                {"10.244.2.2", "node2", {"zone-a"}, {}},
                {"10.244.3.2", "node3", {"zone-b"}, {}},
                {"10.244.4.2", "node4", {"zone-b"}, {}}});
}

TEST(ServiceCompileTopology, ANodeInAHintedZoneSendsOnlyToThatZonesEndpoints) {
  EXPECT_EQ(ClusterBackends(Compile(Web(), TwoZones(), Node("node1", "zone-a"))),
            (std::set<std::string>{"10.244.1.2", "10.244.2.2"}));
  EXPECT_EQ(ClusterBackends(Compile(Web(), TwoZones(), Node("node3", "zone-b"))),
            (std::set<std::string>{"10.244.3.2", "10.244.4.2"}));
}

TEST(ServiceCompileTopology, ANodeWithoutAZoneSendsToEveryEndpoint) {
  const std::set<std::string> all{"10.244.1.2", "10.244.2.2", "10.244.3.2", "10.244.4.2"};
  EXPECT_EQ(ClusterBackends(Compile(Web(), TwoZones(), Node("node1", ""))), all);
  // A zone no hint names: hints ignored as well.
  EXPECT_EQ(ClusterBackends(Compile(Web(), TwoZones(), Node("node1", "zone-c"))), all);
}

TEST(ServiceCompileTopology, HintsAreIgnoredWhenAReadyEndpointHasNone) {
  EndpointSliceModel s = TwoZones();
  s.endpoints[3].zone_hints.clear();
  EXPECT_EQ(ClusterBackends(Compile(Web(), s, Node("node1", "zone-a"))).size(), 4u);
}

TEST(ServiceCompileTopology, NodeHintsNamingThisNodeWinOverZoneHints) {
  EndpointSliceModel s = TwoZones();
  s.endpoints[0].node_hints = {"node1"};
  s.endpoints[1].node_hints = {"node2"};
  s.endpoints[2].node_hints = {"node1"};
  s.endpoints[3].node_hints = {"node4"};
  EXPECT_EQ(ClusterBackends(Compile(Web(), s, Node("node1", "zone-a"))),
            (std::set<std::string>{"10.244.1.2", "10.244.3.2"}));
  // A node no node hint names falls back to its zone's hints.
  EXPECT_EQ(ClusterBackends(Compile(Web(), s, Node("node2", "zone-b"))),
            (std::set<std::string>{"10.244.2.2"}))
      << "node2 is named by a node hint";
  EXPECT_EQ(ClusterBackends(Compile(Web(), s, Node("node9", "zone-b"))),
            (std::set<std::string>{"10.244.3.2", "10.244.4.2"}));
}

TEST(ServiceCompileTopology, LocalPoliciesIgnoreTheHints) {
  ServiceModel svc = Web();
  svc.internal_policy = TrafficPolicy::kLocal;
  const CompiledService c = Compile(svc, TwoZones(), Node("node3", "zone-a"));
  const auto& e = c.entries.begin()->second;
  std::set<std::string> local;
  for (uint16_t i : e.local_table) local.insert(Ip4{e.backends[i].ip_be}.ToString());
  EXPECT_EQ(local, (std::set<std::string>{"10.244.3.2"})) << "this node's endpoint, hinted or not";
}

// ---- Weights ----

// Slots of the ClusterIP's cluster table per backend address.
std::map<std::string, int> SlotsPerBackend(const CompiledService& c) {
  const auto it = c.entries.find(dp::ServiceTableKey{A("10.96.0.10").be, Be16(80), 6, 0});
  std::map<std::string, int> out;
  if (it == c.entries.end()) return out;
  for (uint16_t i : it->second.cluster_table) out[Ip4{it->second.backends[i].ip_be}.ToString()]++;
  return out;
}

EndpointSliceModel Weighted(const std::vector<uint32_t>& weights) {
  std::vector<Ep> eps;
  std::vector<std::string> ips;
  for (size_t i = 0; i < weights.size(); ++i) ips.push_back("10.244." + std::to_string(i / 200 + 2) +
                                                            "." + std::to_string(i % 200 + 2));
  for (const std::string& ip : ips) eps.push_back({ip.c_str(), "node2", {}, {}});
  EndpointSliceModel s = Slice(eps);
  for (size_t i = 0; i < weights.size(); ++i) s.endpoints[i].weight = weights[i];
  return s;
}

// The builder hands out slots round by round, a backend one slot per round per unit of its weight
// over the largest weight: its count is its exact share of the table, rounded down (under one
// slot), give or take the last, partial round (one slot). So: within 2 slots of M × w / sum(w).
constexpr double kSlotTolerance = 2;

TEST(ServiceCompileWeights, SharesOfTheMaglevTableFollowTheWeights) {
  const CompiledService c = Compile(Web(), Weighted({3, 1}), Node("node1", ""));
  const std::map<std::string, int> slots = SlotsPerBackend(c);
  ASSERT_EQ(slots.size(), 2u);
  const double m = slots.at("10.244.2.2") + slots.at("10.244.2.3");
  EXPECT_EQ(m, 211) << "two backends: the smallest table";
  EXPECT_NEAR(slots.at("10.244.2.2"), m * 0.75, kSlotTolerance);
  EXPECT_NEAR(slots.at("10.244.2.3"), m * 0.25, kSlotTolerance);
  const auto& e = c.entries.begin()->second;
  EXPECT_EQ(e.backends[0].weight, 3u);
  EXPECT_EQ(e.backends[1].weight, 1u);
}

TEST(ServiceCompileWeights, UnsetWeightsMeanOneAndShareEqually) {
  const std::map<std::string, int> unset = SlotsPerBackend(Compile(Web(), Weighted({0, 0, 0}),
                                                                   Node("node1", "")));
  const std::map<std::string, int> ones = SlotsPerBackend(Compile(Web(), Weighted({1, 1, 1}),
                                                                  Node("node1", "")));
  EXPECT_EQ(unset, ones);
  const double m = MaglevTableSize(3);
  for (const auto& [ip, n] : unset) EXPECT_NEAR(n, m / 3, kSlotTolerance) << ip;
  // 0 and 1 are the same weight; 2 is not.
  const std::map<std::string, int> mixed = SlotsPerBackend(Compile(Web(), Weighted({0, 1, 2}),
                                                                   Node("node1", "")));
  EXPECT_NEAR(mixed.at("10.244.2.2"), m / 4, kSlotTolerance);
  EXPECT_NEAR(mixed.at("10.244.2.3"), m / 4, kSlotTolerance);
  EXPECT_NEAR(mixed.at("10.244.2.4"), m / 2, kSlotTolerance);
}

TEST(ServiceCompileWeights, TheLightestEndpointKeepsASlotBesideTheHeaviest) {
  std::vector<uint32_t> w(400, kMaxEndpointWeight);
  w.back() = 1;
  const std::map<std::string, int> slots = SlotsPerBackend(Compile(Web(), Weighted(w),
                                                                   Node("node1", "")));
  ASSERT_EQ(slots.size(), 400u) << "every endpoint gets slots, the weight-1 one too";
  int total = 0;
  for (const auto& [ip, n] : slots) total += n;
  for (const auto& [ip, n] : slots) {
    const double want = total * (ip == "10.244.3.201" ? 1.0 : kMaxEndpointWeight) /
                        (399.0 * kMaxEndpointWeight + 1);
    EXPECT_NEAR(n, want, kSlotTolerance) << ip;
  }
}

}  // namespace
}  // namespace nodeplane::ctl
