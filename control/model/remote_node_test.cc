// Unit tests of the overlay's part of the model: this node's VTEP settings and their defaults,
// remote nodes from the API (each invalid field named by its path), their round trip back to the
// API, and the whole-state rules (names, underlay addresses, non-overlapping pod CIDRs, pods on
// remote nodes).
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "control/model/desired_state.h"
#include "control/model/from_proto.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }
Ip4Prefix P(const char* s) { return *Ip4Prefix::Parse(s); }

template <typename T>
T Parse(const std::string& text) {
  T msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &msg)) << text;
  return msg;
}

::testing::AssertionResult RejectedAt(const absl::Status& s, absl::StatusCode code,
                                      const std::string& field) {
  if (s.code() != code) {
    return ::testing::AssertionFailure() << "expected " << absl::StatusCodeToString(code)
                                         << " at \"" << field << "\", got " << s.ToString();
  }
  if (std::string(s.message()).rfind(field + ": ", 0) != 0) {
    return ::testing::AssertionFailure()
           << "message should start with \"" << field << ": \", got \"" << s.message() << "\"";
  }
  return ::testing::AssertionSuccess();
}

// ---- This node's overlay settings ----

TEST(NodeOverlay, DefaultsAreTheFirstAddressVni1Port4789AndEeMac) {
  const auto node = NodeFromProto(
      Parse<v1::Node>(R"pb(name: "n" addresses: "192.168.1.10/24" addresses: "10.0.0.5")pb"),
      "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->vtep, A("192.168.1.10"));
  EXPECT_EQ(node->vni, 1u);
  EXPECT_EQ(node->vxlan_port, 4789);
  EXPECT_EQ(node->vtep_mac.ToString(), "ee:ee:ee:ee:ee:ee");
}

TEST(NodeOverlay, WithoutAddressesThereIsNoVtep) {
  const auto node = NodeFromProto(Parse<v1::Node>(R"pb(name: "n")pb"), "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->vtep, Ip4{});
}

TEST(NodeOverlay, ExplicitSettingsAreKeptAndReadBack) {
  const auto in = Parse<v1::Node>(R"pb(
    name: "n"
    addresses: "192.168.1.10/24"
    addresses: "10.0.0.5/32"
    pod_gateway: "169.254.1.1"
    vtep_address: "10.0.0.5"
    vxlan { vni: 7 udp_port: 8472 vtep_mac: "02:00:00:00:00:aa" }
  )pb");
  const auto node = NodeFromProto(in, "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->vtep, A("10.0.0.5"));
  EXPECT_EQ(node->vni, 7u);
  EXPECT_EQ(node->vxlan_port, 8472);
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(in, NodeToProto(*node))) << diff;
}

struct BadField {
  std::string name;
  std::string text;
  std::string field;
  friend void PrintTo(const BadField& c, std::ostream* os) { *os << c.name; }
};

class NodeOverlayRejects : public ::testing::TestWithParam<BadField> {};

TEST_P(NodeOverlayRejects, NamingTheField) {
  const auto node = NodeFromProto(Parse<v1::Node>(GetParam().text), "node");
  EXPECT_TRUE(RejectedAt(node.status(), absl::StatusCode::kInvalidArgument, GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(Node, NodeOverlayRejects,
                         ::testing::ValuesIn(std::vector<BadField>{
                             {"VtepNotAnAddress", R"pb(name: "n"
                                                       addresses: "10.0.0.1"
                                                       vtep_address: "10.0.0")pb",
                              "node.vtep_address"},
                             {"VtepNotOneOfTheAddresses", R"pb(name: "n"
                                                               addresses: "10.0.0.1"
                                                               vtep_address: "10.0.0.2")pb",
                              "node.vtep_address"},
                             {"VniAbove24Bits", R"pb(name: "n"
                                                     vxlan { vni: 16777216 })pb",
                              "node.vxlan.vni"},
                             {"PortAbove65535", R"pb(name: "n"
                                                     vxlan { udp_port: 65536 })pb",
                              "node.vxlan.udp_port"},
                             {"MacMalformed", R"pb(name: "n"
                                                   vxlan { vtep_mac: "ee:ee:ee" })pb",
                              "node.vxlan.vtep_mac"},
                             {"MacMulticast", R"pb(name: "n"
                                                   vxlan { vtep_mac: "01:00:5e:00:00:01" })pb",
                              "node.vxlan.vtep_mac"},
                             {"MacZero", R"pb(name: "n"
                                              vxlan { vtep_mac: "00:00:00:00:00:00" })pb",
                              "node.vxlan.vtep_mac"},
                         }),
                         [](const auto& info) { return info.param.name; });

