#include "dataplane/core/control_tx.h"

#include <rte_errno.h>

namespace nodeplane::dp {

std::unique_ptr<ControlTx> ControlTx::Create(const std::string& name, unsigned capacity,
                                             int socket_id, std::string* error) {
  rte_ring* ring = rte_ring_create(name.c_str(), rte_align32pow2(capacity + 1), socket_id,
                                   RING_F_SC_DEQ);
  if (ring == nullptr) {
    *error = "control tx ring " + name + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  return std::unique_ptr<ControlTx>(new ControlTx(ring));
}

ControlTx::~ControlTx() {
  rte_mbuf* m[kDrainMax];
  unsigned n;
  while ((n = Drain(m, kDrainMax)) > 0) rte_pktmbuf_free_bulk(m, n);
  rte_ring_free(ring_);
}

}  // namespace nodeplane::dp
