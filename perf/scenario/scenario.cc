// Scenario files: parsing and compiling them into a SnapshotSpec through the control plane's own
// validation and compiler.
#include "perf/scenario/scenario.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "control/compile/fib_plan.h"
#include "control/compile/service_compile.h"
#include "control/compile/snapshot_compiler.h"
#include "control/model/from_proto.h"
#include "control/model/network_policy_from_proto.h"
#include "control/model/service_from_proto.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"

namespace nodeplane::scenario {
namespace {

absl::Status LineError(int line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

bool IsDropReasonName(const std::string& name) {
  for (uint8_t r = 0; r < kDropReasonCount; ++r) {
    if (DropReasonName(static_cast<DropReason>(r)) == name) return true;
  }
  return false;
}

bool IsCounterName(const std::string& name) {
  for (uint8_t c = 0; c < kCounterCount; ++c) {
    if (CounterName(static_cast<Counter>(c)) == name) return true;
  }
  return false;
}

// The text of a brace block that starts right after `open` (the index of '{'), up to its
// matching '}', skipping braces inside double-quoted strings. npos if unbalanced.
size_t MatchingBrace(const std::string& text, size_t open) {
  int depth = 0;
  bool quoted = false;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '#') {  // comment to end of line
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return i;
  }
  return std::string::npos;
}

// The state's Services and EndpointSlices, validated as one SyncState request would be.
absl::Status AddServices(const v1::State& proto, ctl::DesiredState* state) {
  if (proto.services_size() == 0 && proto.endpoint_slices_size() == 0) return absl::OkStatus();
  auto services = ctl::ServicesFromProto(proto.services(), "state.services", ctl::NodePortRange{});
  if (!services.ok()) return services.status();
  auto slices = ctl::EndpointSlicesFromProto(proto.endpoint_slices(), "state.endpoint_slices");
  if (!slices.ok()) return slices.status();
  auto svc_state =
      ctl::ApplyServiceChange(ctl::ServiceState{}, true, std::move(*services), {},
                              std::move(*slices), {}, "state.services", "state.endpoint_slices");
  if (!svc_state.ok()) return svc_state.status();
  state->services = std::make_shared<const ctl::ServiceState>(std::move(*svc_state));
  return absl::OkStatus();
}

// Every proxied Service's entries, affinity ids from 1 per Service port in key order (as a fresh
// daemon numbers them).
ServiceEntries CompileServices(const ctl::DesiredState& state) {
  ServiceEntries out;
  if (!state.services) return out;
  const ctl::NodeModel* node = state.node ? &*state.node : nullptr;
  uint32_t id = 1;
  for (const auto& [key, svc] : state.services->services) {
    std::vector<uint32_t> port_ids;
    for (size_t i = 0; i < svc.ports.size(); ++i) port_ids.push_back(id++);
    ctl::CompiledService c =
        ctl::CompileService(svc, state.services->SlicesOf(key), node, state.pods, port_ids);
    out.merge(c.entries);
  }
  return out;
}

absl::StatusOr<uint64_t> Count(const std::string& word, int line) {
  if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos) {
    return LineError(line, "not a count: \"" + word + "\"");
  }
  return std::stoull(word);
}

}  // namespace

