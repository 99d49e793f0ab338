// Namespaces and NetworkPolicies (networking.k8s.io/v1) in validated, parsed form. Pure C++; the
// one place they are compiled into dataplane tables is control/compile/policy_compile.h.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nodeplane/addr.h"

namespace nodeplane::ctl {

enum class L4Protocol : uint8_t;
using Labels = std::map<std::string, std::string>;

// Every namespace carries this label with its own name (Kubernetes sets it, immutable).
inline constexpr const char* kNamespaceNameLabel = "kubernetes.io/metadata.name";

struct NamespaceModel {
  std::string name;
  Labels labels;  // always includes kNamespaceNameLabel = name
  friend bool operator==(const NamespaceModel&, const NamespaceModel&) = default;
};

struct LabelRequirement {
  enum class Op : uint8_t { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;
  friend bool operator==(const LabelRequirement&, const LabelRequirement&) = default;
  friend auto operator<=>(const LabelRequirement&, const LabelRequirement&) = default;
};

// matchLabels AND every matchExpression; the empty selector selects everything.
struct LabelSelector {
  Labels match_labels;
  std::vector<LabelRequirement> match_expressions;
  bool Matches(const Labels& labels) const;
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
  friend auto operator<=>(const LabelSelector&, const LabelSelector&) = default;
};

struct IpBlockModel {
  Ip4Prefix cidr;
  std::vector<Ip4Prefix> except;  // each inside cidr
  bool Contains(const Ip4Prefix& p) const;  // p inside cidr and inside no except
  friend bool operator==(const IpBlockModel&, const IpBlockModel&) = default;
};

// from[]/to[] element: selectors (either or both; an absent one means "not given") or an ipBlock.
struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlockModel> ip_block;
  friend bool operator==(const PolicyPeer&, const PolicyPeer&) = default;
};

struct PolicyPort {
  L4Protocol protocol{1};  // TCP unless given
  bool any_port = true;    // no port given: every port of the protocol
  uint16_t port = 0;       // numeric port (any_port false, name empty)
  uint16_t end_port = 0;   // inclusive end of a range; 0: just `port`
  std::string name;        // named port, resolved on the destination pod
  friend bool operator==(const PolicyPort&, const PolicyPort&) = default;
};

struct PolicyRule {
  std::vector<PolicyPort> ports;  // empty: all ports and protocols
  std::vector<PolicyPeer> peers;  // empty: every peer, pods and external addresses alike
  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

struct PolicyKey {
  std::string ns;
  std::string name;
  std::string ToString() const { return ns + "/" + name; }
  friend auto operator<=>(const PolicyKey&, const PolicyKey&) = default;
};

struct NetworkPolicyModel {
  PolicyKey key;
  LabelSelector pod_selector;  // selects pods in key.ns
  bool ingress = true;         // effective policyTypes (after Kubernetes' defaulting)
  bool egress = false;
  bool policy_types_given = false;  // to read the policy back as written
  std::vector<PolicyRule> ingress_rules;
  std::vector<PolicyRule> egress_rules;
  friend bool operator==(const NetworkPolicyModel&, const NetworkPolicyModel&) = default;
};

// The labels a namespace's pods are matched with when the namespace itself is unknown: only the
// name label (a policy may name a namespace before it exists).
Labels DefaultNamespaceLabels(const std::string& name);

}  // namespace nodeplane::ctl
