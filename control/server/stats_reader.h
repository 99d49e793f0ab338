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

}  // namespace nodeplane::ctl
