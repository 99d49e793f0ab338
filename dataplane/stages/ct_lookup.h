// Stage ct_lookup: finds each packet's connection in the conntrack table (one bulk lookup per
// burst) and says where the packet stands: kNew (no entry), kEstablished (original direction) or
// kReply (reply direction), with meta.ct = the entry and meta.ct_policy_gen = the policy
// generation that last admitted it. For packets of an existing connection it also steps the
// protocol state and the last-seen time (core/ct_packet.h has the state machines; the time is
// read once per burst).
//   ICMP destination-unreachable, time-exceeded and parameter-problem are matched to the
//   connection of the packet they carry ("related": kEstablished or kReply by the direction the
//   error travels); they do not refresh the connection. ICMP echo is tracked by identifier; other
//   ICMP messages, other IP protocols and non-first fragments are not tracked (kNone).
//   TCP packets without an entry are kNew whatever their flags (loose pick-up, see ct_packet.h).
//   Input:   IPv4 packets with meta.l4 (core/l4_header.h).
//   Edges:   kNext, kDrop.
//   Drops:   L4_TRUNCATED (TCP/UDP/SCTP/ICMP header, or an ICMP error's embedded header, cut
//            short), CT_ICMP_UNRELATED (ICMP error about no tracked connection), CT_TABLE_FULL
//            (the connection's entry is half-inserted because the table was full).
//   Writes:  meta.ct_state, meta.ct, meta.ct_policy_gen; the entry's state and last-seen time.
//   Skips:   non-IPv4 and punted packets, and everything when the snapshot has no table.
//   Never:   creates or removes entries (ct_commit creates, control removes), rewrites packets.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct CtLookupStage {
  static constexpr std::string_view kName = "ct_lookup";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<CtLookupStage>);

}  // namespace nodeplane::dp