const PortDecl* Scenario::Port(const std::string& name) const {
  for (const PortDecl& p : ports) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

absl::StatusOr<Scenario> ParseScenario(const std::string& text) {
  Scenario s;
  bool have_state = false, in_header = true;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t line_start = pos;
    const size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    const int line_no =
        1 + static_cast<int>(std::count(text.begin(), text.begin() + line_start, '\n'));
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == '#') {
      if (in_header) {
        std::string comment = line.substr(first + 1);
        if (!comment.empty() && comment[0] == ' ') comment.erase(0, 1);
        s.description += (s.description.empty() ? "" : "\n") + comment;
      }
      continue;
    }
    in_header = false;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "state") {
      const size_t open = text.find('{', line_start);
      const size_t close = open == std::string::npos ? open : MatchingBrace(text, open);
      if (close == std::string::npos) return LineError(line_no, "state { ... } is not closed");
      if (!google::protobuf::TextFormat::ParseFromString(text.substr(open + 1, close - open - 1),
                                                         &s.state)) {
        return LineError(line_no, "state is not a valid nodeplane.v1.State text proto");
      }
      have_state = true;
      pos = std::min(text.find('\n', close), text.size()) + 1;  // the rest of that line is done
      continue;
    }
    std::vector<std::string> args;
    for (std::string w; words >> w;) {
      if (w[0] == '#') break;
      args.push_back(w);
    }
    if (key == "port") {
      PortDecl p;
      if (args.size() < 3) return LineError(line_no, "port <name> <pod|uplink|host> ...");
      p.name = args[0];
      if (s.Port(p.name) != nullptr)
        return LineError(line_no, "port " + p.name + " declared twice");
      size_t mac_at = 2;
      if (args[1] == "pod") {
        p.kind = dp::PortKind::kPod;
        const size_t slash = args[2].find('/');
        if (args.size() != 4 || slash == std::string::npos) {
          return LineError(line_no, "port <name> pod <namespace>/<pod> <mac>");
        }
        p.pod = ctl::PodKey{args[2].substr(0, slash), args[2].substr(slash + 1)};
        mac_at = 3;
      } else if (args[1] == "uplink" || args[1] == "host") {
        p.kind = args[1] == "uplink" ? dp::PortKind::kUplink : dp::PortKind::kHost;
        if (args.size() != 3) return LineError(line_no, "port <name> " + args[1] + " <mac>");
      } else {
        return LineError(line_no, "port kind must be pod, uplink or host: " + args[1]);
      }
      const auto mac = Mac::Parse(args[mac_at]);
      if (!mac) return LineError(line_no, "not a MAC address: " + args[mac_at]);
      p.mac = *mac;
      s.ports.push_back(p);
    } else if (key == "neighbor" && args.size() == 2) {
      const auto ip = Ip4::Parse(args[0]);
      const auto mac = Mac::Parse(args[1]);
      if (!ip || !mac) return LineError(line_no, "neighbor: expected <ipv4> <mac>");
      s.neighbors[*ip] = *mac;
    } else if (key == "conntrack" && args.size() == 1) {
      auto n = Count(args[0], line_no);
      if (!n.ok()) return n.status();
      if (*n < 64 || *n > (uint64_t{1} << 30)) {
        return LineError(line_no, "conntrack: entries must be between 64 and 2^30");
      }
      s.conntrack_entries = static_cast<uint32_t>(*n);
    } else if (key == "conntrack_flush" && args.size() == 1) {
      auto n = Count(args[0], line_no);
      if (!n.ok()) return n.status();
      if (*n == 0 || *n % 64 != 0) {
        return LineError(line_no, "conntrack_flush: packets must be a positive multiple of 64");
      }
      s.conntrack_flush = *n;
    } else if (key == "input" && args.size() == 1) {
      s.input = args[0];
    } else if (key == "expect" && args.size() == 1) {
      s.expect = args[0] == "none" ? "" : args[0];
    } else if ((key == "drop" || key == "count") && args.size() == 2) {
      auto n = Count(args[1], line_no);
      if (!n.ok()) return n.status();
      if (key == "drop") {
        if (!IsDropReasonName(args[0])) return LineError(line_no, "unknown drop reason " + args[0]);
        s.drops[args[0]] = *n;
      } else {
        if (!IsCounterName(args[0])) return LineError(line_no, "unknown counter " + args[0]);
        s.counters[args[0]] = *n;
      }
    } else {
      return LineError(line_no, "unknown or malformed line: " + line.substr(first));
    }
  }
  if (!have_state) return absl::InvalidArgumentError("no state { ... } block");
  if (s.conntrack_flush != 0 && s.conntrack_entries == 0) {
    return absl::InvalidArgumentError("conntrack_flush without a conntrack table");
  }
  if (s.input.empty()) return absl::InvalidArgumentError("no input port");
  if (s.Port(s.input) == nullptr)
    return absl::InvalidArgumentError("input port not declared: " + s.input);
  if (s.expect && !s.expect->empty() && s.Port(*s.expect) == nullptr) {
    return absl::InvalidArgumentError("expect port not declared: " + *s.expect);
  }
  return s;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError("cannot read " + path);
  std::stringstream buf;
  buf << f.rdbuf();
  auto s = ParseScenario(buf.str());
  if (!s.ok())
    return absl::Status(s.status().code(), path + ": " + std::string(s.status().message()));
  return s;
}

