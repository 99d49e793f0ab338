// PacketMeta: what stages learn about a packet and tell each other. Lives in the mbuf private area
// (the pool is created with priv_size = sizeof(PacketMeta)), so it costs no allocation and sits on
// the cache line right after the rte_mbuf header.
#pragma once
#include <rte_mbuf.h>

#include <cstdint>

#include "nodeplane/drop_reason.h"

namespace nodeplane::dp {

enum class PacketClass : uint8_t { kOther = 0, kArp, kIp4 };

inline constexpr uint16_t kNoPort = 0xffff;
inline constexpr uint32_t kNoRemote = 0;  // remote node slots start at 1: a zeroed meta is local

struct PacketMeta {
  uint32_t src_ip;      // IPv4 source, network order (kIp4 only)
  uint32_t dst_ip;      // IPv4 destination, network order (kIp4 only)
  uint32_t remote;      // ip4_lookup: the remote node (Snapshot::remotes slot) to encapsulate
                        // towards; kNoRemote for local delivery
  uint16_t in_port;     // the port it was received on
  uint16_t out_port;    // set by the stage that decides where it goes
  uint16_t l3_offset;   // start of the ARP or IPv4 header
  PacketClass cls;      // set by eth_parse
  DropReason drop;      // set by the stage that returns Edge::kDrop
  bool punt;            // not ours: hand to host_exception, later stages leave it alone
  bool from_overlay;    // vxlan_decap: arrived encapsulated from a remote node (now the inner frame)
  uint8_t pad_[2];      // priv_size must be a multiple of RTE_MBUF_PRIV_ALIGN
};
static_assert(sizeof(PacketMeta) % RTE_MBUF_PRIV_ALIGN == 0);
static_assert(sizeof(PacketMeta) <= 64, "keep the metadata on one cache line");

inline PacketMeta& Meta(rte_mbuf* m) { return *static_cast<PacketMeta*>(rte_mbuf_to_priv(m)); }

}  // namespace nodeplane::dp
