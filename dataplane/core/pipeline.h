// The pipeline: the fixed order of stages every received burst goes through. The whole graph is
// RunPipeline() in pipeline.cc; dataplane/README.md draws it.
#pragma once
#include "dataplane/core/snapshot.h"
#include "dataplane/core/stage.h"
#include "dataplane/core/worker_state.h"

namespace nodeplane::dp {

// Runs one received burst through every stage and transmits or drops every packet in it.
// On return the burst is empty and the worker holds no mbuf.
void RunPipeline(const Snapshot& snap, WorkerState& w, Burst& burst) noexcept;

// Once per poll iteration: packets parked in w.pending (waiting for a remote node's underlay MAC)
// whose node is now resolved are encapsulated and sent; those past their deadline, or whose node
// is gone, are dropped as neighbor_unresolved. Uses w.now_tsc.
void ReleasePending(const Snapshot& snap, WorkerState& w) noexcept;

}  // namespace nodeplane::dp
