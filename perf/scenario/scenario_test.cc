// Unit tests of the scenario file format and its compilation (shared by perf/bench and the golden
// pcap tests): what parses, what is refused with a line number, and the spec it compiles to.
#include "perf/scenario/scenario.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <ostream>
#include <string>

namespace nodeplane::scenario {
namespace {

const char* kValid = R"(# Two pods.
# Second line of the description.
port pa pod default/a 02:00:0a:f4:01:02   # pod A
port pb pod default/b 02:00:0a:f4:01:03
port up uplink 02:00:00:00:00:10
port h host 02:00:00:00:00:11
input pa
expect pb
drop no_route 2
count routed 3
state {
  node { name: "n" addresses: "192.168.1.10/24" pod_cidrs: "10.244.1.0/24" }
  # a comment with a brace } inside the state
  pods { key { namespace: "default" name: "a" } ips: "10.244.1.2" node_name: "n" labels { key: "x" value: "}" } }
  pods { key { namespace: "default" name: "b" } ips: "10.244.1.3" node_name: "n" }
}
)";

TEST(ParseScenario, ReadsEveryDirective) {
  const auto s = ParseScenario(kValid);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->description, "Two pods.\nSecond line of the description.");
  ASSERT_EQ(s->ports.size(), 4u);
  EXPECT_EQ(s->ports[0].name, "pa");
  EXPECT_EQ(s->ports[0].kind, dp::PortKind::kPod);
  EXPECT_EQ(s->ports[0].pod->ToString(), "default/a");
  EXPECT_EQ(s->ports[0].mac.ToString(), "02:00:0a:f4:01:02");
  EXPECT_EQ(s->ports[2].kind, dp::PortKind::kUplink);
  EXPECT_EQ(s->ports[3].kind, dp::PortKind::kHost);
  EXPECT_EQ(s->input, "pa");
  EXPECT_EQ(s->expect, "pb");
  EXPECT_EQ(s->drops.at("no_route"), 2u);
  EXPECT_EQ(s->counters.at("routed"), 3u);
  EXPECT_EQ(s->state.node().name(), "n");
  ASSERT_EQ(s->state.pods_size(), 2);
  EXPECT_EQ(s->state.pods(0).labels().at("x"), "}");
}

TEST(ParseScenario, ExpectNoneIsEmpty) {
  std::string text = kValid;
  text.replace(text.find("expect pb"), 9, "expect none");
  const auto s = ParseScenario(text);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->expect, "");
}

struct Bad {
  std::string name;
  friend void PrintTo(const Bad& c, std::ostream* os) { *os << c.name; }
  std::string from, to;  // replace `from` in kValid by `to`
  std::string error_mentions;
};

class ParseScenarioRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(ParseScenarioRejects, WithTheLine) {
  std::string text = kValid;
  const size_t at = text.find(GetParam().from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, GetParam().from.size(), GetParam().to);
  const auto s = ParseScenario(text);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find(GetParam().error_mentions), std::string::npos)
      << s.status();
}

INSTANTIATE_TEST_SUITE_P(
    ParseScenario, ParseScenarioRejects,
    ::testing::Values(
        Bad{"BadMac", "02:00:00:00:00:10", "02:00:00:00:10", "line 5: not a MAC address"},
        Bad{"UnknownKind", "port h host", "port h nic", "line 6: port kind"},
        Bad{"PodWithoutKey", "pod default/b", "pod b", "line 4:"},
        Bad{"DuplicatePort", "port h host", "port pa host", "line 6: port pa declared twice"},
        Bad{"UnknownDropReason", "drop no_route", "drop no_such_reason", "line 9: unknown drop"},
        Bad{"UnknownCounter", "count routed", "count nothing", "line 10: unknown counter"},
        Bad{"BadCount", "count routed 3", "count routed three", "line 10: not a count"},
        Bad{"UnknownDirective", "input pa", "inptu pa", "line 7: unknown or malformed"},
        Bad{"InputNotDeclared", "input pa", "input px", "input port not declared: px"},
        Bad{"ExpectNotDeclared", "expect pb", "expect px", "expect port not declared: px"},
        Bad{"NoInput", "input pa\n", "", "no input port"},
        Bad{"UnclosedState", "\n}\n", "\n", "state { ... } is not closed"},
        Bad{"StateNotAState", "node {", "nod {", "not a valid nodeplane.v1.State"}),
    [](const ::testing::TestParamInfo<Bad>& info) { return info.param.name; });

TEST(ParseScenario, ConntrackFlushEveryReplay) {
  std::string text = kValid;
  text.replace(text.find("input pa\n"), 9, "input pa\nconntrack 4096\nconntrack_flush 128\n");
  const auto s = ParseScenario(text);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->conntrack_entries, 4096u);
  EXPECT_EQ(s->conntrack_flush, 128u);
  EXPECT_EQ(ParseScenario(kValid)->conntrack_flush, 0u) << "absent: never";
}

TEST(ParseScenario, ConntrackFlushNeedsATableAndWholeBursts) {
  std::string no_table = kValid;
  no_table.replace(no_table.find("input pa\n"), 9, "input pa\nconntrack_flush 128\n");
  auto s = ParseScenario(no_table);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("without a conntrack table"), std::string::npos)
      << s.status();
  std::string partial = kValid;
  partial.replace(partial.find("input pa\n"), 9, "input pa\nconntrack 4096\nconntrack_flush 100\n");
  s = ParseScenario(partial);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("line 9: conntrack_flush: packets must be"),
            std::string::npos)
      << s.status();
}

TEST(ParseScenario, NoStateIsRefused) {
  const std::string text = kValid;
  const auto s = ParseScenario(text.substr(0, text.find("state {")));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("no state"), std::string::npos) << s.status();
}

