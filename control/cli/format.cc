// Output of each nodeplanectl command: tables for people, JSON for scripts.
#include "control/cli/format.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "control/cli/args.h"
#include "control/cli/table.h"
#include "google/protobuf/util/json_util.h"

namespace nodeplane::cli {
namespace {

using Align = Table::Align;

// Empty values are shown as "-" so that every row has the same number of whitespace-separated
// fields; `awk '{print $3}'` then always means the same column.
std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

std::string Num(uint64_t n) { return std::to_string(n); }

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing fails only for messages with unresolvable Any types, which this API does not use.
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  (void)status;
  out += '\n';
  return out;
}

std::string PodKeyString(const v1::PodKey& key) { return key.namespace_() + "/" + key.name(); }

std::string FormatDuration(uint64_t seconds) {
  const uint64_t days = seconds / 86400;
  const uint64_t hours = seconds / 3600 % 24;
  const uint64_t minutes = seconds / 60 % 60;
  const uint64_t secs = seconds % 60;
  std::string out;
  if (days > 0) out += std::to_string(days) + "d";
  if (days > 0 || hours > 0) out += std::to_string(hours) + "h";
  if (days > 0 || hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(secs) + "s";
  return out;
}

std::string FormatStatus(const v1::Status& status) {
  Table table({{"key"}, {"value"}}, /*show_header=*/false);
  table.AddRow({"Version:", OrDash(status.version())});
  table.AddRow({"Node:", status.node_name().empty() ? "- (not set: run `nodeplanectl node set`)"
                                                    : status.node_name()});
  table.AddRow({"Generation:", Num(status.generation())});
  table.AddRow({"Workers:", Num(status.workers())});
  table.AddRow({"Memory:", status.hugepages() ? "hugepages" : "no-huge (fallback)"});
  table.AddRow({"Uptime:", FormatDuration(status.uptime_seconds())});
  table.AddRow({"Pods attached:", Num(status.pods_attached())});
  table.AddRow({"Ports:", Num(status.ports())});
  table.AddRow({"Uplink:", OrDash(status.uplink())});
  table.AddRow({"Host interface:", OrDash(status.host_interface())});
  return table.Render();
}

std::string FormatPods(const v1::State& state) {
  struct Row {
    const v1::Pod* pod = nullptr;
    const v1::PodAttachment* attachment = nullptr;
  };
  // Keyed by (namespace, name) so output is sorted the way kubectl sorts and stable between runs,
  // whatever order the daemon keeps.
  std::map<std::pair<std::string, std::string>, Row> rows;
  for (const auto& pod : state.pods()) {
    rows[{pod.key().namespace_(), pod.key().name()}].pod = &pod;
  }
  // An attachment without a pod record should not happen (AttachPod upserts the pod), but if it
  // does the operator must still see the port.
  for (const auto& att : state.attachments()) {
    rows[{att.key().namespace_(), att.key().name()}].attachment = &att;
  }

  Table table({{"NAMESPACE/NAME"},
               {"IPS"},
               {"NODE"},
               {"PORT", Align::kRight},
               {"INTERFACE"},
               {"MAC"},
               {"MTU", Align::kRight}});
  for (const auto& [key, row] : rows) {
    std::vector<std::string> cells = {key.first + "/" + key.second};
    cells.push_back(row.pod != nullptr ? OrDash(Join(row.pod->ips())) : "-");
    cells.push_back(row.pod != nullptr ? OrDash(row.pod->node_name()) : "-");
    if (row.attachment != nullptr) {
      cells.push_back(Num(row.attachment->port_id()));
      cells.push_back(OrDash(row.attachment->interface()));
      cells.push_back(OrDash(row.attachment->mac()));
      cells.push_back(Num(row.attachment->mtu()));
    } else {
      cells.insert(cells.end(), {"-", "-", "-", "-"});
    }
    table.AddRow(std::move(cells));
  }
  return table.Render();
}

std::string FormatRemoteNodes(const v1::State& state) {
  std::vector<const v1::RemoteNode*> nodes;
  for (const auto& n : state.remote_nodes()) nodes.push_back(&n);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const auto* a, const auto* b) { return a->name() < b->name(); });
  auto num_or_dash = [](uint32_t n) { return n == 0 ? std::string("-") : Num(n); };
  Table table({{"NAME"},
               {"UNDERLAY"},
               {"POD_CIDRS"},
               {"VNI", Align::kRight},
               {"PORT", Align::kRight},
               {"VTEP_MAC"}});
  for (const auto* n : nodes) {
    table.AddRow({OrDash(n->name()), OrDash(n->underlay_address()), OrDash(Join(n->pod_cidrs())),
                  num_or_dash(n->vni()), num_or_dash(n->udp_port()), OrDash(n->vtep_mac())});
  }
  return table.Render();
}

