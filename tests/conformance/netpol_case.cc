#include "tests/conformance/netpol_case.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "absl/strings/str_cat.h"

namespace nodeplane::conformance {
namespace {

// yaml-cpp reports errors by exception; everything that reads a node goes through these.
using Labels = std::map<std::string, std::string>;

Labels ReadLabels(const YAML::Node& n) {
  Labels out;
  if (!n || n.IsNull()) return out;
  for (const auto& kv : n) out[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return out;
}

v1::Protocol ReadProtocol(const YAML::Node& n) {
  if (!n || n.IsNull()) return v1::PROTOCOL_UNSPECIFIED;
  const std::string p = n.as<std::string>();
  if (p == "TCP") return v1::TCP;
  if (p == "UDP") return v1::UDP;
  if (p == "SCTP") return v1::SCTP;
  // Passed through as an unknown number, for the API to reject.
  return static_cast<v1::Protocol>(99);
}

v1::LabelSelector ReadSelector(const YAML::Node& n) {
  v1::LabelSelector out;
  if (!n || n.IsNull()) return out;
  for (const auto& [k, v] : ReadLabels(n["matchLabels"])) (*out.mutable_match_labels())[k] = v;
  if (const YAML::Node exprs = n["matchExpressions"]) {
    for (const YAML::Node& e : exprs) {
      v1::LabelSelectorRequirement* r = out.add_match_expressions();
      r->set_key(e["key"].as<std::string>());
      r->set_operator_(e["operator"].as<std::string>());
      if (const YAML::Node values = e["values"]) {
        for (const YAML::Node& v : values) r->add_values(v.as<std::string>());
      }
    }
  }
  return out;
}

void ReadRules(const YAML::Node& rules, const char* peers_key,
               google::protobuf::RepeatedPtrField<v1::NetworkPolicyRule>* out) {
  if (!rules || rules.IsNull()) return;
  for (const YAML::Node& rule : rules) {
    v1::NetworkPolicyRule* r = out->Add();
    if (const YAML::Node ports = rule["ports"]) {
      for (const YAML::Node& p : ports) {
        v1::NetworkPolicyPort* port = r->add_ports();
        port->set_protocol(ReadProtocol(p["protocol"]));
        if (const YAML::Node number = p["port"]; number && !number.IsNull()) {
          const std::string text = number.as<std::string>();
          if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
            port->set_port_number(static_cast<uint32_t>(std::stoul(text)));
          } else {
            port->set_port_name(text);
          }
        }
        if (const YAML::Node end = p["endPort"]; end && !end.IsNull()) {
          port->set_end_port(end.as<uint32_t>());
        }
      }
    }
    if (const YAML::Node peers = rule[peers_key]) {
      for (const YAML::Node& peer : peers) {
        v1::NetworkPolicyPeer* out_peer = r->add_peers();
        if (peer["podSelector"]) *out_peer->mutable_pod_selector() = ReadSelector(peer["podSelector"]);
        if (peer["namespaceSelector"]) {
          *out_peer->mutable_namespace_selector() = ReadSelector(peer["namespaceSelector"]);
        }
        if (const YAML::Node block = peer["ipBlock"]) {
          out_peer->mutable_ip_block()->set_cidr(block["cidr"].as<std::string>());
          if (const YAML::Node except = block["except"]) {
            for (const YAML::Node& e : except) {
              out_peer->mutable_ip_block()->add_except(e.as<std::string>());
            }
          }
        }
      }
    }
  }
}

v1::NetworkPolicy ReadPolicy(const YAML::Node& n) {
  v1::NetworkPolicy out;
  out.mutable_key()->set_namespace_(n["metadata"]["namespace"].as<std::string>());
  out.mutable_key()->set_name(n["metadata"]["name"].as<std::string>());
  const YAML::Node spec = n["spec"];
  *out.mutable_pod_selector() = ReadSelector(spec["podSelector"]);
  if (const YAML::Node types = spec["policyTypes"]) {
    for (const YAML::Node& t : types) {
      const std::string type = t.as<std::string>();
      out.add_policy_types(type == "Ingress"  ? v1::INGRESS
                           : type == "Egress" ? v1::EGRESS
                                              : v1::POLICY_TYPE_UNSPECIFIED);
    }
  }
  ReadRules(spec["ingress"], "from", out.mutable_ingress());
  ReadRules(spec["egress"], "to", out.mutable_egress());
  return out;
}

std::pair<std::string, std::string> SplitPod(const std::string& id) {
  const size_t slash = id.find('/');
  return {id.substr(0, slash), slash == std::string::npos ? "" : id.substr(slash + 1)};
}

// Rows: a header of server names, then "client cell cell ...": '.' allowed, 'X' denied, '-' self.
absl::Status ReadMatrix(const YAML::Node& rows, Probe& probe) {
  std::vector<std::string> servers;
  bool header = true;
  for (const YAML::Node& row : rows) {
    std::istringstream in(row.as<std::string>());
    std::vector<std::string> cells;
    for (std::string cell; in >> cell;) cells.push_back(cell);
    if (header) {
      servers = cells;
      header = false;
      continue;
    }
    if (cells.size() != servers.size() + 1) {
      return absl::InvalidArgumentError("matrix row \"" + row.as<std::string>() +
                                        "\" does not have one cell per column");
    }
    for (size_t i = 0; i < servers.size(); ++i) {
      const std::string& c = cells[i + 1];
      if (c == "-") continue;
      if (c != "." && c != "X") return absl::InvalidArgumentError("matrix cell \"" + c + "\"");
      probe.expected[{cells[0], servers[i]}] = c == ".";
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Case> LoadCaseOrThrow(const std::string& path) {
  const YAML::Node root = YAML::LoadFile(path);
  Case c;
  c.file = path;
  c.id = root["id"].as<std::string>();
  c.name = root["name"] ? root["name"].as<std::string>() : "";
  for (const auto& ns : root["model"]["namespaces"]) {
    c.namespaces[ns.first.as<std::string>()] = ReadLabels(ns.second["labels"]);
  }
  for (const auto& p : root["model"]["pods"]) {
    CasePod pod;
    std::tie(pod.ns, pod.name) = SplitPod(p.first.as<std::string>());
    pod.labels = ReadLabels(p.second["labels"]);
    pod.ip = p.second["ip"].as<std::string>();
    if (const YAML::Node ports = p.second["ports"]) {
      for (const YAML::Node& port : ports) {
        v1::ContainerPort cp;
        if (port["name"]) cp.set_name(port["name"].as<std::string>());
        cp.set_port(port["port"].as<uint32_t>());
        cp.set_protocol(ReadProtocol(port["protocol"]));
        pod.ports.push_back(cp);
      }
    }
    c.pods.push_back(std::move(pod));
  }
  for (const YAML::Node& s : root["steps"]) {
    Step step;
    if (const YAML::Node actions = s["actions"]) {
      for (const YAML::Node& a : actions) {
        Action act{};
        if (a["create"]) {
          act.kind = Action::Kind::kCreate;
          act.policy = ReadPolicy(a["create"]);
        } else if (a["update"]) {
          act.kind = Action::Kind::kUpdate;
          act.policy = ReadPolicy(a["update"]);
        } else if (a["delete"]) {
          act.kind = Action::Kind::kDelete;
          act.key.set_namespace_(a["delete"]["namespace"].as<std::string>());
          act.key.set_name(a["delete"]["name"].as<std::string>());
        } else if (a["setPodLabels"]) {
          act.kind = Action::Kind::kSetPodLabels;
          act.target = a["setPodLabels"]["pod"].as<std::string>();
          act.labels = ReadLabels(a["setPodLabels"]["labels"]);
        } else if (a["setNamespaceLabels"]) {
          act.kind = Action::Kind::kSetNamespaceLabels;
          act.target = a["setNamespaceLabels"]["namespace"].as<std::string>();
          act.labels = ReadLabels(a["setNamespaceLabels"]["labels"]);
        } else {
          return absl::InvalidArgumentError("an action that is none of create, update, delete, "
                                            "setPodLabels, setNamespaceLabels");
        }
        step.actions.push_back(std::move(act));
      }
    }
    if (const YAML::Node probes = s["probes"]) {
      for (const YAML::Node& p : probes) {
        Probe probe;
        probe.port = p["port"].as<uint16_t>();
        probe.protocol_name = p["protocol"] ? p["protocol"].as<std::string>() : "TCP";
        probe.protocol = ReadProtocol(p["protocol"]);
        if (probe.protocol == v1::PROTOCOL_UNSPECIFIED) probe.protocol = v1::TCP;
        if (absl::Status st = ReadMatrix(p["expected"], probe); !st.ok()) return st;
        step.probes.push_back(std::move(probe));
      }
    }
    c.steps.push_back(std::move(step));
  }
  return c;
}

}  // namespace

absl::StatusOr<Case> LoadCase(const std::string& path) {
  try {
    return LoadCaseOrThrow(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

}  // namespace nodeplane::conformance
