// Rcu: the process's one quiescent-state-based RCU variable (rte_rcu_qsbr). Every worker registers
// with its worker index, reports quiescent once per loop iteration and goes offline before it
// sleeps. The control thread waits on it (Synchronize) before freeing anything a worker could read.
#pragma once
#include <cstdint>

struct rte_rcu_qsbr;

namespace nodeplane::dp {

class Rcu {
 public:
  explicit Rcu(uint32_t max_workers);  // aborts if the EAL cannot allocate it (start-up only)
  ~Rcu();
  Rcu(const Rcu&) = delete;
  Rcu& operator=(const Rcu&) = delete;

  // Worker side.
  void Register(uint32_t worker) noexcept;
  void Unregister(uint32_t worker) noexcept;
  void Online(uint32_t worker) noexcept;
  void Offline(uint32_t worker) noexcept;
  void Quiescent(uint32_t worker) noexcept;

  // Control side: returns when every online worker has passed a quiescent point.
  void Synchronize() noexcept;

  // For DPDK libraries that reclaim their own memory through it (rte_lpm_rcu_qsbr_add).
  rte_rcu_qsbr* qsbr() const noexcept { return qsbr_; }

 private:
  rte_rcu_qsbr* qsbr_;
};

}  // namespace nodeplane::dp
