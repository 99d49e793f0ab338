// NetpolRunner: runs NetworkPolicy conformance cases against the real thing — a gRPC server on a
// temporary unix socket over the real Applier, and the real dataplane pipeline with every pod on a
// DPDK port of its own (net_ring, PodPortType::kRing), all local to one node.
//
// Per case: a fresh state (SyncState with the case's namespaces), the pods attached, then per
// step the actions through the API and, per probe, one connection-opening packet (TCP SYN, UDP
// datagram, SCTP INIT) for every ordered pod pair, run through RunPipeline; a cell is "allowed"
// when the server pod's port sent the packet out towards the pod.
#pragma once
#include <memory>
#include <ostream>
#include <string>

#include "tests/conformance/netpol_case.h"

namespace nodeplane::conformance {

class NetpolRunner {
 public:
  NetpolRunner();
  ~NetpolRunner();
  // Starts the EAL (no hugepages), the Applier and the server. False, *error set, on failure.
  bool Start(std::string* error);
  // Runs one case, printing every mismatching cell (and any API error) to `out`. True if it passed.
  bool Run(const Case& c, std::ostream& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeplane::conformance