absl::StatusOr<dp::SnapshotSpec> Compile(const Scenario& s, const PortIds& ids, uint16_t workers,
                                         uint64_t generation, std::map<Ip4Prefix, uint32_t>* routes,
                                         ServiceEntries* services) {
  ctl::DesiredState state;
  if (s.state.has_node()) {
    auto node = ctl::NodeFromProto(s.state.node(), "state.node");
    if (!node.ok()) return node.status();
    state.node = *node;
  }
  for (int i = 0; i < s.state.pods_size(); ++i) {
    auto pod = ctl::PodFromProto(s.state.pods(i), absl::StrCat("state.pods[", i, "]"));
    if (!pod.ok()) return pod.status();
    if (!state.pods.emplace(pod->key, *pod).second) {
      return absl::AlreadyExistsError("state.pods: " + pod->key.ToString() + " listed twice");
    }
  }
  for (int i = 0; i < s.state.remote_nodes_size(); ++i) {
    auto r = ctl::RemoteNodeFromProto(s.state.remote_nodes(i), "state.remote_nodes");
    if (!r.ok()) return r.status();
    state.remote_nodes[r->name] = *r;
  }
  // NetworkPolicy inputs.
  for (int i = 0; i < s.state.namespaces_size(); ++i) {
    auto ns = ctl::NamespaceFromProto(s.state.namespaces(i), absl::StrCat("state.namespaces[", i, "]"));
    if (!ns.ok()) return ns.status();
    state.namespaces[ns->name] = *ns;
  }
  for (int i = 0; i < s.state.network_policies_size(); ++i) {
    auto p = ctl::NetworkPolicyFromProto(s.state.network_policies(i),
                                         absl::StrCat("state.network_policies[", i, "]"));
    if (!p.ok()) return p.status();
    state.network_policies[p->key] = *p;
  }
  if (absl::Status st = AddServices(s.state, &state); !st.ok()) return st;
  ctl::RuntimePorts rt;
  rt.worker_count = workers;
  for (const PortDecl& p : s.ports) {
    const auto id = ids.find(p.name);
    if (id == ids.end()) return absl::InvalidArgumentError("no port id for " + p.name);
    switch (p.kind) {
      case dp::PortKind::kPod:
        state.attachments[*p.pod] = ctl::Attachment{.key = *p.pod,
                                                    .mac = p.mac,
                                                    .port_id = id->second,
                                                    .rx_queues = 1,
                                                    .tx_queues = workers};
        break;
      case dp::PortKind::kUplink:
        rt.uplink = ctl::RuntimePort{id->second, p.mac, 1, workers};
        break;
      case dp::PortKind::kHost:
        rt.host = ctl::RuntimePort{id->second, p.mac, 1, workers};
        break;
      case dp::PortKind::kNone:
        break;
    }
  }
  if (absl::Status st = state.Check(); !st.ok()) return st;
  ctl::RemoteSlots slots;
  uint32_t next = 1;
  for (const auto& [name, n] : state.remote_nodes) slots[name] = next++;
  if (routes) *routes = ctl::WantedRoutes(state.remote_nodes, slots);
  if (services) *services = CompileServices(state);
  dp::SnapshotSpec spec = ctl::CompileSnapshot(state, rt, generation, s.neighbors, slots);
  spec.policy_generation = 1;
  return spec;
}

}  // namespace nodeplane::scenario
