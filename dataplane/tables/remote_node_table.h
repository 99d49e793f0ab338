// RemoteNodeTable: per remote node, everything vxlan_encap needs, precomputed by control — above
// all the 50-byte outer header it prepends (RFC 7348 §5: outer Ethernet, IPv4, UDP, VXLAN), so a
// worker copies one template and patches three fields instead of building headers.
//
// Indexed by slot (1..; the Fib's next hop). Built by the control thread with its Snapshot from
// SnapshotSpec::remote_nodes, then read-only; read by ip4_forward (inner MACs), vxlan_encap (the
// template), ct_fastpath (template and inner MACs in one copy) and vxlan_decap (a sender's
// underlay address); freed with its Snapshot after the RCU grace period.
#pragma once
#include <array>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/core/snapshot_spec.h"
#include "nodeplane/addr.h"

namespace nodeplane::dp {

// Outer Ethernet (14) + IPv4 without options (20) + UDP (8) + VXLAN (8).
inline constexpr uint16_t kVxlanEncapLen = 50;
inline constexpr uint16_t kVxlanOuterIp4Offset = 14;
inline constexpr uint16_t kVxlanOuterUdpOffset = 34;
inline constexpr uint8_t kVxlanOuterTtl = 64;

struct alignas(64) RemoteNodeEntry {
  // The outer headers, as sent except for three per-packet fields vxlan_encap patches: IPv4 total
  // length (0 here; the header checksum is computed for 0 so that adding the real length is the
  // whole update, RFC 1624), UDP length (0 here) and UDP source port (0 here). Ethernet: dst = the
  // underlay next hop's MAC (zeros while unresolved), src = the uplink's MAC. IPv4: src = our VTEP,
  // dst = its underlay address, TTL 64, DF clear, id 0. UDP: dst = its port, checksum 0 (RFC 7348
  // allows 0 over IPv4). VXLAN: flags = I, its VNI.
  uint8_t outer[kVxlanEncapLen];
  // The inner frame's Ethernet addresses, right after the outer headers as in the packet, so that
  // one copy writes both (ct_fastpath): to the MAC its VTEP accepts, from our VTEP's.
  std::array<uint8_t, 6> vtep_mac;
  std::array<uint8_t, 6> inner_src_mac;  // OverlaySpec::vtep_mac, the same for every node
  bool in_use;                      // the slot holds a node in this snapshot
  bool resolved;                    // the next hop's MAC is known; else NEIGHBOR_UNRESOLVED

  // Network order: where its VXLAN packets come from (the outer IPv4 destination).
  uint32_t underlay_ip() const noexcept {
    uint32_t ip;
    std::memcpy(&ip, outer + kVxlanOuterIp4Offset + kIp4DstOffset, sizeof(ip));
    return ip;
  }
  // The outer headers and the inner Ethernet addresses, as they lie in an encapsulated frame.
  static constexpr uint16_t kFrameHeadLen = kVxlanEncapLen + 12;
  const uint8_t* frame_head() const noexcept { return outer; }

 private:
  static constexpr uint16_t kIp4DstOffset = 16;
};
static_assert(offsetof(RemoteNodeEntry, vtep_mac) == kVxlanEncapLen &&
              offsetof(RemoteNodeEntry, inner_src_mac) == kVxlanEncapLen + 6,
              "frame_head(): outer headers then inner destination and source MACs");
static_assert(sizeof(RemoteNodeEntry) == 64, "one cache line per remote node");

class RemoteNodeTable {
 public:
  // Control thread. Fails on a slot out of range or used twice. `uplink_mac` is the outer source.
  bool Build(const OverlaySpec& overlay, const Mac& uplink_mac,
             const std::vector<RemoteNodeSpec>& nodes, std::string* error);

  // Worker. The node in `slot`, or nullptr when the slot is unused in this snapshot.
  const RemoteNodeEntry* Find(uint32_t slot) const noexcept {
    return slot < entries_.size() && entries_[slot].in_use ? &entries_[slot] : nullptr;
  }
  size_t size() const { return count_; }

 private:
  std::vector<RemoteNodeEntry> entries_;  // index = slot; [0] is never in use
  size_t count_ = 0;
};

// Bursts go to few nodes: a stage keeps the last node it looked up, for one burst.
struct LastRemoteNode {
  uint32_t slot = 0;  // kNoRemote
  const RemoteNodeEntry* node = nullptr;
  const RemoteNodeEntry* Find(const RemoteNodeTable& table, uint32_t s) noexcept {
    if (s != slot) {
      slot = s;
      node = table.Find(s);
    }
    return node;
  }
};

// The outer header template for one remote node (exposed for tests and benchmarks).
void BuildVxlanTemplate(const OverlaySpec& overlay, const Mac& uplink_mac,
                        const RemoteNodeSpec& node, uint8_t out[kVxlanEncapLen]);

}  // namespace nodeplane::dp
