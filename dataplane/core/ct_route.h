// CtRoute: where one direction of an established connection went, as the routing stages decided
// it under one snapshot, so that ct_fastpath can send the connection's next packets in that
// direction without asking them again (dataplane/stages/ct_fastpath.h).
//
// One 64-bit word per direction, beside the connection's conntrack record (CtFastpathSlot):
//   bits  0-31  the snapshot's epoch (Snapshot::epoch; 0 = nothing remembered)
//   bits 32-47  the remote node slot (kNoRemote: delivered to a local pod)
//   bits 48-55  the output port
//   bits 56-62  the input port the packets came from
//   bit     63  they came through the overlay (meta.from_overlay)
// The input side is part of the key because the routing decision depends on it (a pod port's
// anti-spoofing check, the overlay's rules): a packet arriving another way takes the slow path.
// Written by ip4_forward (a word is written whole: two workers racing write two complete routes;
// the connection's checksum deltas, the same whoever computes them, are stored before it), read by
// ct_fastpath; cleared when the record is given to a new connection.
#pragma once
#include <cstdint>

#include "dataplane/core/packet_meta.h"

namespace nodeplane::dp {

struct CtRoute {
  uint16_t out_port;
  uint32_t remote;
};

// What a word must carry to be used: epoch and input side.
inline uint64_t CtRouteKey(uint32_t epoch, uint16_t in_port, bool from_overlay) noexcept {
  return uint64_t{epoch} | uint64_t{in_port} << 56 | uint64_t{from_overlay} << 63;
}
inline constexpr uint64_t kCtRouteKeyMask = 0xff000000ffffffffull;

// Whether the decision fits a word (ports and slots beyond it are simply never remembered).
inline bool CtRouteFits(uint16_t in_port, uint16_t out_port, uint32_t remote) noexcept {
  return in_port < 128 && out_port < 256 && remote < 65536;
}

inline uint64_t CtRouteWord(uint32_t epoch, uint16_t in_port, bool from_overlay,
                            const CtRoute& r) noexcept {
  return CtRouteKey(epoch, in_port, from_overlay) | uint64_t{r.remote} << 32 |
         uint64_t{r.out_port} << 48;
}

// The route in `word` when it was remembered under `key`.
inline bool CtRouteMatch(uint64_t word, uint64_t key, CtRoute* r) noexcept {
  if ((word & kCtRouteKeyMask) != key) return false;
  r->remote = static_cast<uint32_t>(word >> 32) & 0xffff;
  r->out_port = static_cast<uint16_t>(word >> 48) & 0xff;
  return true;
}

}  // namespace nodeplane::dp
