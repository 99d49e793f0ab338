#include "dataplane/core/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <algorithm>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/stages/port_tx.h"

namespace nodeplane::dp {

Worker::Worker(uint16_t index, Rcu& rcu, const Published<Snapshot>& published, IdlePolicy idle)
    : rcu_(rcu), published_(published), idle_(idle) {
  state_.index = index;
}

void Worker::Attach() noexcept {
  rcu_.Register(state_.index);
  rcu_.Online(state_.index);
}

void Worker::Detach() noexcept {
  rcu_.Offline(state_.index);
  rcu_.Unregister(state_.index);
}

uint32_t Worker::SendControlFrames(const Snapshot& snap) noexcept {
  rte_mbuf* frames[ControlTx::kDrainMax];
  const unsigned n = control_tx_->Drain(frames, ControlTx::kDrainMax);
  if (n == 0) return 0;
  StageContext ctx{snap, state_.counters, state_.index};
  for (unsigned i = 0; i < n; ++i) {
    Meta(frames[i]).out_port = frames[i]->port;
    PortTx::Enqueue(ctx, state_, frames[i]);
  }
  PortTx::Flush(ctx, state_);
  return n;
}

uint32_t Worker::PollOnce() noexcept {
  const Snapshot* snap = published_.Get();
  uint32_t received = 0;
  if (snap != nullptr) {
    state_.now_tsc = rte_rdtsc();
    const RxAssignment& rx = snap->rx[state_.index];
    for (uint16_t i = 0; i < rx.n; ++i) {
      Burst b;
      b.n = rte_eth_rx_burst(rx.queues[i].port, rx.queues[i].queue, b.pkts, kBurstMax);
      if (b.n == 0) continue;
      const uint64_t start = rte_rdtsc();
      received += b.n;
      RunPipeline(*snap, state_, b);
      state_.counters.busy_cycles += rte_rdtsc() - start;
    }
    // Counted as work received, so a worker with frames to send does not go to sleep on them.
    if (control_tx_ != nullptr) received += SendControlFrames(*snap);
    ReleasePending(*snap, state_);
    generation_.store(snap->generation, std::memory_order_relaxed);
  }
  // From here on this worker holds no reference into the snapshot.
  rcu_.Quiescent(state_.index);
  if (received != 0) {
    ++state_.counters.busy_polls;
  } else {
    ++state_.counters.idle_polls;
  }
  return received;
}

void Worker::IdleBackoff() noexcept {
  if (++empty_polls_ < idle_.polls_before_sleep) return;
  sleep_us_ = std::min(idle_.max_sleep_us, sleep_us_ == 0 ? 1u : sleep_us_ * 2);
  rcu_.Offline(state_.index);  // a sleeping worker must not hold up grace periods
  ++state_.counters.sleeps;
  usleep(sleep_us_);
  rcu_.Online(state_.index);
}

void Worker::Run(const std::atomic<bool>& stop) noexcept {
  Attach();
  while (!stop.load(std::memory_order_relaxed)) {
    if (PollOnce() != 0) {
      empty_polls_ = 0;
      sleep_us_ = 0;
    } else if (idle_.max_sleep_us != 0) {
      IdleBackoff();
    }
  }
  Detach();
}

}  // namespace nodeplane::dp
