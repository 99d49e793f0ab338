#include "dataplane/stages/ip4_lookup.h"

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/uplink_peers.h"

namespace nodeplane::dp {
namespace {

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

// A local miss from a pod that the Fib may still route to a remote node.
enum class Local : uint8_t { kDecided, kTryRemote };

// The reply of a connection a client outside the cluster opened through the uplink (NodePort,
// load-balancer IP, external IP): back out of the uplink, to the MAC the client came from.
inline bool ToUplinkPeer(const Snapshot& snap, PacketMeta& m) noexcept {
  std::array<uint8_t, 6> mac;
  if (m.ct_state != CtState::kReply || snap.uplink_peers == nullptr ||
      snap.uplink_port == kNoPort || !snap.uplink_peers->Find(m.dst_ip, &mac)) {
    return false;
  }
  m.out_port = snap.uplink_port;
  m.remote = kNoRemote;
  return true;
}

// A connection this node translated (a Service's DNAT or SNAT; nat_rewrite has just applied it):
// from the uplink or the overlay, its packets may be for a pod of another node — the backend of a
// NodePort/load-balancer/external-IP connection from outside, or the client pod of a connection
// that came to this node's address through VXLAN — so they are routed by the Fib too. Nothing
// else from there transits this node.
inline bool TranslatedHere(const Snapshot& snap, const PacketMeta& m) noexcept {
  if (m.ct == nullptr || !snap.overlay.enabled || snap.fib == nullptr) return false;
  return static_cast<const CtEntry*>(m.ct)->translated();
}

// The host's own packet (not a translated connection's) to a remote node's underlay address, or
// to a node gone from this snapshot: host-to-host traffic stays on the underlay, untouched.
inline bool HostToUnderlay(const Snapshot& snap, const PacketMeta& m, uint32_t slot) noexcept {
  if (snap.port(m.in_port).kind != PortKind::kHost || TranslatedHere(snap, m)) return false;
  const RemoteNodeEntry* node = snap.remotes.Find(slot);
  return node == nullptr || node->underlay_ip() == m.dst_ip;
}

inline Local Decide(const Snapshot& snap, PacketMeta& m, uint16_t to, Edge* edge,
                    uint8_t* has) noexcept {
  const PortEntry& in = snap.port(m.in_port);
  if (m.from_overlay) {
    // svc_lb's REJECT reply to a client behind VXLAN: back to that client's node.
    if (m.own_reply && snap.fib != nullptr) return Local::kTryRemote;
    if (to == LocalRouteTable::kMiss && ToUplinkPeer(snap, m)) return Local::kDecided;
    if (to == LocalRouteTable::kMiss && TranslatedHere(snap, m)) return Local::kTryRemote;
    const PortKind to_kind = to == LocalRouteTable::kMiss ? PortKind::kNone : snap.port(to).kind;
    if (to_kind == PortKind::kPod) [[likely]] {
      m.out_port = to;
    } else if (to_kind == PortKind::kHost) {
      // For one of this node's own addresses (a host-network endpoint, or the node itself):
      // delivered to the host kernel; host_exception gives it the Ethernet header the host expects.
      m.punt = true;
      *has |= kHasPunt;
    } else {
      *edge = Drop(m, DropReason::kVxlanInnerNoPod);
    }
    return Local::kDecided;
  }
  if (in.kind == PortKind::kPod) {
    if (m.src_ip != in.pod_ip) {
      *edge = Drop(m, DropReason::kSourceSpoofed);
      return Local::kDecided;
    }
    if (to == LocalRouteTable::kMiss) {
      if (snap.overlay.enabled && snap.fib != nullptr) return Local::kTryRemote;
      if (ToUplinkPeer(snap, m)) return Local::kDecided;
      *edge = Drop(m, DropReason::kNoRoute);
      return Local::kDecided;
    }
    m.out_port = to;
    return Local::kDecided;
  }
  // Uplink or host: we route only what is for our pods — and the replies of connections that
  // clients outside the cluster opened through this node (reverse-translated to them just now);
  // the rest passes through untouched.
  if (to == LocalRouteTable::kMiss && ToUplinkPeer(snap, m)) return Local::kDecided;
  if (to == LocalRouteTable::kMiss && TranslatedHere(snap, m)) return Local::kTryRemote;
  // The host's own packets to a remote pod CIDR travel the overlay like a pod's (LookupRemote
  // leaves those to a remote node's underlay address to the host).
  if (to == LocalRouteTable::kMiss && in.kind == PortKind::kHost && snap.overlay.enabled &&
      snap.fib != nullptr) {
    return Local::kTryRemote;
  }
  if (to == LocalRouteTable::kMiss || snap.port(to).kind != PortKind::kPod) {
    m.punt = true;
    *has |= kHasPunt;
  } else {
    m.out_port = to;
  }
  return Local::kDecided;
}

// Pods' packets to no local address, and translated connections' (TranslatedHere): one Fib
// lookup for all of them. A miss ends as it would have without the Fib.
void LookupRemote(StageContext& ctx, Burst& b, Verdicts& out, const uint16_t* idx,
                  uint16_t n) noexcept {
  uint32_t dst[kBurstMax];
  for (uint16_t j = 0; j < n; ++j) dst[j] = Meta(b.pkts[idx[j]]).dst_ip;
  uint32_t slot[kBurstMax];
  ctx.snap.fib->LookupBulk(dst, n, slot);
  for (uint16_t j = 0; j < n; ++j) {
    PacketMeta& m = Meta(b.pkts[idx[j]]);
    if (slot[j] == Fib::kMiss) {
      if (ToUplinkPeer(ctx.snap, m)) continue;
      if (m.own_reply) {
        out.edge[idx[j]] = Drop(m, DropReason::kNoRoute);  // the client's node just went away
      } else if (m.from_overlay) {
        out.edge[idx[j]] = Drop(m, DropReason::kVxlanInnerNoPod);
      } else if (ctx.snap.port(m.in_port).kind == PortKind::kPod) {
        out.edge[idx[j]] = Drop(m, DropReason::kNoRoute);
      } else {
        m.punt = true;  // e.g. a host-network backend on another node: the host routes it
        ctx.burst_has |= kHasPunt;
      }
      continue;
    }
    if (HostToUnderlay(ctx.snap, m, slot[j])) {
      m.punt = true;
      ctx.burst_has |= kHasPunt;
      continue;
    }
    m.out_port = ctx.snap.uplink_port;
    m.remote = slot[j];
    ctx.burst_has |= kHasRemote;
  }
}

}  // namespace

void Ip4LookupStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  // Pass 1: gather the destinations of the packets this stage owns.
  uint32_t dst[kBurstMax];
  uint16_t idx[kBurstMax];
  uint16_t n = 0;
  PassAll(out, b.n);
  for (uint16_t i = 0; i < b.n; ++i) {
    const PacketMeta& m = Meta(b.pkts[i]);
    if (m.cls == PacketClass::kIp4 && !m.punt) {
      dst[n] = m.dst_ip;
      idx[n++] = i;
    }
  }
  if (n == 0) return;
  // Pass 2: one bulk lookup in the local table.
  uint16_t to[kBurstMax];
  ctx.snap.routes.LookupBulk(dst, n, to);
  // Pass 3: decide; pods' local misses wait for the Fib.
  uint16_t remote[kBurstMax];
  uint16_t r = 0;
  for (uint16_t j = 0; j < n; ++j) {
    if (Decide(ctx.snap, Meta(b.pkts[idx[j]]), to[j], &out.edge[idx[j]], &ctx.burst_has) ==
        Local::kTryRemote) {
      remote[r++] = idx[j];
    }
  }
  // Pass 4: one bulk lookup in the Fib.
  if (r != 0) LookupRemote(ctx, b, out, remote, r);
}

}  // namespace nodeplane::dp
