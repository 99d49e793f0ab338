// Unit tests of API → model conversion: valid input becomes the model (and round-trips), invalid
// input is INVALID_ARGUMENT naming the offending field by its path, IPv6 is UNIMPLEMENTED.
#include "control/model/from_proto.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace nodeplane::ctl {
namespace {

template <typename T>
T Parse(const std::string& text) {
  T msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &msg)) << text;
  return msg;
}

// The status is `code` and its message starts with the field path, then ": ".
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

::testing::AssertionResult InvalidAt(const absl::Status& s, const std::string& field) {
  return RejectedAt(s, absl::StatusCode::kInvalidArgument, field);
}

// ---- Node ----

TEST(NodeFromProto, ValidNodeBecomesTheModel) {
  const auto node = NodeFromProto(Parse<v1::Node>(R"pb(
                                    name: "node-a.example"
                                    addresses: "192.168.1.10/24"
                                    addresses: "10.0.0.5"
                                    pod_cidrs: "10.244.1.0/24"
                                    pod_cidrs: "10.245.0.0/16"
                                  )pb"),
                                  "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "node-a.example");
  ASSERT_EQ(node->addresses.size(), 2u);
  EXPECT_EQ(node->addresses[0].ToString(), "192.168.1.10/24") << "an address keeps its host bits";
  EXPECT_EQ(node->addresses[1].ToString(), "10.0.0.5/32") << "a bare address means /32";
  ASSERT_EQ(node->pod_cidrs.size(), 2u);
  EXPECT_EQ(node->pod_cidrs[1].ToString(), "10.245.0.0/16");
  EXPECT_EQ(node->pod_gateway.ToString(), kDefaultPodGateway);
}

TEST(NodeFromProto, ExplicitGatewayIsKept) {
  const auto node =
      NodeFromProto(Parse<v1::Node>(R"pb(name: "n" pod_gateway: "10.244.1.1")pb"), "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->pod_gateway.ToString(), "10.244.1.1");
}

TEST(NodeFromProto, RoundTripsThroughNodeToProto) {
  const auto in = Parse<v1::Node>(R"pb(
    name: "node-a"
    addresses: "192.168.1.10/24"
    pod_cidrs: "10.244.1.0/24"
    pod_gateway: "169.254.1.1"
  )pb");
  const auto node = NodeFromProto(in, "");
  ASSERT_TRUE(node.ok()) << node.status();
  const v1::Node out = NodeToProto(*node);
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(in, out)) << diff;
}

struct BadNode {
  std::string name;
  friend void PrintTo(const BadNode& c, std::ostream* os) { *os << c.name; }
  std::string text;
  absl::StatusCode code;
  std::string field;
};

class NodeFromProtoRejects : public ::testing::TestWithParam<BadNode> {};

TEST_P(NodeFromProtoRejects, NamingTheField) {
  const BadNode& c = GetParam();
  const auto node = NodeFromProto(Parse<v1::Node>(c.text), "node");
  EXPECT_TRUE(RejectedAt(node.status(), c.code, c.field));
}

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kUnimplemented = absl::StatusCode::kUnimplemented;

INSTANTIATE_TEST_SUITE_P(
    NodeFromProto, NodeFromProtoRejects,
    ::testing::Values(
        BadNode{"EmptyName", R"pb(name: "")pb", kInvalid, "node.name"},
        BadNode{"UppercaseName", R"pb(name: "Node-A")pb", kInvalid, "node.name"},
        BadNode{"NameStartingWithDash", R"pb(name: "-a")pb", kInvalid, "node.name"},
        BadNode{"NameWithUnderscore", R"pb(name: "node_a")pb", kInvalid, "node.name"},
        BadNode{"NameTooLong", "name: \"" + std::string(254, 'a') + "\"", kInvalid, "node.name"},
        BadNode{"AddressNotAnAddress", R"pb(name: "n" addresses: "10.0.0.1" addresses: "10.0.0")pb",
                kInvalid, "node.addresses[1]"},
        BadNode{"AddressOctetTooLarge", R"pb(name: "n" addresses: "10.0.0.256/24")pb", kInvalid,
                "node.addresses[0]"},
        BadNode{"AddressPrefixTooLong", R"pb(name: "n" addresses: "10.0.0.1/33")pb", kInvalid,
                "node.addresses[0]"},
        BadNode{"AddressPrefixEmpty", R"pb(name: "n" addresses: "10.0.0.1/")pb", kInvalid,
                "node.addresses[0]"},
        BadNode{"AddressPrefixNotANumber", R"pb(name: "n" addresses: "10.0.0.1/2x")pb", kInvalid,
                "node.addresses[0]"},
        BadNode{"AddressPrefixThreeDigits", R"pb(name: "n" addresses: "10.0.0.1/024")pb", kInvalid,
                "node.addresses[0]"},
        BadNode{"AddressIp6", R"pb(name: "n" addresses: "fd00::1")pb", kUnimplemented,
                "node.addresses[0]"},
        BadNode{"PodCidrWithHostBits", R"pb(name: "n" pod_cidrs: "10.244.1.1/24")pb", kInvalid,
                "node.pod_cidrs[0]"},
        BadNode{"PodCidrGarbage", R"pb(name: "n" pod_cidrs: "10.244.1.0/24" pod_cidrs: "x")pb",
                kInvalid, "node.pod_cidrs[1]"},
        BadNode{"PodCidrIp6", R"pb(name: "n" pod_cidrs: "fd00:10:244::/64")pb", kUnimplemented,
                "node.pod_cidrs[0]"},
        BadNode{"GatewayNotAnAddress", R"pb(name: "n" pod_gateway: "169.254.1")pb", kInvalid,
                "node.pod_gateway"},
        BadNode{"GatewayIp6", R"pb(name: "n" pod_gateway: "fe80::1")pb", kUnimplemented,
                "node.pod_gateway"}),
    [](const ::testing::TestParamInfo<BadNode>& info) { return info.param.name; });

TEST(NodeFromProto, TopLevelFieldHasNoPrefix) {
  const auto node = NodeFromProto(Parse<v1::Node>(R"pb(name: "")pb"), "");
  EXPECT_TRUE(InvalidAt(node.status(), "name"));
}

// ---- Pod keys and pods ----

struct BadPod {
  std::string name;
  friend void PrintTo(const BadPod& c, std::ostream* os) { *os << c.name; }
  std::string text;
  absl::StatusCode code;
  std::string field;
};

class PodFromProtoRejects : public ::testing::TestWithParam<BadPod> {};

TEST_P(PodFromProtoRejects, NamingTheField) {
  const BadPod& c = GetParam();
  const auto pod = PodFromProto(Parse<v1::Pod>(c.text), "pods[2]");
  EXPECT_TRUE(RejectedAt(pod.status(), c.code, c.field));
}

#define NP_KEY R"pb(key { namespace: "default" name: "web-1" })pb"

INSTANTIATE_TEST_SUITE_P(
    PodFromProto, PodFromProtoRejects,
    ::testing::Values(
        BadPod{"MissingKey", "", kInvalid, "pods[2].key.namespace"},
        BadPod{"NamespaceWithDot", R"pb(key { namespace: "a.b" name: "x" })pb", kInvalid,
               "pods[2].key.namespace"},
        BadPod{"NamespaceTooLong",
               "key { namespace: \"" + std::string(64, 'a') + "\" name: \"x\" }", kInvalid,
               "pods[2].key.namespace"},
        BadPod{"NamespaceUppercase", R"pb(key { namespace: "Default" name: "x" })pb", kInvalid,
               "pods[2].key.namespace"},
        BadPod{"EmptyName", R"pb(key { namespace: "default" name: "" })pb", kInvalid,
               "pods[2].key.name"},
        BadPod{"NameEndingWithDash", R"pb(key { namespace: "default" name: "web-" })pb", kInvalid,
               "pods[2].key.name"},
        BadPod{"IpNotAnAddress", NP_KEY R"pb(ips: "10.244.1")pb", kInvalid, "pods[2].ips[0]"},
        BadPod{"IpWithPrefix", NP_KEY R"pb(ips: "10.244.1.5/32")pb", kInvalid, "pods[2].ips[0]"},
        BadPod{"IpIp6", NP_KEY R"pb(ips: "fd00::5")pb", kUnimplemented, "pods[2].ips[0]"},
        BadPod{"DualStack", NP_KEY R"pb(ips: "10.244.1.5" ips: "fd00::5")pb", kUnimplemented,
               "pods[2].ips"},
        BadPod{"PortZero", NP_KEY R"pb(ports { port: 0 })pb", kInvalid, "pods[2].ports[0].port"},
        BadPod{"PortTooLarge", NP_KEY R"pb(ports { port: 80 }
                                           ports { port: 65536 })pb",
               kInvalid, "pods[2].ports[1].port"},
        BadPod{"PortUnknownProtocol", NP_KEY R"pb(ports { port: 80 protocol: 99 })pb", kInvalid,
               "pods[2].ports[0].protocol"},
        BadPod{"DuplicatePortName", NP_KEY R"pb(ports { name: "http" port: 80 }
                                                ports { name: "http" port: 81 })pb",
               kInvalid, "pods[2].ports[1].name"},
        BadPod{"EmptyLabelKey", NP_KEY R"pb(labels { key: "" value: "x" })pb", kInvalid,
               "pods[2].labels"},
        BadPod{"LabelValueTooLong",
               NP_KEY "labels { key: \"app\" value: \"" + std::string(64, 'v') + "\" }", kInvalid,
               "pods[2].labels"}),
    [](const ::testing::TestParamInfo<BadPod>& info) { return info.param.name; });

