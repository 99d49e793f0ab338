// What Services need from conntrack: when a UDP backend goes away, its conntrack entries are
// flushed, or clients that keep sending from the same port (DNS, the e2e test's fixed port 12345)
// would keep hitting the dead backend until the entry times out (k8s-semantics §2.6).
// Conntrack's table implements it (FlushUdpToBackend); nodeplaned connects the two.
#pragma once
#include <cstddef>
#include <cstdint>

#include "dataplane/tables/conntrack.h"

namespace nodeplane::ctl {

class ConntrackFlusher {
 public:
  virtual ~ConntrackFlusher() = default;
  // Removes the UDP entries whose translated destination is ip:port (network order); returns how
  // many. Called on the control thread after the table stops choosing that backend.
  virtual size_t FlushUdpToBackend(uint32_t ip_be, uint16_t port_be) = 0;
};

// The process's conntrack table as the flusher (nodeplaned).
class ConntrackTableFlusher final : public ConntrackFlusher {
 public:
  explicit ConntrackTableFlusher(dp::Conntrack& table) : table_(table) {}
  size_t FlushUdpToBackend(uint32_t ip_be, uint16_t port_be) override {
    return table_.FlushUdpToBackend(ip_be, port_be);
  }

 private:
  dp::Conntrack& table_;
};

}  // namespace nodeplane::ctl