std::string RemoteNodesJson(const v1::State& state) {
  // As DropsJson: only the list, and {"remote_nodes":[...]} parses back as a State.
  std::string out = "{\"remote_nodes\":[";
  bool first = true;
  for (const auto& n : state.remote_nodes()) {
    if (!first) out += ',';
    first = false;
    std::string item = ToJson(n);
    item.pop_back();  // ToJson's newline
    out += item;
  }
  out += "]}\n";
  return out;
}

std::string FormatStats(const v1::Stats& stats) {
  Table ports({{"PORT", Align::kRight},
               {"NAME"},
               {"KIND"},
               {"POD"},
               {"RX_PACKETS", Align::kRight},
               {"RX_BYTES", Align::kRight},
               {"TX_PACKETS", Align::kRight},
               {"TX_BYTES", Align::kRight},
               {"RX_MISSED", Align::kRight},
               {"RX_ERRORS", Align::kRight},
               {"TX_ERRORS", Align::kRight}});
  for (const auto& p : stats.ports()) {
    ports.AddRow({Num(p.port_id()), OrDash(p.name()), OrDash(p.kind()), OrDash(p.pod()),
                  Num(p.rx_packets()), Num(p.rx_bytes()), Num(p.tx_packets()), Num(p.tx_bytes()),
                  Num(p.rx_missed()), Num(p.rx_errors()), Num(p.tx_errors())});
  }

  Table workers({{"WORKER", Align::kRight},
                 {"LCORE", Align::kRight},
                 {"RX_PACKETS", Align::kRight},
                 {"TX_PACKETS", Align::kRight},
                 {"DROPS", Align::kRight},
                 {"GENERATION", Align::kRight},
                 {"BUSY_POLLS", Align::kRight},
                 {"IDLE_POLLS", Align::kRight},
                 {"SLEEPS", Align::kRight},
                 {"CYCLES/PKT", Align::kRight}});
  for (const auto& w : stats.workers()) {
    // Cycles per packet is what a performance engineer compares between runs; the raw busy-cycle
    // total is in -o json.
    std::string cpp = w.rx_packets() == 0 ? "-" : Num(w.busy_cycles() / w.rx_packets());
    workers.AddRow({Num(w.index()), Num(w.lcore()), Num(w.rx_packets()), Num(w.tx_packets()),
                    Num(w.drops()), Num(w.generation()), Num(w.busy_polls()), Num(w.idle_polls()),
                    Num(w.sleeps()), cpp});
  }

  Table events({{"EVENT"}, {"VALUE", Align::kRight}});
  for (const auto& e : stats.events()) {
    if (e.value() != 0) events.AddRow({e.name(), Num(e.value())});
  }

  std::string out = ports.Render() + "\n" + workers.Render();
  if (events.rows() > 0) out += "\n" + events.Render();
  if (stats.recent_policy_denials_size() > 0) out += "\n" + FormatPolicyDenials(stats);
  return out;
}

std::string FormatPolicyDenials(const v1::Stats& stats) {
  Table t({{"WORKER", Align::kRight},
           {"POD"},
           {"DIRECTION"},
           {"SOURCE"},
           {"DESTINATION"},
           {"PORT", Align::kRight},
           {"PROTO", Align::kRight}});
  for (const v1::PolicyDenial& d : stats.recent_policy_denials()) {
    const std::string proto = d.ip_protocol() == 6    ? "tcp"
                              : d.ip_protocol() == 17  ? "udp"
                              : d.ip_protocol() == 132 ? "sctp"
                                                       : Num(d.ip_protocol());
    t.AddRow({Num(d.worker()), d.pod().name().empty() ? "-" : PodKeyString(d.pod()),
              d.direction() == v1::EGRESS ? "egress" : "ingress", d.source_ip(),
              d.destination_ip(), Num(d.port()), proto});
  }
  return t.Render();
}

std::string FormatDrops(const v1::Stats& stats) {
  std::vector<const v1::DropCount*> drops;
  for (const auto& d : stats.drops()) {
    if (d.packets() != 0) drops.push_back(&d);
  }
  // Reason order (the enum's) keeps rows in place between runs, so `watch nodeplanectl drops`
  // does not reshuffle as counts change.
  std::stable_sort(drops.begin(), drops.end(),
                   [](const auto* a, const auto* b) { return a->reason() < b->reason(); });
  Table table({{"NAME"}, {"PACKETS", Align::kRight}, {"DESCRIPTION"}});
  for (const auto* d : drops) {
    table.AddRow({OrDash(d->name()), Num(d->packets()), d->description()});
  }
  return table.Render();
}