TEST(CompileScenario, PortsGetTheirIdsAndPodsTheirRoutes) {
  const auto s = ParseScenario(kValid);
  ASSERT_TRUE(s.ok()) << s.status();
  const auto spec = Compile(*s, {{"pa", 5}, {"pb", 6}, {"up", 0}, {"h", 1}}, 1, 7);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->generation, 7u);
  ASSERT_EQ(spec->ports.size(), 4u);
  int pods = 0;
  for (const auto& p : spec->ports) {
    if (p.kind == dp::PortKind::kPod) {
      ++pods;
      EXPECT_TRUE(p.port_id == 5 || p.port_id == 6) << p.port_id;
      if (p.port_id == 5) {
        EXPECT_EQ(p.peer_mac.ToString(), "02:00:0a:f4:01:02");
      }
    }
    if (p.kind == dp::PortKind::kUplink) {
      EXPECT_EQ(p.port_id, 0);
    }
  }
  EXPECT_EQ(pods, 2);
  EXPECT_EQ(spec->routes.size(), 3u) << "two pods and the node address";
}

TEST(CompileScenario, PortWithoutIdIsRefused) {
  const auto s = ParseScenario(kValid);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(Compile(*s, {{"pa", 5}}, 1, 1).ok());
}

TEST(CompileScenario, InvalidStateIsRefusedLikeTheDaemonWould) {
  std::string text = kValid;
  text.replace(text.find("ips: \"10.244.1.3\""), 17, "ips: \"10.244.1.2\"");  // duplicate IP
  const auto s = ParseScenario(text);
  ASSERT_TRUE(s.ok()) << s.status();
  const auto spec = Compile(*s, {{"pa", 5}, {"pb", 6}, {"up", 0}, {"h", 1}}, 1, 1);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kAlreadyExists) << spec.status();
}

TEST(CompileScenario, PodPortForAPodNotInTheStateIsRefused) {
  std::string text = kValid;
  text.replace(text.find("pod default/b"), 13, "pod default/c");
  const auto s = ParseScenario(text);
  ASSERT_TRUE(s.ok()) << s.status();
  const auto spec = Compile(*s, {{"pa", 5}, {"pb", 6}, {"up", 0}, {"h", 1}}, 1, 1);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kFailedPrecondition) << spec.status();
}

// A ClusterIP Service with one endpoint on this node and one on another: the entry svc_lb reads
// sends to both, and knows which one is local.
const char* kWithService = R"(port pa pod default/a 02:00:0a:f4:01:02
input pa
state {
  node { name: "n" addresses: "192.168.1.10/24" pod_cidrs: "10.244.1.0/24" }
  pods { key { namespace: "default" name: "a" } ips: "10.244.1.2" node_name: "n" }
  remote_nodes { name: "m" underlay_address: "192.168.1.20" pod_cidrs: "10.244.2.0/24" }
  services { key { namespace: "default" name: "web" } type: CLUSTER_IP cluster_ips: "10.96.0.10"
             ports { protocol: UDP port: 80 target_port_number: 8080 } }
  endpoint_slices { key { namespace: "default" name: "web-1" } service_name: "web"
                    address_type: "IPv4" ports { protocol: UDP port: 8080 }
                    endpoints { addresses: "10.244.1.2" node_name: "n"
                                conditions { ready: true serving: true } }
                    endpoints { addresses: "10.244.2.7" node_name: "m"
                                conditions { ready: true serving: true } } }
}
)";

TEST(CompileScenario, ServicesCompileToServiceTableEntries) {
  const auto s = ParseScenario(kWithService);
  ASSERT_TRUE(s.ok()) << s.status();
  ServiceEntries services;
  const auto spec = Compile(*s, {{"pa", 5}}, 1, 1, nullptr, &services);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(services.size(), 1u);
  const auto& [key, entry] = *services.begin();
  EXPECT_EQ(key.ip_be, Ip4::Parse("10.96.0.10")->be);
  EXPECT_EQ(key.port_be, htons(80));
  EXPECT_EQ(key.proto, 17);
  EXPECT_EQ(entry.kind, dp::ServiceAddressKind::kClusterIp);
  EXPECT_TRUE(entry.has_any_endpoint);
  ASSERT_EQ(entry.backends.size(), 2u);
  int local = 0;
  for (const auto& b : entry.backends) {
    EXPECT_EQ(b.port_be, htons(8080));
    if (b.local) {
      ++local;
      EXPECT_EQ(b.ip_be, Ip4::Parse("10.244.1.2")->be);
    }
  }
  EXPECT_EQ(local, 1);
  EXPECT_FALSE(entry.cluster_table.empty());
}

TEST(CompileScenario, InvalidServiceIsRefusedWithItsField) {
  std::string text = kWithService;
  text.replace(text.find("port: 80 "), 9, "port: 0 ");
  const auto s = ParseScenario(text);
  ASSERT_TRUE(s.ok()) << s.status();
  ServiceEntries services;
  const auto spec = Compile(*s, {{"pa", 5}}, 1, 1, nullptr, &services);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << spec.status();
  EXPECT_NE(std::string(spec.status().message()).find("state.services[0].ports[0].port"),
            std::string::npos)
      << spec.status();
}

TEST(CompileScenario, NoServicesNoEntries) {
  const auto s = ParseScenario(kValid);
  ASSERT_TRUE(s.ok()) << s.status();
  ServiceEntries services;
  ASSERT_TRUE(
      Compile(*s, {{"pa", 5}, {"pb", 6}, {"up", 0}, {"h", 1}}, 1, 1, nullptr, &services).ok());
  EXPECT_TRUE(services.empty());
}

}  // namespace
}  // namespace nodeplane::scenario
