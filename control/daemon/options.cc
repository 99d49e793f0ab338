#include "control/daemon/options.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <map>

namespace nodeplane::ctl {
namespace {

bool ParseU32(const std::string& text, uint32_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

using Setter = std::function<bool(DaemonOptions&, const std::string&)>;

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> setters = {
      {"node-name", [](DaemonOptions& o, const std::string& v) { o.node_name = v; return true; }},
      {"uplink", [](DaemonOptions& o, const std::string& v) { o.uplink = v; return true; }},
      {"host-iface",
       [](DaemonOptions& o, const std::string& v) {
         o.host_iface = v;
         return !v.empty() && v.size() <= 15;
       }},
      {"pod-port",
       [](DaemonOptions& o, const std::string& v) {
         const auto type = ParsePodPortType(v);
         if (type) o.pod_port = *type;
         return type.has_value();
       }},
      {"socket", [](DaemonOptions& o, const std::string& v) { o.socket = v; return !v.empty(); }},
      {"lcores", [](DaemonOptions& o, const std::string& v) { o.lcores = v; return !v.empty(); }},
      {"idle-sleep-us",
       [](DaemonOptions& o, const std::string& v) { return ParseU32(v, &o.idle_sleep_us); }},
      {"node-port-range",
       [](DaemonOptions& o, const std::string& v) {
         const auto r = NodePortRange::Parse(v);
         if (r) o.node_port_range = *r;
         return r.has_value();
       }},
      {"max-service-addresses",
       [](DaemonOptions& o, const std::string& v) {
         return ParseU32(v, &o.max_service_addresses) && o.max_service_addresses > 0;
       }},
      {"affinity-slots",
       [](DaemonOptions& o, const std::string& v) {
         return ParseU32(v, &o.affinity_slots) && o.affinity_slots > 0;
       }},
      {"file-prefix",
       [](DaemonOptions& o, const std::string& v) { o.file_prefix = v; return !v.empty(); }},
      {"memory-mb",
       [](DaemonOptions& o, const std::string& v) {
         return ParseU32(v, &o.memory_mb) && o.memory_mb >= 64;
       }},
      {"mbufs",
       [](DaemonOptions& o, const std::string& v) { return ParseU32(v, &o.mbufs) && o.mbufs >= 1023; }},
      {"conntrack-entries",
       [](DaemonOptions& o, const std::string& v) {
         return ParseU32(v, &o.conntrack_entries) && o.conntrack_entries >= 64 &&
                o.conntrack_entries <= (uint32_t{1} << 30);
       }},
      {"eal", [](DaemonOptions& o, const std::string& v) { o.eal.push_back(v); return true; }},
      {"neighbor",
       [](DaemonOptions& o, const std::string& v) {
         const size_t eq = v.find('=');
         if (eq == std::string::npos) return false;
         const auto ip = Ip4::Parse(v.substr(0, eq));
         const auto mac = Mac::Parse(v.substr(eq + 1));
         if (!ip || !mac || !mac->IsUnicast()) return false;
         o.neighbors.emplace_back(*ip, *mac);
         return true;
       }},
  };
  return setters;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool LoadConfig(const std::string& path, DaemonOptions* opts, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read config file " + path;
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const std::string key = Trim(line.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : Trim(line.substr(eq + 1));
    if (key == "no-huge") {
      opts->no_huge = value.empty() || value == "true";
      continue;
    }
    auto it = Setters().find(key);
    if (eq == std::string::npos || it == Setters().end() || !it->second(*opts, value)) {
      *error = path + ":" + std::to_string(n) + ": bad setting \"" + line + "\"";
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseDaemonOptions(int argc, char** argv, DaemonOptions* opts, bool* help,
                        std::string* error) {
  *help = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      *help = true;
      return true;
    }
    if (arg == "--no-huge") {
      opts->no_huge = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument \"" + arg + "\"";
      return false;
    }
    std::string name = arg.substr(2), value;
    const std::string bare = name.substr(0, name.find('='));
    if (bare != "config" && !Setters().contains(bare)) {
      *error = "unknown flag --" + bare;
      return false;
    }
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = "--" + name + " needs a value";
      return false;
    }
    if (name == "config") {
      if (!LoadConfig(value, opts, error)) return false;
      continue;
    }
    auto it = Setters().find(name);
    if (it == Setters().end()) {
      *error = "unknown flag --" + name;
      return false;
    }
    if (!it->second(*opts, value)) {
      *error = "bad value for --" + name + ": \"" + value + "\"";
      return false;
    }
  }
  return true;
}

std::string DaemonUsage() {
  return R"(usage: nodeplaned [flags]
  --config FILE          settings file: "name = value" lines with the flag names below
  --node-name NAME       this node's name (can also be set with `nodeplanectl node set`)
  --uplink DEVARGS       DPDK devargs of the node's NIC (PCI address, or e.g.
                         net_af_packet0,iface=eth1); none by default
  --host-iface NAME      exception tap towards the host kernel (default np-host; "none" = off)
  --pod-port TYPE        a pod's port: af_packet (a veth pair served by DPDK net_af_packet;
                         the default, measured faster) or tap (DPDK net_tap)
  --socket PATH          gRPC unix socket, mode 0600 (default /run/nodeplane/nodeplaned.sock)
  --lcores LIST          EAL lcores; every one runs a worker, the first also the main thread
                         (default 0)
  --idle-sleep-us N      adaptive idle back-off up to N us (default 0: poll at full speed)
  --node-port-range A-B  NodePorts Services may use (default 30000-32767, as the apiserver's
                         --service-node-port-range)
  --max-service-addresses N  Service addresses the service table holds: each VIP:port and each
                         NodePort on each node address (default 65536)
  --affinity-slots N     ClientIP session-affinity clients remembered at once (default 65536)
  --file-prefix NAME     EAL runtime-file prefix, unique per instance (default nodeplane)
  --memory-mb N          memory for packet buffers and tables (default 256)
  --mbufs N              packet buffers (default 32767)
  --conntrack-entries N  connections the conntrack table holds (default 258048, 110 bytes each;
                         new connections beyond it are dropped: ct_table_full)
  --no-huge              do not use hugepages (the default uses them when enough are free)
  --eal ARG              one more EAL argument (repeatable)
  --neighbor IP=MAC      a static underlay neighbour: the MAC of a remote node's VTEP address
                         (repeatable; until ARP on the uplink resolves them, remote nodes
                         without one are unreachable: drop reason neighbor_unresolved)
)";
}

}  // namespace nodeplane::ctl