// ---- Remote nodes from the API ----

TEST(RemoteNodeFromProto, ValidNodeBecomesTheModelAndReadsBackAsWritten) {
  const auto in = Parse<v1::RemoteNode>(R"pb(
    name: "node-b"
    underlay_address: "192.168.1.12"
    pod_cidrs: "10.244.2.0/24"
    pod_cidrs: "10.245.2.0/24"
    vni: 1
    udp_port: 8472
    vtep_mac: "aa:bb:cc:dd:ee:f0"
  )pb");
  const auto node = RemoteNodeFromProto(in, "remote_nodes[0]");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "node-b");
  EXPECT_EQ(node->underlay, A("192.168.1.12"));
  ASSERT_EQ(node->pod_cidrs.size(), 2u);
  EXPECT_EQ(node->EffectivePort(), 8472);
  EXPECT_EQ(node->EffectiveVtepMac().ToString(), "aa:bb:cc:dd:ee:f0");
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(in, RemoteNodeToProto(*node))) << diff;
}

TEST(RemoteNodeFromProto, ZeroesMeanThisNodesVni4789AndTheEeMac) {
  const auto node = RemoteNodeFromProto(
      Parse<v1::RemoteNode>(R"pb(name: "b" underlay_address: "192.168.1.12")pb"), "");
  ASSERT_TRUE(node.ok()) << node.status();
  NodeModel local{.name = "a", .vni = 99};
  EXPECT_EQ(node->EffectiveVni(&local), 99u);
  EXPECT_EQ(node->EffectiveVni(nullptr), 1u);
  EXPECT_EQ(node->EffectivePort(), 4789);
  EXPECT_EQ(node->EffectiveVtepMac().ToString(), "ee:ee:ee:ee:ee:ee");
  EXPECT_TRUE(node->pod_cidrs.empty()) << "a node without a pod CIDR yet is allowed";
}

class RemoteNodeRejects : public ::testing::TestWithParam<BadField> {};

