// Command-line parsing for nodeplanectl.
#include "control/cli/args.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"

namespace nodeplane::cli {
namespace {

// One flag occurrence after the command, kept in order so repeated flags (--ip a --ip b) keep the
// operator's order, which is the order the daemon sees.
struct FlagValue {
  std::string name;
  std::string value;
};

absl::Status UsageError(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// Every flag takes a value; knowing the names lets "--ifnme eth0" fail instead of being taken
// for a positional argument.
bool IsCommandFlag(std::string_view name) {
  static const std::set<std::string_view> kFlags = {
      "--name",   "--address", "--pod-cidr", "--gateway",      "--netns", "--ip",   "--mtu",
      "--ifname", "--label",   "--underlay", "--vtep-address", "--vni",   "--port", "--vtep-mac",
      "--src",    "--dst",     "--proto",
      "--source-port",
      "--zone",
  };
  return kFlags.contains(name);
}

struct CommandSpec {
  Command command;
  // Flags accepted once, and flags that may repeat.
  std::set<std::string_view> single;
  std::set<std::string_view> repeated;
  // Positional arguments after the command word(s): 0, 1 (the pod key, or a node name), or 3
  // (explain's SRC DST PORT/PROTO).
  size_t positionals;
  // What the positional argument is, for "missing ..." messages.
  std::string_view positional_name = "NAMESPACE/NAME";
};

std::optional<CommandSpec> LookupCommand(std::string_view word) {
  if (word == "status") return CommandSpec{Command::kStatus, {}, {}, 0};
  if (word == "pods") return CommandSpec{Command::kPods, {}, {}, 0};
  if (word == "stats") return CommandSpec{Command::kStats, {}, {}, 0};
  if (word == "drops") return CommandSpec{Command::kDrops, {}, {}, 0};
  if (word == "state") return CommandSpec{Command::kState, {}, {}, 0};
  if (word == "node set") {
    return CommandSpec{Command::kNodeSet,
                       {"--name", "--gateway", "--vtep-address", "--vni", "--port", "--vtep-mac",
                        "--zone"},
                       {"--address", "--pod-cidr"},
                       0};
  }
  if (word == "attach") {
    return CommandSpec{Command::kAttach, {"--netns", "--mtu", "--ifname"}, {"--ip", "--label"}, 1};
  }
  if (word == "detach") return CommandSpec{Command::kDetach, {}, {}, 1};
  if (word == "remote-nodes") return CommandSpec{Command::kRemoteNodes, {}, {}, 0};
  if (word == "remote-node set") {
    return CommandSpec{Command::kRemoteNodeSet,
                       {"--name", "--underlay", "--vni", "--port", "--vtep-mac"},
                       {"--pod-cidr"},
                       0};
  }
  if (word == "services") return CommandSpec{Command::kServices, {}, {}, 0};
  if (word == "backends") return CommandSpec{Command::kBackends, {}, {}, 1, "SERVICE"};
  if (word == "lb") return CommandSpec{Command::kLb, {"--source-port"}, {}, 2, "SRC_IP DST_IP:PORT/PROTO"};
  if (word == "remote-node delete") {
    return CommandSpec{Command::kRemoteNodeDelete, {}, {}, 1, "NAME"};
  }
  if (word == "conntrack list") {
    return CommandSpec{Command::kConntrackList, {"--src", "--dst", "--proto", "--port"}, {}, 0};
  }
  if (word == "conntrack flush") {
    return CommandSpec{Command::kConntrackFlush, {"--src", "--dst", "--proto", "--port"}, {}, 0};
  }
  if (word == "explain") return CommandSpec{Command::kExplain, {}, {}, 3, "SRC DST PORT/PROTO"};
  return std::nullopt;
}

absl::StatusOr<uint32_t> ParseUint32(std::string_view flag, std::string_view text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return UsageError(std::string(flag) + ": \"" + std::string(text) +
                      "\" is not a non-negative integer");
  }
  return value;
}

// A Node name is a DNS subdomain: never empty, never containing '/'. Catching "ns/name" here
// saves a round trip for the common slip of passing a pod key.
absl::Status CheckNodeName(std::string_view what, const std::string& name) {
  if (name.empty()) return UsageError(std::string(what) + ": empty node name");
  if (name.find('/') != std::string::npos) {
    return UsageError(std::string(what) + ": node name \"" + name + "\" must not contain '/'");
  }
  return absl::OkStatus();
}

// The VXLAN flags shared by `node set` and `remote-node set`. Ranges (VNI 1..2^24-1, port
// 1..65535, MAC syntax) are the daemon's to judge; the CLI only insists on numbers and non-empty
// text. Returns true if `f` was one of them.
bool FillVxlanFlag(const FlagValue& f, uint32_t* vni, uint32_t* port, std::string* mac,
                   absl::Status* status) {
  if (f.name == "--vni" || f.name == "--port") {
    absl::StatusOr<uint32_t> n = ParseUint32(f.name, f.value);
    if (!n.ok()) {
      *status = n.status();
    } else {
      *(f.name == "--vni" ? vni : port) = *n;
    }
    return true;
  }
  if (f.name == "--vtep-mac") {
    if (f.value.empty()) {
      *status = UsageError("--vtep-mac: empty MAC address");
    } else {
      *mac = f.value;
    }
    return true;
  }
  return false;
}

absl::Status FillNodeSet(const std::vector<FlagValue>& flags, v1::SetNodeRequest& req) {
  v1::Node& node = *req.mutable_node();
  bool have_name = false;
  bool have_vxlan = false;
  uint32_t vni = 0;
  uint32_t port = 0;
  std::string mac;
  for (const auto& f : flags) {
    absl::Status status;
    if (FillVxlanFlag(f, &vni, &port, &mac, &status)) {
      if (!status.ok()) return status;
      have_vxlan = true;
    } else if (f.name == "--name") {
      if (absl::Status s = CheckNodeName("--name", f.value); !s.ok()) return s;
      node.set_name(f.value);
      have_name = true;
    } else if (f.name == "--vtep-address") {
      if (f.value.empty()) return UsageError("--vtep-address: empty address");
      node.set_vtep_address(f.value);
    } else if (f.name == "--address") {
      node.add_addresses(f.value);
    } else if (f.name == "--pod-cidr") {
      node.add_pod_cidrs(f.value);
    } else if (f.name == "--gateway") {
      node.set_pod_gateway(f.value);
    } else if (f.name == "--zone") {
      node.set_zone(f.value);  // checked by the daemon (a label value)
    }
  }
  if (!have_name) return UsageError("node set: --name is required");
  // Absent means the defaults (VNI 1, port 4789); present only when the operator said something.
  if (have_vxlan) {
    v1::Vxlan& vxlan = *node.mutable_vxlan();
    vxlan.set_vni(vni);
    vxlan.set_udp_port(port);
    vxlan.set_vtep_mac(mac);
  }
  return absl::OkStatus();
}

absl::Status FillRemoteNodeSet(const std::vector<FlagValue>& flags,
                               v1::UpsertRemoteNodesRequest& req) {
  v1::RemoteNode& node = *req.add_remote_nodes();
  bool have_name = false;
  bool have_underlay = false;
  uint32_t vni = 0;
  uint32_t port = 0;
  std::string mac;
  for (const auto& f : flags) {
    absl::Status status;
    if (FillVxlanFlag(f, &vni, &port, &mac, &status)) {
      if (!status.ok()) return status;
    } else if (f.name == "--name") {
      if (absl::Status s = CheckNodeName("--name", f.value); !s.ok()) return s;
      node.set_name(f.value);
      have_name = true;
    } else if (f.name == "--underlay") {
      if (f.value.empty()) return UsageError("--underlay: empty address");
      node.set_underlay_address(f.value);
      have_underlay = true;
    } else if (f.name == "--pod-cidr") {
      if (f.value.empty()) return UsageError("--pod-cidr: empty CIDR");
      node.add_pod_cidrs(f.value);
    }
  }
  if (!have_name) return UsageError("remote-node set: --name is required");
  if (!have_underlay) return UsageError("remote-node set: --underlay is required");
  node.set_vni(vni);
  node.set_udp_port(port);
  node.set_vtep_mac(mac);
  return absl::OkStatus();
}

// lb SRC_IP DST_IP:PORT/PROTO [--source-port N]. Addresses are the daemon's to judge.
absl::Status FillLb(const std::vector<std::string>& pos, const std::vector<FlagValue>& flags,
                    v1::ExplainServiceBackendRequest& req) {
  req.set_source_ip(pos[0]);
  const std::string& dst = pos[1];
  const size_t colon = dst.rfind(':');
  const size_t slash = dst.rfind('/');
  if (colon == std::string::npos || slash == std::string::npos || slash < colon) {
    return UsageError("lb: want DST_IP:PORT/PROTO, e.g. 10.96.0.10:80/TCP, got \"" + dst + "\"");
  }
  req.set_destination_ip(dst.substr(0, colon));
  absl::StatusOr<uint32_t> port = ParseUint32("lb: PORT", dst.substr(colon + 1, slash - colon - 1));
  if (!port.ok()) return port.status();
  req.set_destination_port(*port);
  std::string proto = dst.substr(slash + 1);
  for (char& c : proto) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (proto == "TCP") {
    req.set_protocol(v1::TCP);
  } else if (proto == "UDP") {
    req.set_protocol(v1::UDP);
  } else if (proto == "SCTP") {
    req.set_protocol(v1::SCTP);
  } else {
    return UsageError("lb: PROTO must be TCP, UDP or SCTP, got \"" + proto + "\"");
  }
  for (const auto& f : flags) {
    if (f.name != "--source-port") continue;
    absl::StatusOr<uint32_t> sport = ParseUint32(f.name, f.value);
    if (!sport.ok()) return sport.status();
    req.set_source_port(*sport);
  }
  return absl::OkStatus();
}

absl::Status FillAttach(const std::vector<FlagValue>& flags, v1::AttachPodRequest& req) {
  bool have_netns = false;
  for (const auto& f : flags) {
    if (f.name == "--netns") {
      if (f.value.empty()) return UsageError("--netns: empty path");
      req.set_netns(f.value);
      have_netns = true;
    } else if (f.name == "--ip") {
      if (f.value.empty()) return UsageError("--ip: empty address");
      req.add_ips(f.value);
    } else if (f.name == "--mtu") {
      absl::StatusOr<uint32_t> mtu = ParseUint32(f.name, f.value);
      if (!mtu.ok()) return mtu.status();
      req.set_mtu(*mtu);
    } else if (f.name == "--ifname") {
      if (f.value.empty()) return UsageError("--ifname: empty interface name");
      req.set_interface(f.value);
    } else if (f.name == "--label") {
      size_t eq = f.value.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError("--label: \"" + f.value + "\" is not KEY=VALUE");
      }
      std::string key = f.value.substr(0, eq);
      // A map silently keeps one value; two values for a key is almost certainly a mistake.
      if (req.labels().contains(key)) return UsageError("--label: key \"" + key + "\" given twice");
      (*req.mutable_labels())[key] = f.value.substr(eq + 1);
    }
  }
  // Address and namespace ranges are the daemon's to judge (INVALID_ARGUMENT names the field);
  // the CLI only insists on what the command cannot mean anything without.
  if (!have_netns) return UsageError("attach: --netns is required");
  if (req.ips().empty()) return UsageError("attach: --ip is required");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::PodKey> ParsePodKey(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size() ||
      text.find('/', slash + 1) != std::string_view::npos) {
    return UsageError("pod \"" + std::string(text) + "\": want NAMESPACE/NAME");
  }
  v1::PodKey key;
  key.set_namespace_(std::string(text.substr(0, slash)));
  key.set_name(std::string(text.substr(slash + 1)));
  return key;
}

std::string ChannelTarget(std::string_view socket) {
  if (socket.starts_with("unix:") || socket.starts_with("unix-abstract:")) {
    return std::string(socket);
  }
  return "unix:" + std::string(socket);
}

namespace {

// --src/--dst addresses are the daemon's to judge (it names the field); --proto and --port are
// checked here.
absl::Status FillConntrackFilter(const std::vector<FlagValue>& flags, v1::ConntrackFilter& f) {
  for (const auto& flag : flags) {
    if (flag.name == "--src") {
      f.set_source(flag.value);
    } else if (flag.name == "--dst") {
      f.set_destination(flag.value);
    } else if (flag.name == "--port") {
      absl::StatusOr<uint32_t> n = ParseUint32(flag.name, flag.value);
      if (!n.ok()) return n.status();
      if (*n == 0 || *n > 65535) {
        return UsageError("--port: " + flag.value + " outside 1-65535");
      }
      f.set_port(*n);
    } else if (flag.name == "--proto") {
      if (flag.value == "tcp") {
        f.set_protocol(v1::CONNTRACK_PROTOCOL_TCP);
      } else if (flag.value == "udp") {
        f.set_protocol(v1::CONNTRACK_PROTOCOL_UDP);
      } else if (flag.value == "sctp") {
        f.set_protocol(v1::CONNTRACK_PROTOCOL_SCTP);
      } else if (flag.value == "icmp") {
        f.set_protocol(v1::CONNTRACK_PROTOCOL_ICMP);
      } else {
        return UsageError("--proto: unknown protocol \"" + flag.value +
                          "\" (want tcp, udp, sctp or icmp)");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args, const char* env_socket) {
  Invocation inv;
  std::optional<std::string> socket;
  std::optional<std::string> format;
  std::vector<std::string> words;
  std::vector<FlagValue> flags;
  bool help = false;
  // The first problem is reported only after the scan, so that a --help later on still wins.
  absl::Status error;
  auto fail = [&error](std::string message) {
    if (error.ok()) error = UsageError(std::move(message));
  };

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      words.push_back(arg);
      continue;
    }
    // --flag=value and -oVALUE/-o=VALUE are accepted besides "--flag value".
    std::string name = arg;
    std::optional<std::string> value;
    if (arg.starts_with("--")) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      }
    } else if (arg.starts_with("-o") && arg.size() > 2) {
      name = "-o";
      value = arg.substr(arg[2] == '=' ? 3 : 2);
    }
    // Global flags are accepted after the command too (`nodeplanectl pods -o json`), as kubectl
    // does; none of them collides with a command flag.
    const bool global = name == "--socket" || name == "-o" || name == "--output";
    if (!global && !IsCommandFlag(name)) {
      fail("unknown flag " + name);
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        fail("flag " + name + " needs a value");
        continue;
      }
      value = args[++i];
    }
    if (name == "--socket") {
      if (value->empty()) fail("--socket: empty path");
      socket = *value;
    } else if (name == "-o" || name == "--output") {
      format = *value;
    } else {
      flags.push_back({name, *value});
    }
  }

