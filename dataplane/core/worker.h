// Worker: one poll-mode loop on one lcore. Each iteration: pick up the published snapshot, receive
// a burst from every rx queue assigned to this worker, run it through the pipeline, echo the
// generation it ran, report quiescent. When idle for long it goes RCU-offline and sleeps with a
// growing back-off (for shared machines and labs); with max_sleep_us = 0 it polls at full speed.
#pragma once
#include <atomic>
#include <cstdint>

#include "dataplane/core/control_tx.h"
#include "dataplane/core/published.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker_state.h"

namespace nodeplane::dp {

struct IdlePolicy {
  uint32_t max_sleep_us = 0;          // 0: never sleep (production default)
  uint32_t polls_before_sleep = 256;  // consecutive empty iterations before the first sleep
};

class Worker {
 public:
  Worker(uint16_t index, Rcu& rcu, const Published<Snapshot>& published, IdlePolicy idle);

  // On the worker's lcore, until `stop` is set.
  void Run(const std::atomic<bool>& stop) noexcept;
  // One iteration, without sleeping; returns packets received. For tests and the benchmark; the
  // caller must be registered and online (Attach/Detach).
  uint32_t PollOnce() noexcept;
  void Attach() noexcept;
  void Detach() noexcept;

  // Frames control wants sent (ARP requests on the uplink); drained by this worker, at most
  // ControlTx::kDrainMax per iteration. Set before Run(); one worker per ControlTx.
  void SetControlTx(ControlTx* control_tx) { control_tx_ = control_tx; }

  const WorkerCounters& counters() const { return state_.counters; }          // ctl: ro
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  uint16_t index() const { return state_.index; }

 private:
  void IdleBackoff() noexcept;
  uint32_t SendControlFrames(const Snapshot& snap) noexcept;

  Rcu& rcu_;
  const Published<Snapshot>& published_;
  const IdlePolicy idle_;
  uint32_t empty_polls_ = 0;
  uint32_t sleep_us_ = 0;
  std::atomic<uint64_t> generation_{0};  // dp: wo, ctl: ro — the snapshot generation it last ran
  ControlTx* control_tx_ = nullptr;  // not owned
  WorkerState state_;
};

}  // namespace nodeplane::dp