TEST(PodFromProto, TooManyLabelsIsRejected) {
  v1::Pod pod = Parse<v1::Pod>(NP_KEY);
  for (int i = 0; i <= kMaxLabelsPerObject; ++i) {
    (*pod.mutable_labels())["l" + std::to_string(i)] = "v";
  }
  EXPECT_TRUE(InvalidAt(PodFromProto(pod, "pods[0]").status(), "pods[0].labels"));
}

TEST(PodFromProto, ValidPodBecomesTheModelAndRoundTrips) {
  const auto in = Parse<v1::Pod>(R"pb(
    key { namespace: "default" name: "web-1.example" }
    ips: "10.244.1.5"
    labels { key: "app" value: "web" }
    labels { key: "example.com/tier" value: "" }
    node_name: "node-a"
    ports { name: "http" port: 8080 protocol: TCP }
    ports { name: "dns" port: 53 protocol: UDP }
    ports { port: 9000 protocol: SCTP }
  )pb");
  const auto pod = PodFromProto(in, "pods[0]");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->key.ToString(), "default/web-1.example");
  ASSERT_EQ(pod->ips.size(), 1u);
  EXPECT_EQ(pod->ips[0].ToString(), "10.244.1.5");
  EXPECT_EQ(pod->labels.at("app"), "web");
  EXPECT_EQ(pod->node_name, "node-a");
  ASSERT_EQ(pod->ports.size(), 3u);
  EXPECT_EQ(pod->ports[1].port, 53);
  EXPECT_EQ(pod->ports[1].protocol, L4Protocol::kUdp);
  EXPECT_EQ(pod->ports[2].protocol, L4Protocol::kSctp);

  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(in, PodToProto(*pod))) << diff;
}