TEST_P(RemoteNodeRejects, NamingTheField) {
  const auto node = RemoteNodeFromProto(Parse<v1::RemoteNode>(GetParam().text), "remote_nodes[3]");
  EXPECT_TRUE(RejectedAt(node.status(), absl::StatusCode::kInvalidArgument, GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    RemoteNode, RemoteNodeRejects,
    ::testing::ValuesIn(std::vector<BadField>{
        {"NoName", R"pb(underlay_address: "192.168.1.12")pb", "remote_nodes[3].name"},
        {"NameNotDns", R"pb(name: "Node_B" underlay_address: "192.168.1.12")pb",
         "remote_nodes[3].name"},
        {"NoUnderlay", R"pb(name: "b")pb", "remote_nodes[3].underlay_address"},
        {"UnderlayNotIpv4", R"pb(name: "b" underlay_address: "192.168.1")pb",
         "remote_nodes[3].underlay_address"},
        {"UnderlayZero", R"pb(name: "b" underlay_address: "0.0.0.0")pb",
         "remote_nodes[3].underlay_address"},
        {"UnderlayLoopback", R"pb(name: "b" underlay_address: "127.0.0.1")pb",
         "remote_nodes[3].underlay_address"},
        {"UnderlayMulticast", R"pb(name: "b" underlay_address: "239.1.1.1")pb",
         "remote_nodes[3].underlay_address"},
        {"UnderlayBroadcast", R"pb(name: "b" underlay_address: "255.255.255.255")pb",
         "remote_nodes[3].underlay_address"},
        {"CidrWithHostBits", R"pb(name: "b"
                                  underlay_address: "192.168.1.12"
                                  pod_cidrs: "10.244.2.1/24")pb",
         "remote_nodes[3].pod_cidrs[0]"},
        {"CidrsOverlapEachOther",
         R"pb(name: "b"
              underlay_address: "192.168.1.12"
              pod_cidrs: "10.244.0.0/16"
              pod_cidrs: "10.244.2.0/24")pb",
         "remote_nodes[3].pod_cidrs[1]"},
        {"TooManyCidrs",
         R"pb(name: "b"
              underlay_address: "192.168.1.12"
              pod_cidrs: "10.0.0.0/24"
              pod_cidrs: "10.0.1.0/24"
              pod_cidrs: "10.0.2.0/24"
              pod_cidrs: "10.0.3.0/24"
              pod_cidrs: "10.0.4.0/24"
              pod_cidrs: "10.0.5.0/24"
              pod_cidrs: "10.0.6.0/24"
              pod_cidrs: "10.0.7.0/24"
              pod_cidrs: "10.0.8.0/24"
              pod_cidrs: "10.0.9.0/24"
              pod_cidrs: "10.0.10.0/24"
              pod_cidrs: "10.0.11.0/24"
              pod_cidrs: "10.0.12.0/24"
              pod_cidrs: "10.0.13.0/24"
              pod_cidrs: "10.0.14.0/24"
              pod_cidrs: "10.0.15.0/24"
              pod_cidrs: "10.0.16.0/24")pb",
         "remote_nodes[3].pod_cidrs"},
        {"VniAbove24Bits", R"pb(name: "b" underlay_address: "192.168.1.12" vni: 16777216)pb",
         "remote_nodes[3].vni"},
        {"PortAbove65535", R"pb(name: "b" underlay_address: "192.168.1.12" udp_port: 70000)pb",
         "remote_nodes[3].udp_port"},
        {"MacMalformed", R"pb(name: "b" underlay_address: "192.168.1.12" vtep_mac: "aa-bb")pb",
         "remote_nodes[3].vtep_mac"},
        {"MacBroadcast", R"pb(name: "b"
                              underlay_address: "192.168.1.12"
                              vtep_mac: "ff:ff:ff:ff:ff:ff")pb",
         "remote_nodes[3].vtep_mac"},
    }),
    [](const auto& info) { return info.param.name; });

TEST(RemoteNodeFromProto, Ipv6UnderlayIsUnimplemented) {
  const auto node = RemoteNodeFromProto(
      Parse<v1::RemoteNode>(R"pb(name: "b" underlay_address: "fd00::12")pb"), "remote_nodes[0]");
  EXPECT_TRUE(RejectedAt(node.status(), absl::StatusCode::kUnimplemented,
                         "remote_nodes[0].underlay_address"));
}

// ---- The whole state ----

DesiredState Base() {
  DesiredState s;
  s.node = NodeModel{.name = "node-a",
                     .addresses = {Ip4Prefix{A("192.168.1.10"), 24}},
                     .pod_cidrs = {P("10.244.1.0/24")},
                     .pod_gateway = A("169.254.1.1"),
                     .vtep = A("192.168.1.10")};
  return s;
}

void AddRemote(DesiredState& s, const std::string& name, const char* underlay,
               std::vector<Ip4Prefix> cidrs) {
  s.remote_nodes[name] = RemoteNodeModel{.name = name, .underlay = A(underlay), .pod_cidrs = cidrs};
}

::testing::AssertionResult Has(const absl::Status& s, absl::StatusCode code,
                               const std::string& text) {
  if (s.code() == code && std::string(s.message()).find(text) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected " << absl::StatusCodeToString(code)
                                       << " containing \"" << text << "\", got " << s.ToString();
}

TEST(DesiredStateRemoteNodes, DisjointNodesAreValid) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {P("10.244.2.0/24")});
  AddRemote(s, "node-c", "192.168.1.13", {P("10.244.3.0/24"), P("10.250.0.0/16")});
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

