#include "dataplane/core/rcu.h"

#include <rte_debug.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace nodeplane::dp {

Rcu::Rcu(uint32_t max_workers) {
  const size_t size = rte_rcu_qsbr_get_memsize(max_workers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("np_rcu", size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, max_workers) != 0) {
    rte_panic("cannot allocate the RCU variable\n");
  }
}

Rcu::~Rcu() { rte_free(qsbr_); }

void Rcu::Register(uint32_t worker) noexcept { rte_rcu_qsbr_thread_register(qsbr_, worker); }
void Rcu::Unregister(uint32_t worker) noexcept { rte_rcu_qsbr_thread_unregister(qsbr_, worker); }
void Rcu::Online(uint32_t worker) noexcept { rte_rcu_qsbr_thread_online(qsbr_, worker); }
void Rcu::Offline(uint32_t worker) noexcept { rte_rcu_qsbr_thread_offline(qsbr_, worker); }
void Rcu::Quiescent(uint32_t worker) noexcept { rte_rcu_qsbr_quiescent(qsbr_, worker); }
void Rcu::Synchronize() noexcept { rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID); }

}  // namespace nodeplane::dp
