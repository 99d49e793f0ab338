#include "dataplane/tables/uplink_peers.h"

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

namespace nodeplane::dp {

UplinkPeers::~UplinkPeers() { rte_free(slots_); }

bool UplinkPeers::Init(uint32_t slots, std::string* error) {
  const uint32_t n = rte_align32pow2(slots < 64 ? 64 : slots);
  slots_ = static_cast<Slot*>(rte_zmalloc_socket("np_uplink_peers", n * sizeof(Slot),
                                                 RTE_CACHE_LINE_SIZE,
                                                 static_cast<int>(rte_socket_id())));
  if (slots_ == nullptr) {
    *error = "uplink peers: out of EAL memory";
    return false;
  }
  mask_ = n - 1;
  return true;
}

}  // namespace nodeplane::dp