TEST(PodFromProto, UnspecifiedProtocolMeansTcp) {
  const auto pod = PodFromProto(Parse<v1::Pod>(NP_KEY R"pb(ports { port: 80 })pb"), "");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->ports[0].protocol, L4Protocol::kTcp);
}

TEST(PodFromProto, PodWithoutAddressIsAccepted) {
  // A pending pod has no IP yet; it is known but routes nothing.
  const auto pod = PodFromProto(Parse<v1::Pod>(NP_KEY), "");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_TRUE(pod->ips.empty());
}

TEST(Ip4FromString, NamesTheFieldItWasGiven) {
  EXPECT_TRUE(InvalidAt(Ip4FromString("1.2.3", "a.b[3].c").status(), "a.b[3].c"));
  EXPECT_TRUE(RejectedAt(Ip4FromString("::1", "x").status(), kUnimplemented, "x"));
  const auto ok = Ip4FromString("1.2.3.4", "x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host(), 0x01020304u);
}

// ---- Node zone (topology hints) ----

TEST(NodeFromProto, ZoneIsKeptAndReadBack) {
  const auto in = Parse<v1::Node>(R"pb(name: "node-a" zone: "eu-west-1a")pb");
  const auto node = NodeFromProto(in, "node");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->zone, "eu-west-1a");
  EXPECT_EQ(NodeToProto(*node).zone(), "eu-west-1a");
  const auto none = NodeFromProto(Parse<v1::Node>(R"pb(name: "node-a")pb"), "node");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->zone, "") << "no label: no zone, hints ignored";
}

TEST(NodeFromProto, ZoneThatIsNotALabelValueIsRejected) {
  for (const std::string& zone : {std::string("zone a"), std::string("-zone"), std::string("zone/1"),
                                  std::string(64, 'z')}) {
    v1::Node n;
    n.set_name("node-a");
    n.set_zone(zone);
    EXPECT_TRUE(InvalidAt(NodeFromProto(n, "node").status(), "node.zone")) << zone;
  }
}

}  // namespace
}  // namespace nodeplane::ctl