TEST(DesiredStateRemoteNodes, PodsOnARemoteNodeAreValid) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {P("10.244.2.0/24")});
  s.pods[{"default", "x"}] =
      PodModel{.key = {"default", "x"}, .ips = {A("10.244.2.5")}, .node_name = "node-b"};
  EXPECT_TRUE(s.Check().ok()) << s.Check();
  s.pods[{"default", "y"}] =
      PodModel{.key = {"default", "y"}, .ips = {A("10.244.9.5")}, .node_name = "node-z"};
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "pod default/y: node_name: unknown node \"node-z\""));
}

TEST(DesiredStateRemoteNodes, ARemoteNodeMayNotBeThisNode) {
  DesiredState s = Base();
  AddRemote(s, "node-a", "192.168.1.12", {});
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "remote node node-a: name: is this node's own name"));
}

TEST(DesiredStateRemoteNodes, UnderlayMayNotBeOneOfOurAddresses) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.10", {});
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "remote node node-b: underlay_address: 192.168.1.10 is this node's own address"));
}

TEST(DesiredStateRemoteNodes, TwoNodesMayNotShareAnUnderlayAddress) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {});
  AddRemote(s, "node-c", "192.168.1.12", {});
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "underlay_address: 192.168.1.12 is already used by remote node node-b"));
}

TEST(DesiredStateRemoteNodes, PodCidrOverlappingThisNodesIsInvalid) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {P("10.244.0.0/16")});
  EXPECT_TRUE(
      Has(s.Check(), absl::StatusCode::kInvalidArgument,
          "remote node node-b: pod_cidrs: 10.244.0.0/16 overlaps this node's 10.244.1.0/24"));
}

TEST(DesiredStateRemoteNodes, PodCidrOverlappingAnotherRemoteNodesIsInvalid) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {P("10.244.2.0/24")});
  AddRemote(s, "node-c", "192.168.1.13", {P("10.244.2.128/25")});
  const absl::Status st = s.Check();
  EXPECT_TRUE(Has(st, absl::StatusCode::kInvalidArgument, "10.244.2.128/25")) << st;
  EXPECT_TRUE(Has(st, absl::StatusCode::kInvalidArgument, "10.244.2.0/24")) << st;
  EXPECT_TRUE(Has(st, absl::StatusCode::kInvalidArgument, "node-b")) << st;
  EXPECT_TRUE(Has(st, absl::StatusCode::kInvalidArgument, "node-c")) << st;
}

TEST(DesiredStateRemoteNodes, AdjacentCidrsDoNotOverlap) {
  DesiredState s = Base();
  AddRemote(s, "node-b", "192.168.1.12", {P("10.244.0.0/24")});
  AddRemote(s, "node-c", "192.168.1.13", {P("10.244.2.0/23")});
  AddRemote(s, "node-d", "192.168.1.14", {P("0.0.0.0/5")});
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

TEST(DesiredStateRemoteNodes, OverlapsAmongThisNodesOwnCidrsStayAccepted) {
  DesiredState s = Base();
  s.node->pod_cidrs.push_back(P("10.244.0.0/16"));
  AddRemote(s, "node-b", "192.168.1.12", {P("10.245.0.0/24")});
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

TEST(DesiredStateRemoteNodes, ManyNodesAreCheckedQuickly) {
  DesiredState s = Base();
  for (int i = 0; i < 5000; ++i) {
    const std::string name = "node-" + std::to_string(i);
    const std::string under = "10.1." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
    const std::string cidr =
        "10." + std::to_string(100 + i / 256) + "." + std::to_string(i % 256) + ".0/24";
    s.remote_nodes[name] =
        RemoteNodeModel{.name = name, .underlay = A(under.c_str()), .pod_cidrs = {P(cidr.c_str())}};
  }
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

}  // namespace
}  // namespace nodeplane::ctl
