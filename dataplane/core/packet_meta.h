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

// Whether meta.{src_port, dst_port} are meaningful (core/l4_header.h FillL4).
enum class L4Status : uint8_t {
  kNone = 0,        // not IPv4, or not parsed
  kPorts,           // TCP/UDP/SCTP ports, or ICMP (echo identifier in both ports, else 0)
  kFragment,        // a non-first IPv4 fragment: no transport header
  kTruncated,       // TCP/UDP/SCTP/ICMP header cut short by the packet's end
  kOtherProtocol,   // another IP protocol: no ports
};

// Where conntrack places a packet (set by ct_lookup; kNone until it runs or when it does not apply).
enum class CtState : uint8_t {
  kNone = 0,     // not tracked (ARP, punted, not IPv4)
  kNew,          // no entry: a connection-opening packet, subject to Service and policy decisions
  kEstablished,  // an entry, original direction
  kReply,        // an entry, reply direction
};

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
  // The transport header (core/l4_header.h FillL4, called by eth_parse and vxlan_decap).
  uint8_t l4_proto;     // IPv4 protocol number (kIp4 only)
  L4Status l4;          // whether the ports are meaningful
  uint16_t l4_offset;   // start of the transport header
  uint16_t src_port;    // network order
  uint16_t dst_port;    // network order
  uint8_t tcp_flags;    // TCP only
  CtState ct_state;     // ct_lookup
  // svc_lb decides, nat_rewrite acts: the destination the packet will have after DNAT (network
  // order; xlate_dst_ip 0 = not translated). NetworkPolicy is evaluated against it (DESIGN §5).
  uint32_t xlate_dst_ip;
  // The NetworkPolicy generation the connection was last admitted under (ct_lookup copies it from
  // the entry; 0 = never). The policy stage re-evaluates established packets whose value differs
  // from the snapshot's policy generation and sets policy_gen_ok; ct_commit writes it back.
  uint32_t ct_policy_gen;
  uint16_t xlate_dst_port;
  bool policy_gen_ok;
  // svc_lb replaced the packet with a reply of this node's own (REJECT: a TCP RST or ICMP port
  // unreachable) that goes back to a client behind VXLAN: ip4_lookup routes it by the Fib to the
  // client's node, like the packets of a connection this node translated.
  bool own_reply;
  // svc_lb decides SNAT (NodePort/LoadBalancer traffic from outside with externalTrafficPolicy
  // Cluster, hairpin): the source after translation (network order; xlate_src_ip 0 = none;
  // xlate_src_port 0 = keep the port unless it collides — conntrack chooses).
  uint32_t xlate_src_ip;
  uint16_t xlate_src_port;
  uint8_t pad2_[6];
  void* ct;             // ct_lookup: the conntrack entry (dataplane/tables/conntrack.h), or nullptr
};
static_assert(sizeof(PacketMeta) % RTE_MBUF_PRIV_ALIGN == 0);
static_assert(sizeof(PacketMeta) == 64, "no implicit padding; keep the metadata on one cache line");

inline PacketMeta& Meta(rte_mbuf* m) { return *static_cast<PacketMeta*>(rte_mbuf_to_priv(m)); }

}  // namespace nodeplane::dp
