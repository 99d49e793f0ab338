#include "dataplane/core/neighbor_events.h"

#include <rte_errno.h>

namespace nodeplane::dp {

std::unique_ptr<NeighborEvents> NeighborEvents::Create(const std::string& name, unsigned capacity,
                                                       int socket_id, std::string* error) {
  unsigned count = 1;
  while (count < capacity + 1 && count < (1u << 20)) count <<= 1;  // a ring holds count − 1
  rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(NeighborEvent), count, socket_id,
                                     RING_F_SC_DEQ);
  if (r == nullptr) {
    *error = "neighbour event ring " + name + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  return std::unique_ptr<NeighborEvents>(new NeighborEvents(r));
}

NeighborEvents::~NeighborEvents() { rte_ring_free(ring_); }

}  // namespace nodeplane::dp
