// Stage ct_commit: enters the new connections that Services and NetworkPolicy let through into the
// conntrack table, with the NAT svc_lb decided (meta.xlate_*), so every later packet of the
// connection, in either direction, gets the same translation without another decision. For
// packets of existing connections that the policy stage re-admitted (meta.policy_gen_ok), it
// records the snapshot's policy generation in the entry so the next packets skip the re-check.
//   SNAT without a port (xlate_src_port 0) keeps the source port unless the resulting reply tuple
//   is another connection's; then it tries up to kSnatPortTries other ports (1024-65535, from the
//   tuple's hash) and writes the one it took to meta.xlate_src_port for nat_rewrite.
//   A TCP RST without an entry creates none (it passes, untracked).
//   Input:   packets with meta.ct_state from ct_lookup.
//   Edges:   kNext, kDrop.
//   Drops:   CT_TABLE_FULL (no entry or hash slot left: only new connections are refused),
//            CT_TUPLE_COLLISION (the reply tuple after NAT already belongs to a connection).
//   Writes:  meta.ct (the new entry), meta.xlate_src_port (SNAT port chosen); entries' policy_gen;
//            for a connection entering from the uplink, the client's source MAC into the
//            snapshot's UplinkPeers (where its replies go: tables/uplink_peers.h).
//   Counts:  ct_created.
//   Skips:   everything when the snapshot has no table; packets ct_lookup did not track.
//   Never:   removes entries, rewrites packets.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct CtCommitStage {
  static constexpr std::string_view kName = "ct_commit";
  static constexpr int kSnatPortTries = 8;
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<CtCommitStage>);

}  // namespace nodeplane::dp