  if (help || (!words.empty() && words[0] == "help")) {
    inv.command = Command::kHelp;
    return inv;
  }
  if (!error.ok()) return error;

  if (socket) {
    inv.socket = *socket;
  } else if (env_socket != nullptr && env_socket[0] != '\0') {
    inv.socket = env_socket;
  } else {
    inv.socket = std::string(kDefaultSocket);
  }
  if (format) {
    if (*format == "table") {
      inv.format = OutputFormat::kTable;
    } else if (*format == "json") {
      inv.format = OutputFormat::kJson;
    } else {
      return UsageError("-o: unknown format \"" + *format + "\" (want table or json)");
    }
  }

  if (words.empty()) return UsageError("no command given");
  std::string command_word = words[0];
  size_t consumed = 1;
  if (command_word == "node") {
    if (words.size() < 2) return UsageError("node: missing subcommand (want: node set)");
    if (words[1] != "set") return UsageError("node: unknown subcommand \"" + words[1] + "\"");
    command_word = "node set";
    consumed = 2;
  } else if (command_word == "conntrack") {
    // `conntrack` alone lists.
    if (words.size() >= 2 && words[1] != "list" && words[1] != "flush") {
      return UsageError("conntrack: unknown subcommand \"" + words[1] + "\"");
    }
    command_word = "conntrack " + (words.size() >= 2 ? words[1] : std::string("list"));
    consumed = words.size() >= 2 ? 2 : 1;
  } else if (command_word == "remote-node") {
    if (words.size() < 2) {
      return UsageError("remote-node: missing subcommand (want: remote-node set|delete)");
    }
    if (words[1] != "set" && words[1] != "delete") {
      return UsageError("remote-node: unknown subcommand \"" + words[1] + "\"");
    }
    command_word = "remote-node " + words[1];
    consumed = 2;
  }
  std::optional<CommandSpec> spec = LookupCommand(command_word);
  if (!spec) return UsageError("unknown command \"" + command_word + "\"");
  inv.command = spec->command;

