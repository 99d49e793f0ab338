// Stage ip4_lookup: local L3 lookup — where does this IPv4 packet go?
//   Decides only; ip4_forward acts. One bulk lookup of the destination per burst.
//   From a pod:    the source must be the pod's own address (SOURCE_SPOOFED otherwise); a local pod
//                  or node address → meta.out_port; anything else → NO_ROUTE.
//   From uplink/host: a local pod → meta.out_port; anything else (including the node's own
//                  addresses seen on the uplink) is the host's → meta.punt.
//   Edges:   kNext, kDrop.   Reads: Snapshot::routes, ports.   Never: allocates, locks, logs.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct Ip4LookupStage {
  static constexpr std::string_view kName = "ip4_lookup";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<Ip4LookupStage>);

}  // namespace nodeplane::dp