std::string DropsJson(const v1::Stats& stats) {
  // Not ToJson(stats) with the other fields cleared: always_print_primitive_fields would still
  // print "generation", "ports" and the rest.
  std::string out = "{\"drops\":[";
  bool first = true;
  for (const auto& d : stats.drops()) {
    if (!first) out += ',';
    first = false;
    std::string item = ToJson(d);
    item.pop_back();  // ToJson's newline
    out += item;
  }
  out += "]}\n";
  return out;
}

std::string FormatAttach(const v1::AttachPodReply& reply) {
  const v1::PodAttachment& a = reply.attachment();
  return "attached " + PodKeyString(a.key()) + ": port " + Num(a.port_id()) + ", interface " +
         OrDash(a.interface()) + ", mac " + OrDash(a.mac()) + ", mtu " + Num(a.mtu()) +
         " (generation " + Num(reply.generation()) + ")\n";
}

std::string FormatWrite(std::string_view what, const v1::WriteReply& reply) {
  return std::string(what) + " (generation " + Num(reply.generation()) + ")\n";
}

std::string_view StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    default:
      return "UNKNOWN";
  }
}

std::string FormatRpcError(std::string_view rpc, const grpc::Status& status) {
  return "nodeplanectl: " + std::string(rpc) + ": " +
         std::string(StatusCodeName(status.error_code())) + ": " + status.error_message() + "\n";
}

std::string FormatUnreachable(std::string_view socket, const grpc::Status& status) {
  // gRPC says "failed to connect to all addresses; last error: UNKNOWN: unix:/x.sock: No such
  // file or directory"; only the part after the target is news to the operator. If the wording
  // ever changes, the whole message is kept.
  std::string reason = status.error_message();
  const std::string target = ChannelTarget(socket) + ": ";
  if (size_t at = reason.rfind(target); at != std::string::npos) {
    reason = reason.substr(at + target.size());
  }
  // The default socket is root-only (DESIGN §6): "is it running?" would be the wrong hint.
  const char* hint = reason.find("Permission denied") != std::string::npos
                         ? "nodeplaned's socket is root-only by default"
                         : "is nodeplaned running? pick another socket with --socket or "
                           "$NODEPLANE_SOCKET";
  return "nodeplanectl: cannot connect to nodeplaned at " + std::string(socket) + ": " + reason +
         " (" + hint + ")\n";
}

namespace {

std::string PolicyList(const google::protobuf::RepeatedPtrField<v1::NetworkPolicyKey>& keys) {
  std::string out;
  for (const v1::NetworkPolicyKey& k : keys) {
    if (!out.empty()) out += ", ";
    out += k.namespace_() + "/" + k.name();
  }
  return out;
}

std::string Endpoint(const std::string& ip, const v1::PodKey& pod) {
  return pod.name().empty() ? ip : PodKeyString(pod) + " (" + ip + ")";
}

void FormatDirection(std::ostringstream& out, const char* title,
                     const v1::PolicyDirectionVerdict& v) {
  out << title << (v.allowed() ? "allowed" : "DENIED") << "\n";
  if (!v.pod().name().empty()) out << "  pod:        " << PodKeyString(v.pod()) << "\n";
  if (v.isolated()) {
    out << "  isolated by: " << PolicyList(v.isolating()) << "\n";
    out << "  allowed by:  " << (v.allowing().empty() ? "none of them" : PolicyList(v.allowing()))
        << "\n";
  }
  out << "  " << v.reason() << "\n";
}

}  // namespace

std::string FormatExplanation(const v1::ExplainPolicyRequest& request,
                              const v1::PolicyExplanation& e) {
  static constexpr const char* kProto[] = {"tcp", "tcp", "udp", "sctp"};
  const int p = request.protocol() >= 0 && request.protocol() <= 3 ? request.protocol() : 0;
  std::ostringstream out;
  out << Endpoint(e.source_ip(), e.source_pod()) << " -> "
      << Endpoint(e.destination_ip(), e.destination_pod()) << " " << request.port() << "/"
      << kProto[p] << ": " << (e.allowed() ? "ALLOWED" : "DENIED") << "\n";
  FormatDirection(out, "egress (source):       ", e.egress());
  FormatDirection(out, "ingress (destination): ", e.ingress());
  return out.str();
}

}  // namespace nodeplane::cli
