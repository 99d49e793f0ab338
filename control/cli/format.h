// Output of each nodeplanectl command, from the reply message to the text printed. No gRPC calls
// here, so every format is unit-tested from hand-made messages.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "google/protobuf/message.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::cli {

// The reply as one line of JSON plus '\n': proto field names, zeros and empty lists included, so
// scripts can rely on every field being present.
std::string ToJson(const google::protobuf::Message& message);

// `status`: aligned "Key:  value" lines.
std::string FormatStatus(const v1::Status& status);

// `pods`: NAMESPACE/NAME, IPS, NODE, PORT, INTERFACE, MAC, MTU; one row per pod, sorted by key.
// The last four are "-" for pods that are not attached to this node.
std::string FormatPods(const v1::State& state);

// `remote-nodes`: NAME, UNDERLAY, POD_CIDRS, VNI, PORT, VTEP_MAC; one row per remote node, sorted
// by name. Unset fields (VNI 0, port 0, MAC "") are "-": the daemon's default applies.
std::string FormatRemoteNodes(const v1::State& state);

// `remote-nodes -o json`: {"remote_nodes":[...]}, every field present.
std::string RemoteNodesJson(const v1::State& state);

// `stats`: the ports table, a blank line, the workers table, and (if any is non-zero) a blank line
// and the events table.
std::string FormatStats(const v1::Stats& stats);

// `explain`: the verdict, then egress and ingress: the deciding pod, the policies that isolate
// it and those that allow the connection (or that none does), and why.
std::string FormatExplanation(const v1::ExplainPolicyRequest& request,
                              const v1::PolicyExplanation& e);

// The latest NetworkPolicy drops (part of `stats` when there are any): WORKER, POD (the one whose
// policies decided), DIRECTION, SOURCE, DESTINATION, PORT, PROTO, oldest first per worker.
std::string FormatPolicyDenials(const v1::Stats& stats);

// `drops`: NAME, PACKETS, DESCRIPTION for reasons with a non-zero count, in reason order.
std::string FormatDrops(const v1::Stats& stats);

// `drops -o json`: {"drops":[...]} with every reason, zeros included.
std::string DropsJson(const v1::Stats& stats);

// `attach`: the attachment and the generation that routes to the pod.
std::string FormatAttach(const v1::AttachPodReply& reply);

// `node set` and `detach`: "<what> (generation N)".
std::string FormatWrite(std::string_view what, const v1::WriteReply& reply);

// "NAMESPACE/NAME".
std::string PodKeyString(const v1::PodKey& key);

// Canonical upper-case name of a gRPC status code, e.g. "NOT_FOUND".
std::string_view StatusCodeName(grpc::StatusCode code);

// "nodeplanectl: <rpc>: <CODE>: <message>\n".
std::string FormatRpcError(std::string_view rpc, const grpc::Status& status);

// The message for a daemon that cannot be reached at all (no socket, no permission, nobody
// listening), naming the socket so the operator knows which path was tried.
std::string FormatUnreachable(std::string_view socket, const grpc::Status& status);

// 3725 -> "1h2m5s"; 0 -> "0s".
std::string FormatDuration(uint64_t seconds);

}  // namespace nodeplane::cli
