// Scenario files: a nodeplane.v1.State plus the ports that carry it, in one small text file shared
// by the pipeline benchmark (perf/) and the golden pcap tests (tests/pcap/). Format:
//
//   # What this scenario is (leading comment lines are its description).
//   port <name> pod <namespace>/<pod> <mac>   the pod's port; <mac> is the pod's eth0 MAC
//   port <name> uplink <mac>                  the NIC; <mac> is its MAC
//   port <name> host <mac>                    the exception port; <mac> is the host kernel's side
//   input <name>                              where the input packets arrive
//   expect <name>|none                        where they must leave (pcap tests)
//   drop <metric_name> <count>                expected drops by reason (others must be 0)
//   count <metric_name> <count>               expected event counters (pcap tests)
//   conntrack <entries>                       track connections in a table of that size
//                                             (dataplane/tables/conntrack.h); absent: no table
//   conntrack_flush <packets>                 nodeplane-bench: remove every connection after
//                                             each <packets> received (a multiple of 64, the
//                                             worker's burst: the pcap's frame count, so each
//                                             replay opens its connections anew); needs conntrack
//   state {                                   a nodeplane.v1.State in protobuf text format,
//     node { ... } pods { ... }               up to the matching closing brace
//   }
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/model/desired_state.h"
#include "dataplane/core/snapshot_spec.h"
#include "dataplane/tables/service_entry_spec.h"
#include "nodeplane/addr.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::scenario {

struct PortDecl {
  std::string name;
  dp::PortKind kind = dp::PortKind::kNone;
  std::optional<ctl::PodKey> pod;  // kPod only
  Mac mac;
};

struct Scenario {
  std::string description;
  v1::State state;
  std::vector<PortDecl> ports;  // in file order
  std::string input;
  std::optional<std::string> expect;         // unset: not stated; "" for "expect none"
  std::map<std::string, uint64_t> drops;     // DropReasonName → count
  std::map<std::string, uint64_t> counters;  // CounterName → count
  std::map<Ip4, Mac> neighbors;               // neighbor <ip> <mac>
  uint32_t conntrack_entries = 0;              // conntrack <entries>; 0: no conntrack table
  uint64_t conntrack_flush = 0;                // conntrack_flush <packets>; 0: never

  const PortDecl* Port(const std::string& name) const;
};

absl::StatusOr<Scenario> ParseScenario(const std::string& text);
absl::StatusOr<Scenario> LoadScenario(const std::string& path);

// DPDK port ids of the scenario's ports, by name (assigned when the ports are created).
using PortIds = std::map<std::string, uint16_t>;

// The service table's entries (dataplane/tables/service_table.h), by key.
using ServiceEntries = std::map<dp::ServiceTableKey, dp::ServiceEntrySpec>;

// Validates the state exactly as the daemon does (control/model: from_proto + DesiredState::Check),
// attaches each pod port to its pod and compiles the SnapshotSpec (control/compile). `services`
// (optional) receives the state's Services compiled as the daemon installs them
// (control/compile/service_compile.h); a scenario without Services gives none.
absl::StatusOr<dp::SnapshotSpec> Compile(const Scenario& s, const PortIds& ids, uint16_t workers,
                                         uint64_t generation,
                                         std::map<Ip4Prefix, uint32_t>* routes = nullptr,
                                         ServiceEntries* services = nullptr);

}  // namespace nodeplane::scenario
