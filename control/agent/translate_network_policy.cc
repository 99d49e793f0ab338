// NetworkPolicy (networking.k8s.io/v1), field for field; selectors stay selectors (the dataplane
// compiles them).
#include "control/agent/translate.h"

namespace nodeplane::agent {
namespace {

void SelectorFrom(const JsonField& f, v1::LabelSelector* out) {
  if (f.Present() && !f.value().is_object()) f.Fail("expected a label selector object");
  for (const auto& [k, v] : f.StrMap("matchLabels")) (*out->mutable_match_labels())[k] = v;
  for (const JsonField& e : f["matchExpressions"].Items()) {
    v1::LabelSelectorRequirement* r = out->add_match_expressions();
    r->set_key(e.RequiredStr("key"));
    const std::string op = e.RequiredStr("operator");
    const bool set_op = op == "In" || op == "NotIn";
    if (!set_op && op != "Exists" && op != "DoesNotExist") {
      e["operator"].Fail("unknown operator \"" + op + "\" (In, NotIn, Exists, DoesNotExist)");
    }
    r->set_operator_(op);
    for (const std::string& v : e.StrList("values")) r->add_values(v);
    if (set_op && r->values().empty()) e["values"].Fail("required for operator " + op);
    if (!set_op && !r->values().empty()) e["values"].Fail("must be empty for operator " + op);
  }
}

void PeerFrom(const JsonField& f, v1::NetworkPolicyPeer* out) {
  const bool selectors = f.Has("podSelector") || f.Has("namespaceSelector");
  if (f.Has("podSelector")) SelectorFrom(f["podSelector"], out->mutable_pod_selector());
  if (f.Has("namespaceSelector")) {
    SelectorFrom(f["namespaceSelector"], out->mutable_namespace_selector());
  }
  if (f.Has("ipBlock")) {
    if (selectors) f["ipBlock"].Fail("may not be combined with podSelector or namespaceSelector");
    JsonField b = f["ipBlock"];
    const std::string cidr = b.RequiredStr("cidr");
    detail::CheckCidr(b["cidr"], cidr);
    out->mutable_ip_block()->set_cidr(cidr);
    std::vector<JsonField> except = b["except"].Items();
    for (const JsonField& e : except) {
      if (!e.value().is_string()) e.Fail("expected a string");
      detail::CheckCidr(e, e.value().get<std::string>());
      out->mutable_ip_block()->add_except(e.value().get<std::string>());
    }
  } else if (!selectors) {
    f.Fail("a peer needs podSelector, namespaceSelector or ipBlock");
  }
}

void PortFrom(const JsonField& f, v1::NetworkPolicyPort* out) {
  out->set_protocol(detail::ProtocolOf(f, "protocol"));
  JsonField port = f["port"];
  if (port.Present() && port.value().is_string()) {
    const std::string name = port.value().get<std::string>();
    if (name.empty()) port.Fail("empty port name");
    out->set_port_name(name);
  } else if (port.Present()) {
    out->set_port_number(static_cast<uint32_t>(f.Int("port", 1, 65535)));
  }
  if (f.Has("endPort")) {
    if (out->port_case() != v1::NetworkPolicyPort::kPortNumber) {
      f["endPort"].Fail("requires a numeric port");
    }
    out->set_end_port(static_cast<uint32_t>(f.Int("endPort", out->port_number(), 65535)));
  }
}

void RuleFrom(const JsonField& f, const char* peers_key, v1::NetworkPolicyRule* out) {
  for (const JsonField& p : f["ports"].Items()) PortFrom(p, out->add_ports());
  for (const JsonField& p : f[peers_key].Items()) PeerFrom(p, out->add_peers());
}

}  // namespace

absl::StatusOr<v1::NetworkPolicy> NetworkPolicyFromJson(const Json& object) {
  return detail::Guard(Kind::kNetworkPolicy, object, [&] {
    JsonField root(object, "");
    JsonField meta = root["metadata"];
    JsonField spec = root["spec"];
    v1::NetworkPolicy np;
    np.mutable_key()->set_namespace_(meta.Str("namespace", "default"));
    np.mutable_key()->set_name(meta.RequiredStr("name"));
    if (!spec.Has("podSelector")) spec["podSelector"].Fail("required (use {} for every pod)");
    SelectorFrom(spec["podSelector"], np.mutable_pod_selector());
    std::vector<JsonField> types = spec["policyTypes"].Items();
    for (const JsonField& t : types) {
      const std::string v = t.value().is_string() ? t.value().get<std::string>() : "";
      if (v == "Ingress") {
        np.add_policy_types(v1::INGRESS);
      } else if (v == "Egress") {
        np.add_policy_types(v1::EGRESS);
      } else {
        t.Fail("unknown policy type " + t.value().dump() + " (Ingress or Egress)");
      }
    }
    for (const JsonField& r : spec["ingress"].Items()) RuleFrom(r, "from", np.add_ingress());
    for (const JsonField& r : spec["egress"].Items()) RuleFrom(r, "to", np.add_egress());
    return np;
  });
}

}  // namespace nodeplane::agent
