// Stage policy: NetworkPolicy enforcement (k8s-semantics §1, DESIGN §5), against the compiled
// identities and allow-sets of Snapshot::policy (dataplane/tables/policy_table.h).
//   Input:   IPv4 packets not punted and not finished. The connection is judged in its original
//            direction: source → the post-DNAT destination (meta.xlate_dst_ip/port when nonzero,
//            else the packet's); a conntrack reply (ct_state kReply) by its reversed tuple.
//   Decides: egress for a local source pod isolated for egress, ingress for a local destination
//            pod isolated for ingress; both must allow. Not judged: a pod to itself, and ingress
//            from this node (its addresses, or anything from the host port).
//            Established/reply packets (ct_state) admitted under the running
//            Snapshot::policy_generation pass unchecked; others are re-checked, and if allowed get
//            meta.policy_gen_ok (ct_commit stores the generation), so revoked access stops them.
//   Edges:   kNext, kDrop.
//   Drops:   POLICY_DENY_EGRESS, POLICY_DENY_INGRESS (each also recorded with the deciding pod and
//            direction in WorkerCounters::policy_denies); L4_TRUNCATED where an isolated pod's
//            rules need the ports of a packet whose transport header is cut short.
//   Writes:  meta.drop, meta.policy_gen_ok.
//   Never:   allocates, locks, logs; rewrites the packet.
// Non-first IPv4 fragments carry no ports: they are judged as port 0 (only rules without ports
// admit them).
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct PolicyStage {
  static constexpr std::string_view kName = "policy";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<PolicyStage>);

}  // namespace nodeplane::dp
