// nodeplaned's command line and config file. A config file holds the same settings as the flags,
// one "name = value" per line ('#' comments); flags given after --config override it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "control/daemon/pod_port.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct DaemonOptions {
  std::string node_name;
  std::string uplink;                 // DPDK devargs; empty: no uplink
  std::string host_iface = "np-host"; // exception tap; "none": no exception port
  PodPortType pod_port = PodPortType::kAfPacket;  // the faster of the two: perf/pod_ports
  std::string socket = "/run/nodeplane/nodeplaned.sock";
  std::string lcores = "0";
  uint32_t idle_sleep_us = 0;         // 0: poll at full speed
  std::string file_prefix = "nodeplane";
  uint32_t memory_mb = 256;
  uint32_t mbufs = 32767;            // every pod port pre-fills its rx rings from this pool
  // Connections the conntrack table holds (dataplane/tables/conntrack.h: the default is the
  // largest that keeps it at 154 bytes per connection).
  uint32_t conntrack_entries = 258048;
  bool no_huge = false;
  std::vector<std::string> eal;       // extra EAL arguments
  // Static underlay neighbours (IP=MAC): remote VTEPs' MACs until ARP on the uplink learns them.
  std::vector<std::pair<Ip4, Mac>> neighbors;
};

// Parses argv. On error returns false with a one-line *error; on --help sets *help.
bool ParseDaemonOptions(int argc, char** argv, DaemonOptions* opts, bool* help, std::string* error);
std::string DaemonUsage();

}  // namespace nodeplane::ctl
