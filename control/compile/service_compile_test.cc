// Unit tests of the Service compiler's choice of backends from what the API gives: topology hints
// against this node's zone and name (which endpoints this node sends to).
#include "control/compile/service_compile.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

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
  return CompileService(svc, {&slice}, &node, {}, 1);
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

}  // namespace
}  // namespace nodeplane::ctl
