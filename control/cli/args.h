// Command-line parsing for nodeplanectl: argv -> an Invocation holding the ready-made request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::cli {

// Exit codes. Scripts tell "the daemon said no" (1) from "you called me wrong" (2).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

inline constexpr std::string_view kDefaultSocket = "/run/nodeplane/nodeplaned.sock";
inline constexpr std::string_view kSocketEnv = "NODEPLANE_SOCKET";

enum class OutputFormat { kTable, kJson };

enum class Command {
  kHelp,
  kStatus,
  kPods,
  kStats,
  kDrops,
  kState,
  kNodeSet,
  kAttach,
  kDetach,
  kRemoteNodes,
  kRemoteNodeSet,
  kRemoteNodeDelete,
  kConntrackList,
  kConntrackFlush,
  kServices,
  kBackends,
  kLb,
  kExplain,
};

// One parsed command line. The write commands carry the request exactly as it will be sent, so a
// test of the parser is a test of what reaches the daemon.
struct Invocation {
  Command command = Command::kHelp;
  // Filesystem path of the daemon's unix socket (see ChannelTarget).
  std::string socket;
  OutputFormat format = OutputFormat::kTable;
  v1::SetNodeRequest set_node;                       // kNodeSet
  v1::AttachPodRequest attach;                       // kAttach
  v1::DetachPodRequest detach;                       // kDetach
  v1::UpsertRemoteNodesRequest upsert_remote_nodes;  // kRemoteNodeSet (one node)
  v1::DeleteRemoteNodesRequest delete_remote_nodes;  // kRemoteNodeDelete (one name)
  v1::ListConntrackRequest list_conntrack;           // kConntrackList
  v1::FlushConntrackRequest flush_conntrack;         // kConntrackFlush
  std::string backends_of;                           // kBackends: "NAMESPACE/NAME" or "" (all)
  v1::ExplainServiceBackendRequest lb;               // kLb
  v1::ExplainPolicyRequest explain;                  // kExplain
};

// Parses the arguments after argv[0]. env_socket is $NODEPLANE_SOCKET (nullptr or "" when unset).
// Any error is a usage error (exit kExitUsage); its message is one line without the program name.
// -h/--help anywhere, or the command `help`, yields Command::kHelp even if other arguments are
// wrong, so that asking for help never fails.
absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args, const char* env_socket);

// `explain`'s "PORT/PROTO": 1..65535 and TCP, UDP or SCTP (any case), e.g. "8080/tcp".
absl::Status ParsePortProto(std::string_view text, v1::ExplainPolicyRequest* req);

// "NAMESPACE/NAME" with exactly one slash and both parts non-empty.
absl::StatusOr<v1::PodKey> ParsePodKey(std::string_view text);

// The gRPC target for a socket path: "unix:" + path. A path that already names a unix: target is
// kept, so `--socket unix:/x` does not become "unix:unix:/x".
std::string ChannelTarget(std::string_view socket);

// The --help text (ends in '\n').
std::string UsageText();

}  // namespace nodeplane::cli
