#include "control/model/network_policy_from_proto.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "control/model/desired_state.h"
#include "control/model/field_errors.h"

namespace nodeplane::ctl {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?, at most 63 characters (the empty string is not one).
bool IsLabelName(const std::string& s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Lower-case RFC 1123 subdomain of at most 253 characters.
bool IsDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  for (char c : s) {
    if (!lower_alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

// "[prefix/]name": the prefix a DNS subdomain, the name a label name.
bool IsQualifiedName(const std::string& key) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return IsLabelName(key);
  if (key.find('/', slash + 1) != std::string::npos) return false;
  return IsDnsSubdomain(key.substr(0, slash)) && IsLabelName(key.substr(slash + 1));
}

bool IsLabelValue(const std::string& v) { return v.empty() || IsLabelName(v); }

absl::Status CheckKey(const std::string& key, const std::string& field) {
  if (!IsQualifiedName(key)) {
    return Invalid(field, "invalid label key \"" + key +
                              "\" (want [prefix/]name: name of 1-63 alphanumerics, '-', '_' or "
                              "'.', alphanumeric at both ends; prefix a DNS subdomain)");
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const std::string& value, const std::string& field) {
  if (!IsLabelValue(value)) {
    return Invalid(field, "invalid label value \"" + value +
                              "\" (at most 63 alphanumerics, '-', '_' or '.', alphanumeric at "
                              "both ends, or empty)");
  }
  return absl::OkStatus();
}

absl::StatusOr<LabelSelector> SelectorFromProto(const v1::LabelSelector& sel,
                                                const std::string& field) {
  LabelSelector out;
  for (const auto& [k, v] : sel.match_labels()) {
    const std::string f = absl::StrCat(field, ".match_labels[\"", k, "\"]");
    if (absl::Status s = CheckKey(k, f); !s.ok()) return s;
    if (absl::Status s = CheckValue(v, f); !s.ok()) return s;
    out.match_labels.emplace(k, v);
  }
  for (int i = 0; i < sel.match_expressions_size(); ++i) {
    const v1::LabelSelectorRequirement& r = sel.match_expressions(i);
    const std::string f = absl::StrCat(field, ".match_expressions[", i, "]");
    LabelRequirement req;
    if (absl::Status s = CheckKey(r.key(), f + ".key"); !s.ok()) return s;
    req.key = r.key();
    const std::string& op = r.operator_();
    if (op == "In") {
      req.op = LabelRequirement::Op::kIn;
    } else if (op == "NotIn") {
      req.op = LabelRequirement::Op::kNotIn;
    } else if (op == "Exists") {
      req.op = LabelRequirement::Op::kExists;
    } else if (op == "DoesNotExist") {
      req.op = LabelRequirement::Op::kDoesNotExist;
    } else {
      return Invalid(f + ".operator",
                     "unknown operator \"" + op + "\" (In, NotIn, Exists or DoesNotExist)");
    }
    const bool set_op = req.op == LabelRequirement::Op::kIn || req.op == LabelRequirement::Op::kNotIn;
    if (set_op && r.values_size() == 0) {
      return Invalid(f + ".values", "must be non-empty when operator is " + op);
    }
    if (!set_op && r.values_size() > 0) {
      return Invalid(f + ".values", "must be empty when operator is " + op);
    }
    for (int j = 0; j < r.values_size(); ++j) {
      if (absl::Status s = CheckValue(r.values(j), absl::StrCat(f, ".values[", j, "]")); !s.ok()) {
        return s;
      }
      req.values.push_back(r.values(j));
    }
    out.match_expressions.push_back(std::move(req));
  }
  return out;
}

// "a.b.c.d/len"; host bits are allowed and cleared, as the API server's CIDR parsing does.
absl::StatusOr<Ip4Prefix> CidrFromString(const std::string& text, const std::string& field) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return Invalid(field, "not a CIDR (a.b.c.d/len): \"" + text + "\"");
  }
  const std::string len_text = text.substr(slash + 1);
  const auto ip = Ip4::Parse(text.substr(0, slash));
  if (text.find(':') != std::string::npos) {
    return absl::UnimplementedError(absl::StrCat(field, ": IPv6 is not supported yet: ", text));
  }
  if (!ip || len_text.empty() || len_text.size() > 2 ||
      len_text.find_first_not_of("0123456789") != std::string::npos || std::stoi(len_text) > 32) {
    return Invalid(field, "not a CIDR (a.b.c.d/len): \"" + text + "\"");
  }
  const uint8_t len = static_cast<uint8_t>(std::stoi(len_text));
  const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return Ip4Prefix{Ip4::FromHost(ip->host() & mask), len};
}

absl::StatusOr<IpBlockModel> IpBlockFromProto(const v1::IpBlock& block, const std::string& field) {
  IpBlockModel out;
  auto cidr = CidrFromString(block.cidr(), field + ".cidr");
  if (!cidr.ok()) return cidr.status();
  out.cidr = *cidr;
  for (int i = 0; i < block.except_size(); ++i) {
    const std::string f = absl::StrCat(field, ".except[", i, "]");
    auto e = CidrFromString(block.except(i), f);
    if (!e.ok()) return e.status();
    // Kubernetes: each except must be strictly inside cidr.
    if (e->len <= out.cidr.len || !out.cidr.Contains(e->addr)) {
      return Invalid(f, absl::StrCat(e->ToString(), " is not inside cidr ", out.cidr.ToString()));
    }
    out.except.push_back(*e);
  }
  return out;
}

absl::StatusOr<PolicyPeer> PeerFromProto(const v1::NetworkPolicyPeer& peer,
                                         const std::string& field) {
  PolicyPeer out;
  const bool selectors = peer.has_pod_selector() || peer.has_namespace_selector();
  if (peer.has_ip_block() && selectors) {
    return Invalid(field, "ip_block may not be combined with pod_selector or namespace_selector");
  }
  if (!peer.has_ip_block() && !selectors) {
    return Invalid(field, "must give pod_selector, namespace_selector or ip_block");
  }
  if (peer.has_pod_selector()) {
    auto s = SelectorFromProto(peer.pod_selector(), field + ".pod_selector");
    if (!s.ok()) return s.status();
    out.pod_selector = std::move(*s);
  }
  if (peer.has_namespace_selector()) {
    auto s = SelectorFromProto(peer.namespace_selector(), field + ".namespace_selector");
    if (!s.ok()) return s.status();
    out.namespace_selector = std::move(*s);
  }
  if (peer.has_ip_block()) {
    auto b = IpBlockFromProto(peer.ip_block(), field + ".ip_block");
    if (!b.ok()) return b.status();
    out.ip_block = std::move(*b);
  }
  return out;
}

// IANA_SVC_NAME: 1-15 lower-case alphanumerics or '-', at least one letter, no leading, trailing
// or double '-'.
bool IsPortName(const std::string& s) {
  if (s.empty() || s.size() > 15 || s.front() == '-' || s.back() == '-') return false;
  bool letter = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (!(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
    if (c == '-' && i > 0 && s[i - 1] == '-') return false;
  }
  return letter;
}

absl::StatusOr<PolicyPort> PortFromProto(const v1::NetworkPolicyPort& port,
                                         const std::string& field) {
  PolicyPort out;
  switch (port.protocol()) {
    case v1::PROTOCOL_UNSPECIFIED:
    case v1::TCP:
      out.protocol = L4Protocol::kTcp;
      break;
    case v1::UDP:
      out.protocol = L4Protocol::kUdp;
      break;
    case v1::SCTP:
      out.protocol = L4Protocol::kSctp;
      break;
    default:
      return Invalid(field + ".protocol",
                     absl::StrCat("unknown protocol ", static_cast<int>(port.protocol()),
                                  " (TCP, UDP or SCTP)"));
  }
  switch (port.port_case()) {
    case v1::NetworkPolicyPort::kPortNumber:
      if (port.port_number() == 0 || port.port_number() > 65535) {
        return Invalid(field + ".port_number",
                       absl::StrCat("must be 1..65535, got ", port.port_number()));
      }
      out.any_port = false;
      out.port = static_cast<uint16_t>(port.port_number());
      break;
    case v1::NetworkPolicyPort::kPortName:
      if (!IsPortName(port.port_name())) {
        return Invalid(field + ".port_name",
                       "not a port name (1-15 lower-case alphanumerics or '-', with a letter): \"" +
                           port.port_name() + "\"");
      }
      out.any_port = false;
      out.name = port.port_name();
      break;
    case v1::NetworkPolicyPort::PORT_NOT_SET:
      break;
  }
  if (port.end_port() != 0) {
    const std::string f = field + ".end_port";
    if (!out.name.empty()) return Invalid(f, "may not be used with a named port");
    if (out.any_port) return Invalid(f, "requires a numeric port_number");
    if (port.end_port() > 65535) {
      return Invalid(f, absl::StrCat("must be 1..65535, got ", port.end_port()));
    }
    if (port.end_port() < out.port) {
      return Invalid(f, absl::StrCat(port.end_port(), " is below port_number ", out.port));
    }
    out.end_port = static_cast<uint16_t>(port.end_port());
  }
  return out;
}

absl::StatusOr<std::vector<PolicyRule>> RulesFromProto(
    const google::protobuf::RepeatedPtrField<v1::NetworkPolicyRule>& rules,
    const std::string& field, const char* peers_name) {
  std::vector<PolicyRule> out;
  for (int i = 0; i < rules.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    PolicyRule rule;
    for (int j = 0; j < rules[i].ports_size(); ++j) {
      auto p = PortFromProto(rules[i].ports(j), absl::StrCat(f, ".ports[", j, "]"));
      if (!p.ok()) return p.status();
      rule.ports.push_back(std::move(*p));
    }
    for (int j = 0; j < rules[i].peers_size(); ++j) {
      auto p = PeerFromProto(rules[i].peers(j), absl::StrCat(f, ".", peers_name, "[", j, "]"));
      if (!p.ok()) return p.status();
      rule.peers.push_back(std::move(*p));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

absl::Status CheckLabels(const Labels& labels, const std::string& field) {
  if (labels.size() > 256) return Invalid(field, "too many labels (at most 256)");
  for (const auto& [k, v] : labels) {
    const std::string f = absl::StrCat(field, "[\"", k, "\"]");
    if (absl::Status s = CheckKey(k, f); !s.ok()) return s;
    if (absl::Status s = CheckValue(v, f); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<NamespaceModel> NamespaceFromProto(const v1::Namespace& ns,
                                                  const std::string& field) {
  NamespaceModel out;
  // A DNS label: lower-case alphanumerics and '-', at most 63.
  const std::string& name = ns.name();
  if (name.empty() || name.size() > 63 || name.find('.') != std::string::npos ||
      !IsDnsSubdomain(name)) {
    return Invalid(field + ".name", "must be a DNS label: \"" + name + "\"");
  }
  out.name = name;
  Labels labels(ns.labels().begin(), ns.labels().end());
  if (absl::Status s = CheckLabels(labels, field + ".labels"); !s.ok()) return s;
  // The API server always sets it to the name, whatever the client sent.
  labels[kNamespaceNameLabel] = name;
  out.labels = std::move(labels);
  return out;
}

absl::StatusOr<PolicyKey> PolicyKeyFromProto(const v1::NetworkPolicyKey& key,
                                             const std::string& field) {
  const std::string& ns = key.namespace_();
  if (ns.empty() || ns.size() > 63 || ns.find('.') != std::string::npos || !IsDnsSubdomain(ns)) {
    return Invalid(field + ".namespace", "must be a DNS label: \"" + ns + "\"");
  }
  if (!IsDnsSubdomain(key.name())) {
    return Invalid(field + ".name", "must be a DNS subdomain: \"" + key.name() + "\"");
  }
  return PolicyKey{ns, key.name()};
}

absl::StatusOr<NetworkPolicyModel> NetworkPolicyFromProto(const v1::NetworkPolicy& policy,
                                                          const std::string& field) {
  NetworkPolicyModel out;
  auto key = PolicyKeyFromProto(policy.key(), field + ".key");
  if (!key.ok()) return key.status();
  out.key = *key;
  auto sel = SelectorFromProto(policy.pod_selector(), field + ".pod_selector");
  if (!sel.ok()) return sel.status();
  out.pod_selector = std::move(*sel);
  auto ingress = RulesFromProto(policy.ingress(), field + ".ingress", "from");
  if (!ingress.ok()) return ingress.status();
  out.ingress_rules = std::move(*ingress);
  auto egress = RulesFromProto(policy.egress(), field + ".egress", "to");
  if (!egress.ok()) return egress.status();
  out.egress_rules = std::move(*egress);
  if (policy.policy_types_size() == 0) {
    // Kubernetes' defaulting: Ingress always, Egress iff there are egress rules.
    out.ingress = true;
    out.egress = !out.egress_rules.empty();
  } else {
    out.policy_types_given = true;
    out.ingress = out.egress = false;
    for (int i = 0; i < policy.policy_types_size(); ++i) {
      switch (policy.policy_types(i)) {
        case v1::INGRESS:
          out.ingress = true;
          break;
        case v1::EGRESS:
          out.egress = true;
          break;
        default:
          return Invalid(absl::StrCat(field, ".policy_types[", i, "]"),
                         absl::StrCat("unknown policy type ", static_cast<int>(policy.policy_types(i)),
                                      " (INGRESS or EGRESS)"));
      }
    }
  }
  return out;
}

namespace {

v1::LabelSelector SelectorToProto(const LabelSelector& sel) {
  v1::LabelSelector out;
  for (const auto& [k, v] : sel.match_labels) (*out.mutable_match_labels())[k] = v;
  for (const LabelRequirement& r : sel.match_expressions) {
    v1::LabelSelectorRequirement* e = out.add_match_expressions();
    e->set_key(r.key);
    static constexpr const char* kOps[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    e->set_operator_(kOps[static_cast<int>(r.op)]);
    for (const std::string& v : r.values) e->add_values(v);
  }
  return out;
}

void RulesToProto(const std::vector<PolicyRule>& rules,
                  google::protobuf::RepeatedPtrField<v1::NetworkPolicyRule>* out) {
  for (const PolicyRule& rule : rules) {
    v1::NetworkPolicyRule* r = out->Add();
    for (const PolicyPort& p : rule.ports) {
      v1::NetworkPolicyPort* port = r->add_ports();
      port->set_protocol(static_cast<v1::Protocol>(p.protocol));
      if (!p.name.empty()) {
        port->set_port_name(p.name);
      } else if (!p.any_port) {
        port->set_port_number(p.port);
      }
      port->set_end_port(p.end_port);
    }
    for (const PolicyPeer& peer : rule.peers) {
      v1::NetworkPolicyPeer* out_peer = r->add_peers();
      if (peer.pod_selector) *out_peer->mutable_pod_selector() = SelectorToProto(*peer.pod_selector);
      if (peer.namespace_selector) {
        *out_peer->mutable_namespace_selector() = SelectorToProto(*peer.namespace_selector);
      }
      if (peer.ip_block) {
        out_peer->mutable_ip_block()->set_cidr(peer.ip_block->cidr.ToString());
        for (const Ip4Prefix& e : peer.ip_block->except) {
          out_peer->mutable_ip_block()->add_except(e.ToString());
        }
      }
    }
  }
}

}  // namespace

v1::NetworkPolicyKey PolicyKeyToProto(const PolicyKey& key) {
  v1::NetworkPolicyKey k;
  k.set_namespace_(key.ns);
  k.set_name(key.name);
  return k;
}

v1::Namespace NamespaceToProto(const NamespaceModel& ns) {
  v1::Namespace out;
  out.set_name(ns.name);
  for (const auto& [k, v] : ns.labels) (*out.mutable_labels())[k] = v;
  return out;
}

v1::NetworkPolicy NetworkPolicyToProto(const NetworkPolicyModel& policy) {
  v1::NetworkPolicy out;
  *out.mutable_key() = PolicyKeyToProto(policy.key);
  *out.mutable_pod_selector() = SelectorToProto(policy.pod_selector);
  if (policy.policy_types_given) {
    if (policy.ingress) out.add_policy_types(v1::INGRESS);
    if (policy.egress) out.add_policy_types(v1::EGRESS);
  }
  RulesToProto(policy.ingress_rules, out.mutable_ingress());
  RulesToProto(policy.egress_rules, out.mutable_egress());
  return out;
}

}  // namespace nodeplane::ctl