  std::vector<std::string> positionals(words.begin() + consumed, words.end());
  if (positionals.size() > spec->positionals) {
    return UsageError(command_word + ": unexpected argument \"" + positionals[spec->positionals] +
                      "\"");
  }
  if (positionals.size() < spec->positionals && spec->command != Command::kBackends) {
    return UsageError(command_word + ": missing " + std::string(spec->positional_name));
  }

  std::set<std::string_view> seen;
  for (const auto& f : flags) {
    if (spec->repeated.contains(f.name)) continue;
    if (!spec->single.contains(f.name)) {
      return UsageError(command_word + ": flag " + f.name + " does not apply");
    }
    if (!seen.insert(f.name).second) return UsageError(f.name + " given twice");
  }

  absl::Status status;
  switch (inv.command) {
    case Command::kNodeSet:
      status = FillNodeSet(flags, inv.set_node);
      break;
    case Command::kAttach: {
      absl::StatusOr<v1::PodKey> key = ParsePodKey(positionals[0]);
      if (!key.ok()) return key.status();
      *inv.attach.mutable_key() = *std::move(key);
      status = FillAttach(flags, inv.attach);
      break;
    }
    case Command::kDetach: {
      absl::StatusOr<v1::PodKey> key = ParsePodKey(positionals[0]);
      if (!key.ok()) return key.status();
      *inv.detach.mutable_key() = *std::move(key);
      break;
    }
    case Command::kRemoteNodeSet:
      status = FillRemoteNodeSet(flags, inv.upsert_remote_nodes);
      break;
    case Command::kBackends:
      if (!positionals.empty()) {
        absl::StatusOr<v1::PodKey> key = ParsePodKey(positionals[0]);  // same NAMESPACE/NAME form
        if (!key.ok()) return key.status();
        inv.backends_of = positionals[0];
      }
      break;
    case Command::kLb:
      status = FillLb(positionals, flags, inv.lb);
      break;
    case Command::kRemoteNodeDelete:
      status = CheckNodeName("remote-node delete", positionals[0]);
      inv.delete_remote_nodes.add_names(positionals[0]);
      break;
    case Command::kConntrackList:
      status = FillConntrackFilter(flags, *inv.list_conntrack.mutable_filter());
      break;
    case Command::kConntrackFlush:
      status = FillConntrackFilter(flags, *inv.flush_conntrack.mutable_filter());
      break;
    case Command::kExplain:
      inv.explain.set_source(positionals[0]);
      inv.explain.set_destination(positionals[1]);
      status = ParsePortProto(positionals[2], &inv.explain);
      break;
    default:
      break;
  }
  if (!status.ok()) return status;
  return inv;
}

