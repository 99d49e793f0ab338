// Reads every counter the API reports: the ports' driver counters, each worker's own counters
// (summed here, never on the workers) and the drop reasons.
#pragma once
#include <vector>

#include "control/model/desired_state.h"
#include "control/compile/snapshot_compiler.h"
#include "dataplane/core/worker.h"
#include "nodeplane/v1/stats.pb.h"

namespace nodeplane::ctl {

struct WorkerRef {
  const dp::Worker* worker;
  unsigned lcore;
};

v1::Stats ReadStats(const DesiredState& state, const RuntimePorts& runtime,
                    const std::vector<WorkerRef>& workers, uint64_t generation);

// Appends one worker's latest policy drops to out.recent_policy_denials, oldest first, each with
// the pod whose policies decided (the source for egress, the destination for ingress).
void AddPolicyDenials(v1::Stats& out, const DesiredState& state, uint32_t worker,
                      const dp::PolicyDenyRing& ring);

}  // namespace nodeplane::ctl
