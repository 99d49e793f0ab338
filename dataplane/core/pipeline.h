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

}  // namespace nodeplane::dp