absl::Status ParsePortProto(std::string_view text, v1::ExplainPolicyRequest* req) {
  const size_t slash = text.find('/');
  const std::string_view port = text.substr(0, slash);
  std::string proto = slash == std::string_view::npos ? "tcp" : std::string(text.substr(slash + 1));
  for (char& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t n = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      (n = static_cast<uint32_t>(std::stoul(std::string(port)))) == 0 || n > 65535) {
    return UsageError("explain: PORT/PROTO: bad port in \"" + std::string(text) +
                      "\" (want 1..65535, e.g. 8080/tcp)");
  }
  req->set_port(n);
  if (proto == "tcp") {
    req->set_protocol(v1::TCP);
  } else if (proto == "udp") {
    req->set_protocol(v1::UDP);
  } else if (proto == "sctp") {
    req->set_protocol(v1::SCTP);
  } else {
    return UsageError("explain: PORT/PROTO: unknown protocol in \"" + std::string(text) +
                      "\" (want tcp, udp or sctp)");
  }
  return absl::OkStatus();
}

std::string UsageText() {
  return R"(nodeplanectl: operate nodeplaned, the node's userspace dataplane, over its gRPC socket.

Usage:
  nodeplanectl [--socket PATH] [-o table|json] COMMAND [ARGS]

Options (also accepted after COMMAND):
  --socket PATH   daemon socket; default $NODEPLANE_SOCKET, else /run/nodeplane/nodeplaned.sock
  -o FORMAT       table (default, for people) or json (one object per run, for scripts)

Commands:
  status                       version, node, generation, workers, memory mode, uptime
  pods                         one row per pod; attached pods also show port, interface, MAC, MTU
  stats                        port counters, worker counters, non-zero events
  drops                        drop reasons with non-zero counts (-o json: every reason)
  state                        the whole desired state the daemon holds, as JSON
  node set --name NAME [--address CIDR]... [--pod-cidr CIDR]... [--gateway IP]
           [--vtep-address IP] [--vni N] [--port N] [--vtep-mac MAC] [--zone ZONE]
                               set this node's name, addresses, pod CIDRs, pod gateway and
                               VXLAN endpoint (defaults: first address, VNI 1, port 4789,
                               ee:ee:ee:ee:ee:ee) and zone (topology.kubernetes.io/zone, for
                               topology hints; default none)
  attach NAMESPACE/NAME --netns PATH --ip IP [--ip IP]... [--mtu N] [--ifname NAME]
         [--label KEY=VALUE]...
                               create the pod's interface in PATH and its dataplane port
  detach NAMESPACE/NAME        remove the pod's interface, port and record
  remote-nodes                 one row per remote node ("-": the default)
  remote-node set --name NAME --underlay IP [--pod-cidr CIDR]... [--vni N] [--port N]
                  [--vtep-mac MAC]
                               create or replace another node reached over VXLAN (for a Linux
                               node, --vtep-mac is its vxlan device's MAC)
  remote-node delete NAME      forget a remote node and the routes to its pods
  conntrack [list] [--src IP] [--dst IP] [--proto tcp|udp|sctp|icmp] [--port N]
                               tracked connections: both tuples (original, reply after NAT),
                               state, time to expiry; --dst also matches a DNAT backend
  conntrack flush [--src IP] [--dst IP] [--proto P] [--port N]
                               remove matching connections (all without filters); their next
                               packets start new connections
  services                     one row per Service: type, addresses, ports, policies
  backends [NAMESPACE/NAME]    the endpoints of every Service (or of one), with conditions
  lb SRC_IP DST_IP:PORT/PROTO [--source-port N]
                               which backend a new connection would get and why (Service,
                               endpoint set, Maglev slot or affinity, SNAT)
  explain SRC DST PORT/PROTO   would NetworkPolicy allow this connection, and which policies
                               decide (SRC, DST: an address or NAMESPACE/NAME; e.g. 8080/tcp)
  help, --help, -h             this text

Exit status: 0 success, 1 the daemon returned an error or could not be reached, 2 usage error.
)";
}

}  // namespace nodeplane::cli
