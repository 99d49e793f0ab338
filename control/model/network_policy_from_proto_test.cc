// Unit tests of NetworkPolicy and Namespace validation: what Kubernetes rejects is rejected with
// INVALID_ARGUMENT naming the field; policyTypes default as the API server defaults them; valid
// policies read back as written.
#include "control/model/network_policy_from_proto.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "control/model/desired_state.h"

namespace nodeplane::ctl {
namespace {

v1::NetworkPolicy Policy(const std::string& text) {
  v1::NetworkPolicy msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      (text.find("key {") == std::string::npos ? "key { namespace: 'x' name: 'p' } " : "") + text,
      &msg))
      << text;
  return msg;
}

struct BadCase {
  std::string name;
  friend void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }
  std::string text;
  std::string field;  // the message starts with "<field>: "
  std::string says;   // and contains this
};

class NetworkPolicyRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(NetworkPolicyRejects, NamesTheField) {
  const BadCase& c = GetParam();
  const auto got = NetworkPolicyFromProto(Policy(c.text), "network_policies[3]");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
  const std::string msg(got.status().message());
  EXPECT_EQ(msg.rfind("network_policies[3]." + c.field + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, NetworkPolicyRejects,
    ::testing::Values(
        BadCase{"UnknownOperator",
                "pod_selector { match_expressions { key: 'a' operator: 'Is' values: 'b' } }",
                "pod_selector.match_expressions[0].operator", "unknown operator \"Is\""},
        BadCase{"ValuesWithExists",
                "ingress { peers { pod_selector { match_expressions { key: 'a' operator: "
                "'Exists' values: 'b' } } } }",
                "ingress[0].from[0].pod_selector.match_expressions[0].values",
                "must be empty when operator is Exists"},
        BadCase{"ValuesWithDoesNotExist",
                "egress { peers { namespace_selector { match_expressions { key: 'a' operator: "
                "'DoesNotExist' values: 'b' } } } }",
                "egress[0].to[0].namespace_selector.match_expressions[0].values",
                "must be empty when operator is DoesNotExist"},
        BadCase{"InWithoutValues",
                "pod_selector { match_expressions { key: 'a' operator: 'In' } }",
                "pod_selector.match_expressions[0].values", "must be non-empty"},
        BadCase{"NotInWithoutValues",
                "pod_selector { match_expressions { key: 'a' operator: 'NotIn' } }",
                "pod_selector.match_expressions[0].values", "must be non-empty"},
        BadCase{"BadLabelKey", "pod_selector { match_labels { key: '-a' value: 'b' } }",
                "pod_selector.match_labels[\"-a\"]", "invalid label key"},
        BadCase{"BadLabelKeyPrefix",
                "pod_selector { match_labels { key: 'Example.com/a' value: 'b' } }",
                "pod_selector.match_labels[\"Example.com/a\"]", "invalid label key"},
        BadCase{"BadLabelValue", "pod_selector { match_labels { key: 'a' value: 'b c' } }",
                "pod_selector.match_labels[\"a\"]", "invalid label value"},
        BadCase{"BadExpressionValue",
                "pod_selector { match_expressions { key: 'a' operator: 'In' values: 'ok' values: "
                "'-bad' } }",
                "pod_selector.match_expressions[0].values[1]", "invalid label value"},
        BadCase{"MalformedCidr", "ingress { peers { ip_block { cidr: '10.0.0.0/33' } } }",
                "ingress[0].from[0].ip_block.cidr", "not a CIDR"},
        BadCase{"CidrWithoutLength", "ingress { peers { ip_block { cidr: '10.0.0.1' } } }",
                "ingress[0].from[0].ip_block.cidr", "not a CIDR"},
        BadCase{"MalformedExcept",
                "ingress { peers { ip_block { cidr: '10.0.0.0/8' except: '10.1.0/16' } } }",
                "ingress[0].from[0].ip_block.except[0]", "not a CIDR"},
        BadCase{"ExceptOutsideCidr",
                "ingress { peers { ip_block { cidr: '10.0.0.0/16' except: '10.1.0.0/24' } } }",
                "ingress[0].from[0].ip_block.except[0]", "is not inside cidr 10.0.0.0/16"},
        BadCase{"ExceptEqualToCidr",
                "egress { peers { ip_block { cidr: '10.0.0.0/16' except: '10.0.0.0/16' } } }",
                "egress[0].to[0].ip_block.except[0]", "is not inside cidr"},
        BadCase{"EndPortWithoutPort", "ingress { ports { end_port: 90 } }",
                "ingress[0].ports[0].end_port", "requires a numeric port_number"},
        BadCase{"EndPortBelowPort", "ingress { ports { port_number: 80 end_port: 79 } }",
                "ingress[0].ports[0].end_port", "79 is below port_number 80"},
        BadCase{"EndPortWithNamedPort", "egress { ports { port_name: 'http' end_port: 90 } }",
                "egress[0].ports[0].end_port", "may not be used with a named port"},
        BadCase{"UnknownProtocol", "ingress { ports { protocol: 7 port_number: 80 } }",
                "ingress[0].ports[0].protocol", "unknown protocol 7"},
        BadCase{"PortZero", "ingress { ports { port_number: 0 } }",
                "ingress[0].ports[0].port_number", "must be 1..65535"},
        BadCase{"BadPortName", "ingress { ports { port_name: 'HTTP' } }",
                "ingress[0].ports[0].port_name", "not a port name"},
        BadCase{"IpBlockWithPodSelector",
                "ingress { peers { pod_selector {} ip_block { cidr: '10.0.0.0/8' } } }",
                "ingress[0].from[0]", "ip_block may not be combined"},
        BadCase{"IpBlockWithNamespaceSelector",
                "egress { peers { namespace_selector {} ip_block { cidr: '10.0.0.0/8' } } }",
                "egress[0].to[0]", "ip_block may not be combined"},
        BadCase{"EmptyPeer", "ingress { peers {} }", "ingress[0].from[0]",
                "must give pod_selector, namespace_selector or ip_block"},
        BadCase{"BadNamespace", "key { namespace: 'X' name: 'p' }", "key.namespace", "DNS label"},
        BadCase{"UnknownPolicyType", "policy_types: 9", "policy_types[0]",
                "unknown policy type 9"}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(NetworkPolicyFromProto, PolicyTypesDefaultToIngressPlusEgressWhenEgressRulesExist) {
  auto ingress_only = NetworkPolicyFromProto(Policy("ingress {}"), "");
  ASSERT_TRUE(ingress_only.ok()) << ingress_only.status();
  EXPECT_TRUE(ingress_only->ingress);
  EXPECT_FALSE(ingress_only->egress);

  auto with_egress = NetworkPolicyFromProto(Policy("egress { ports { port_number: 53 } }"), "");
  ASSERT_TRUE(with_egress.ok()) << with_egress.status();
  EXPECT_TRUE(with_egress->ingress);
  EXPECT_TRUE(with_egress->egress);

  // No rules and no types: an ingress default-deny, not an egress one.
  auto empty = NetworkPolicyFromProto(Policy(""), "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->ingress);
  EXPECT_FALSE(empty->egress);

  auto egress_only = NetworkPolicyFromProto(Policy("policy_types: EGRESS"), "");
  ASSERT_TRUE(egress_only.ok());
  EXPECT_FALSE(egress_only->ingress);
  EXPECT_TRUE(egress_only->egress);
}

TEST(NetworkPolicyFromProto, AcceptsWhatKubernetesAcceptsAndReadsBack) {
  const v1::NetworkPolicy in = Policy(R"(
    pod_selector { match_labels { key: 'app' value: 'db' } }
    policy_types: INGRESS policy_types: EGRESS
    ingress {
      ports { protocol: TCP port_number: 5432 }
      ports { protocol: UDP port_number: 53 end_port: 80 }
      ports { protocol: SCTP port_name: 'serve-80-sctp' }
      peers { pod_selector { match_expressions { key: 'example.com/tier' operator: 'NotIn'
                                                 values: 'web' } }
              namespace_selector { match_labels { key: 'kubernetes.io/metadata.name'
                                                  value: 'y' } } }
      peers { ip_block { cidr: '10.244.0.0/16' except: '10.244.2.0/24' } }
    }
    egress { peers { namespace_selector { match_expressions { key: 'a' operator: 'Exists' } } } })");
  auto m = NetworkPolicyFromProto(in, "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ingress_rules[0].ports[1].end_port, 80);
  EXPECT_EQ(m->ingress_rules[0].ports[2].name, "serve-80-sctp");
  const v1::NetworkPolicy back = NetworkPolicyToProto(*m);
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(in, back)) << diff;
}

TEST(NetworkPolicyFromProto, CidrHostBitsAreClearedAsKubernetesDoes) {
  auto m = NetworkPolicyFromProto(Policy("ingress { peers { ip_block { cidr: '10.1.2.3/16' } } }"), "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ingress_rules[0].peers[0].ip_block->cidr.ToString(), "10.1.0.0/16");
}

TEST(NamespaceFromProto, AlwaysCarriesItsNameLabel) {
  v1::Namespace ns;
  ns.set_name("y");
  (*ns.mutable_labels())["ns"] = "y";
  (*ns.mutable_labels())[kNamespaceNameLabel] = "forged";
  auto m = NamespaceFromProto(ns, "namespaces[0]");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->labels.at(kNamespaceNameLabel), "y");
  EXPECT_EQ(m->labels.at("ns"), "y");

  ns.set_name("Bad_Name");
  auto bad = NamespaceFromProto(ns, "namespaces[0]");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()).rfind("namespaces[0].name: ", 0), 0u);

  ns.set_name("y");
  (*ns.mutable_labels())["a b"] = "c";
  auto bad_label = NamespaceFromProto(ns, "namespaces[0]");
  EXPECT_EQ(std::string(bad_label.status().message()).rfind("namespaces[0].labels[\"a b\"]: ", 0),
            0u)
      << bad_label.status();
}

TEST(LabelSelector, NotInAndDoesNotExistMatchAnAbsentKey) {
  LabelSelector not_in{{}, {{"pod", LabelRequirement::Op::kNotIn, {"a"}}}};
  EXPECT_TRUE(not_in.Matches({}));
  EXPECT_TRUE(not_in.Matches({{"pod", "b"}}));
  EXPECT_FALSE(not_in.Matches({{"pod", "a"}}));
  LabelSelector absent{{}, {{"pod", LabelRequirement::Op::kDoesNotExist, {}}}};
  EXPECT_TRUE(absent.Matches({{"other", "x"}}));
  EXPECT_FALSE(absent.Matches({{"pod", ""}}));
  LabelSelector both{{{"app", "web"}}, {{"tier", LabelRequirement::Op::kIn, {"a", "b"}}}};
  EXPECT_TRUE(both.Matches({{"app", "web"}, {"tier", "b"}}));
  EXPECT_FALSE(both.Matches({{"app", "web"}, {"tier", "c"}}));
  EXPECT_FALSE(both.Matches({{"tier", "a"}}));
  EXPECT_TRUE(LabelSelector{}.Matches({}));
}

}  // namespace
}  // namespace nodeplane::ctl
