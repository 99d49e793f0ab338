// nodeplanectl commands: the gRPC call behind each one; the output comes from format.h.
#include "control/cli/commands.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "control/cli/conntrack_format.h"
#include "control/cli/format.h"
#include "control/cli/format_services.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::cli {
namespace {

class Client {
 public:
  Client(const Invocation& inv, std::ostream& out, std::ostream& err)
      : inv_(inv),
        out_(out),
        err_(err),
        channel_(
            grpc::CreateChannel(ChannelTarget(inv.socket), grpc::InsecureChannelCredentials())),
        stub_(v1::Nodeplane::NewStub(channel_)) {}

  int Execute() {
    switch (inv_.command) {
      case Command::kHelp:
        break;  // Run answers it without a channel.
      case Command::kStatus:
        return Status();
      case Command::kPods:
        return Pods();
      case Command::kStats:
      case Command::kDrops:
        return Stats();
      case Command::kState:
        return State();
      case Command::kNodeSet:
        return NodeSet();
      case Command::kAttach:
        return Attach();
      case Command::kDetach:
        return Detach();
      case Command::kRemoteNodes:
        return RemoteNodes();
      case Command::kRemoteNodeSet:
        return RemoteNodeSet();
      case Command::kRemoteNodeDelete:
        return RemoteNodeDelete();
      case Command::kConntrackList:
        return ConntrackList();
      case Command::kConntrackFlush:
        return ConntrackFlush();
      case Command::kServices:
      case Command::kBackends:
        return ServicesOrBackends();
      case Command::kLb:
        return Lb();
      case Command::kExplain:
        return Explain();
    }
    return kExitFailure;
  }

 private:
  bool Json() const { return inv_.format == OutputFormat::kJson; }

  // Calls stub method `method` named `rpc`; on failure prints the error and returns false.
  template <typename Request, typename Reply, typename Method>
  bool Call(std::string_view rpc, Method method, const Request& request, Reply* reply) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    grpc::Status status = ((*stub_).*method)(&context, request, reply);
    if (status.ok()) return true;
    // UNAVAILABLE on a channel that never got connected means nobody answered on the socket
    // (missing, refused, no permission). The daemon itself may also answer UNAVAILABLE, on a
    // connected channel; that is reported like any other error.
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        channel_->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY) {
      err_ << FormatUnreachable(inv_.socket, status);
    } else {
      err_ << FormatRpcError(rpc, status);
    }
    return false;
  }

  int Status() {
    v1::Status reply;
    if (!Call("GetStatus", &v1::Nodeplane::Stub::GetStatus, v1::GetStatusRequest(), &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatStatus(reply));
    return kExitOk;
  }

  int Pods() {
    v1::State reply;
    if (!Call("GetState", &v1::Nodeplane::Stub::GetState, v1::GetStateRequest(), &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatPods(reply));
    return kExitOk;
  }

  int Stats() {
    v1::Stats reply;
    if (!Call("GetStats", &v1::Nodeplane::Stub::GetStats, v1::GetStatsRequest(), &reply)) {
      return kExitFailure;
    }
    if (inv_.command == Command::kDrops) {
      out_ << (Json() ? DropsJson(reply) : FormatDrops(reply));
    } else {
      out_ << (Json() ? ToJson(reply) : FormatStats(reply));
    }
    return kExitOk;
  }

  int State() {
    v1::State reply;
    if (!Call("GetState", &v1::Nodeplane::Stub::GetState, v1::GetStateRequest(), &reply)) {
      return kExitFailure;
    }
    // The state has no useful table form (every kind of object); it is always JSON.
    out_ << ToJson(reply);
    return kExitOk;
  }

  int NodeSet() {
    v1::WriteReply reply;
    if (!Call("SetNode", &v1::Nodeplane::Stub::SetNode, inv_.set_node, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply)
                    : FormatWrite("node " + inv_.set_node.node().name() + " set", reply));
    return kExitOk;
  }

  int Attach() {
    v1::AttachPodReply reply;
    if (!Call("AttachPod", &v1::Nodeplane::Stub::AttachPod, inv_.attach, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatAttach(reply));
    return kExitOk;
  }

  int Detach() {
    v1::WriteReply reply;
    if (!Call("DetachPod", &v1::Nodeplane::Stub::DetachPod, inv_.detach, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply)
                    : FormatWrite("detached " + PodKeyString(inv_.detach.key()), reply));
    return kExitOk;
  }

  int RemoteNodes() {
    v1::State reply;
    if (!Call("GetState", &v1::Nodeplane::Stub::GetState, v1::GetStateRequest(), &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? RemoteNodesJson(reply) : FormatRemoteNodes(reply));
    return kExitOk;
  }

  int RemoteNodeSet() {
    v1::WriteReply reply;
    if (!Call("UpsertRemoteNodes", &v1::Nodeplane::Stub::UpsertRemoteNodes,
              inv_.upsert_remote_nodes, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply)
                    : FormatWrite(
                          "remote node " + inv_.upsert_remote_nodes.remote_nodes(0).name() + " set",
                          reply));
    return kExitOk;
  }

  int RemoteNodeDelete() {
    v1::WriteReply reply;
    if (!Call("DeleteRemoteNodes", &v1::Nodeplane::Stub::DeleteRemoteNodes,
              inv_.delete_remote_nodes, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply)
                    : FormatWrite("remote node " + inv_.delete_remote_nodes.names(0) + " deleted",
                                  reply));
    return kExitOk;
  }

  int ConntrackList() {
    v1::ListConntrackReply reply;
    if (!Call("ListConntrack", &v1::Nodeplane::Stub::ListConntrack, inv_.list_conntrack,
              &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatConntrack(reply));
    return kExitOk;
  }

  int ConntrackFlush() {
    v1::FlushConntrackReply reply;
    if (!Call("FlushConntrack", &v1::Nodeplane::Stub::FlushConntrack, inv_.flush_conntrack,
              &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatConntrackFlush(reply));
    return kExitOk;
  }

  int ServicesOrBackends() {
    v1::State reply;
    if (!Call("GetState", &v1::Nodeplane::Stub::GetState, v1::GetStateRequest(), &reply)) {
      return kExitFailure;
    }
    if (Json()) {
      v1::State only;  // like remote-nodes: just the kinds asked for, parseable as a State
      *only.mutable_services() = reply.services();
      *only.mutable_endpoint_slices() = reply.endpoint_slices();
      out_ << ToJson(only);
    } else if (inv_.command == Command::kServices) {
      out_ << FormatServices(reply);
    } else {
      out_ << FormatBackends(reply, inv_.backends_of);
    }
    return kExitOk;
  }

  int Lb() {
    v1::ExplainServiceBackendReply reply;
    if (!Call("ExplainServiceBackend", &v1::Nodeplane::Stub::ExplainServiceBackend, inv_.lb,
              &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatExplain(reply));
    return kExitOk;
  }

  int Explain() {
    v1::PolicyExplanation reply;
    if (!Call("ExplainPolicy", &v1::Nodeplane::Stub::ExplainPolicy, inv_.explain, &reply)) {
      return kExitFailure;
    }
    out_ << (Json() ? ToJson(reply) : FormatExplanation(inv_.explain, reply));
    return kExitOk;
  }

  const Invocation& inv_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Nodeplane::Stub> stub_;
};

}  // namespace

int Run(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  if (invocation.command == Command::kHelp) {
    out << UsageText();
    return kExitOk;
  }
  return Client(invocation, out, err).Execute();
}

}  // namespace nodeplane::cli
