// Tests of nodeplanectl: argument parsing, table and JSON output, and whole invocations against an
// in-process fake nodeplaned on a private unix socket (plus the built binary, for exit codes).
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "control/cli/args.h"
#include "control/cli/commands.h"
#include "control/cli/format.h"
#include "control/cli/format_services.h"
#include "control/cli/table.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args, const char* env = nullptr) {
  return ParseArgs(args, env);
}

// Parses and expects a usage error whose message contains `fragment`.
void ExpectUsageError(std::vector<std::string> args, const std::string& fragment) {
  absl::StatusOr<Invocation> inv = Parse(args);
  ASSERT_FALSE(inv.ok()) << "accepted: " << ::testing::PrintToString(args);
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr(fragment));
  // One line: main prints it followed by the --help hint.
  EXPECT_EQ(std::string(inv.status().message()).find('\n'), std::string::npos);
}

bool ProtoEq(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------------------------
// Arguments

TEST(ArgsTest, ReadCommandsAndDefaults) {
  struct Case {
    std::string word;
    Command command;
  } cases[] = {{"status", Command::kStatus},
               {"pods", Command::kPods},
               {"stats", Command::kStats},
               {"drops", Command::kDrops},
               {"state", Command::kState}};
  for (const auto& c : cases) {
    absl::StatusOr<Invocation> inv = Parse({c.word});
    ASSERT_TRUE(inv.ok()) << c.word << ": " << inv.status();
    EXPECT_EQ(inv->command, c.command);
    EXPECT_EQ(inv->socket, kDefaultSocket);
    EXPECT_EQ(inv->format, OutputFormat::kTable);
  }
}

TEST(ArgsTest, SocketPrecedence) {
  EXPECT_EQ(Parse({"status"}, "/env.sock")->socket, "/env.sock");
  EXPECT_EQ(Parse({"status"}, "")->socket, kDefaultSocket);  // empty = unset
  EXPECT_EQ(Parse({"--socket", "/flag.sock", "status"}, "/env.sock")->socket, "/flag.sock");
  EXPECT_EQ(Parse({"--socket=/eq.sock", "status"})->socket, "/eq.sock");
  EXPECT_EQ(ChannelTarget("/run/x.sock"), "unix:/run/x.sock");
  EXPECT_EQ(ChannelTarget("unix:/run/x.sock"), "unix:/run/x.sock");
}

TEST(ArgsTest, OutputFormatSpellingsAndPositions) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"-o", "json", "pods"},
                                             {"pods", "-o", "json"},
                                             {"-ojson", "pods"},
                                             {"-o=json", "pods"},
                                             {"--output", "json", "pods"},
                                             {"--output=json", "pods"},
                                             {"-o", "table", "-o", "json", "pods"}}) {
    absl::StatusOr<Invocation> inv = Parse(args);
    ASSERT_TRUE(inv.ok()) << ::testing::PrintToString(args) << ": " << inv.status();
    EXPECT_EQ(inv->format, OutputFormat::kJson) << ::testing::PrintToString(args);
    EXPECT_EQ(inv->command, Command::kPods);
  }
  EXPECT_EQ(Parse({"-o", "table", "pods"})->format, OutputFormat::kTable);
}

TEST(ArgsTest, Help) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"help"},
                                             {"--help"},
                                             {"-h"},
                                             {"attach", "--help"},
                                             {"bogus", "-h"},
                                             {"--nonsense", "--help"},
                                             {"-o", "yaml", "help"}}) {
    absl::StatusOr<Invocation> inv = Parse(args);
    ASSERT_TRUE(inv.ok()) << ::testing::PrintToString(args) << ": " << inv.status();
    EXPECT_EQ(inv->command, Command::kHelp);
  }
  EXPECT_THAT(UsageText(), HasSubstr("nodeplanectl [--socket PATH] [-o table|json] COMMAND"));
}

TEST(ArgsTest, NodeSet) {
  absl::StatusOr<Invocation> inv =
      Parse({"node", "set", "--name", "node-a", "--address", "10.0.0.11/24", "--pod-cidr",
             "10.244.1.0/24", "--address", "192.168.0.11/24", "--gateway=169.254.1.1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kNodeSet);
  v1::SetNodeRequest want;
  want.mutable_node()->set_name("node-a");
  want.mutable_node()->add_addresses("10.0.0.11/24");
  want.mutable_node()->add_addresses("192.168.0.11/24");
  want.mutable_node()->add_pod_cidrs("10.244.1.0/24");
  want.mutable_node()->set_pod_gateway("169.254.1.1");
  EXPECT_TRUE(ProtoEq(inv->set_node, want)) << inv->set_node.DebugString();
}

TEST(ArgsTest, NodeSetVxlan) {
  // Without VXLAN flags the request has no vxlan message: the daemon's defaults apply.
  absl::StatusOr<Invocation> inv = Parse({"node", "set", "--name", "n"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_FALSE(inv->set_node.node().has_vxlan());
  EXPECT_EQ(inv->set_node.node().vtep_address(), "");

  inv = Parse({"node", "set", "--name", "node1", "--address", "10.77.0.11/24", "--vtep-address",
               "10.77.0.11", "--vni", "42", "--port=8472", "--vtep-mac", "ee:ee:ee:00:00:01"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  v1::SetNodeRequest want;
  want.mutable_node()->set_name("node1");
  want.mutable_node()->add_addresses("10.77.0.11/24");
  want.mutable_node()->set_vtep_address("10.77.0.11");
  want.mutable_node()->mutable_vxlan()->set_vni(42);
  want.mutable_node()->mutable_vxlan()->set_udp_port(8472);
  want.mutable_node()->mutable_vxlan()->set_vtep_mac("ee:ee:ee:00:00:01");
  EXPECT_TRUE(ProtoEq(inv->set_node, want)) << inv->set_node.DebugString();

  // One VXLAN flag is enough to send the message; the others stay 0/"" (defaults).
  inv = Parse({"node", "set", "--name", "n", "--vni", "7"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_TRUE(inv->set_node.node().has_vxlan());
  EXPECT_EQ(inv->set_node.node().vxlan().vni(), 7u);
  EXPECT_EQ(inv->set_node.node().vxlan().udp_port(), 0u);
  EXPECT_EQ(inv->set_node.node().vxlan().vtep_mac(), "");
}

TEST(ArgsTest, NodeSetZone) {
  absl::StatusOr<Invocation> inv = Parse({"node", "set", "--name", "n", "--zone", "zone-a"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->set_node.node().zone(), "zone-a");
  inv = Parse({"node", "set", "--name", "n"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->set_node.node().zone(), "") << "no flag: no zone";
}

TEST(ArgsTest, RemoteNodeSet) {
  absl::StatusOr<Invocation> inv =
      Parse({"remote-node", "set", "--name", "node2", "--underlay", "10.77.0.12", "--pod-cidr",
             "10.244.2.0/24", "--pod-cidr", "10.245.2.0/24", "--vni", "1", "--port", "8472",
             "--vtep-mac", "aa:bb:cc:dd:ee:ff"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kRemoteNodeSet);
  v1::UpsertRemoteNodesRequest want;
  v1::RemoteNode* n = want.add_remote_nodes();
  n->set_name("node2");
  n->set_underlay_address("10.77.0.12");
  n->add_pod_cidrs("10.244.2.0/24");
  n->add_pod_cidrs("10.245.2.0/24");
  n->set_vni(1);
  n->set_udp_port(8472);
  n->set_vtep_mac("aa:bb:cc:dd:ee:ff");
  EXPECT_TRUE(ProtoEq(inv->upsert_remote_nodes, want)) << inv->upsert_remote_nodes.DebugString();

  // Minimal: VNI, port and MAC left to the daemon (0, 0, "").
  inv = Parse({"remote-node", "set", "--name", "n", "--underlay", "192.168.1.12"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_EQ(inv->upsert_remote_nodes.remote_nodes_size(), 1);
  const v1::RemoteNode& m = inv->upsert_remote_nodes.remote_nodes(0);
  EXPECT_EQ(m.vni(), 0u);
  EXPECT_EQ(m.udp_port(), 0u);
  EXPECT_EQ(m.vtep_mac(), "");
  EXPECT_TRUE(m.pod_cidrs().empty());
}

TEST(ArgsTest, RemoteNodeDeleteAndList) {
  absl::StatusOr<Invocation> inv = Parse({"remote-node", "delete", "node2"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kRemoteNodeDelete);
  ASSERT_EQ(inv->delete_remote_nodes.names_size(), 1);
  EXPECT_EQ(inv->delete_remote_nodes.names(0), "node2");

  inv = Parse({"remote-nodes", "-o", "json"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kRemoteNodes);
  EXPECT_EQ(inv->format, OutputFormat::kJson);
}

TEST(ArgsTest, RemoteNodeUsageErrors) {
  ExpectUsageError({"remote-node"}, "missing subcommand");
  ExpectUsageError({"remote-node", "get"}, "unknown subcommand \"get\"");
  ExpectUsageError({"remote-node", "set", "--underlay", "10.0.0.1"}, "--name is required");
  ExpectUsageError({"remote-node", "set", "--name", "n"}, "--underlay is required");
  ExpectUsageError({"remote-node", "set", "--name", "a/b", "--underlay", "1.1.1.1"},
                   "must not contain '/'");
  ExpectUsageError({"remote-node", "set", "--name", "n", "--underlay", ""}, "empty address");
  ExpectUsageError({"remote-node", "set", "--name", "n", "--underlay", "1.1.1.1", "--vni", "x"},
                   "--vni: \"x\" is not a non-negative integer");
  ExpectUsageError({"remote-node", "set", "--name", "n", "--underlay", "1.1.1.1", "--port", "-1"},
                   "--port: \"-1\" is not a non-negative integer");
  ExpectUsageError({"remote-node", "set", "--name", "n", "--underlay", "1.1.1.1", "--vtep-mac", ""},
                   "empty MAC");
  ExpectUsageError(
      {"remote-node", "set", "--name", "n", "--underlay", "1.1.1.1", "--underlay", "1.1.1.2"},
      "--underlay given twice");
  ExpectUsageError({"remote-node", "set", "--name", "n", "--underlay", "1.1.1.1", "--address", "x"},
                   "--address does not apply");
  ExpectUsageError({"remote-node", "set", "n"}, "unexpected argument \"n\"");
  ExpectUsageError({"remote-node", "delete"}, "remote-node delete: missing NAME");
  ExpectUsageError({"remote-node", "delete", "a", "b"}, "unexpected argument \"b\"");
  ExpectUsageError({"remote-node", "delete", "ns/n"}, "must not contain '/'");
  ExpectUsageError({"remote-nodes", "x"}, "unexpected argument \"x\"");
  ExpectUsageError({"node", "set", "--name", "n", "--underlay", "1.1.1.1"},
                   "--underlay does not apply");
  ExpectUsageError({"node", "set", "--name", "n", "--port", "http"}, "not a non-negative integer");
}

TEST(ArgsTest, Attach) {
  absl::StatusOr<Invocation> inv =
      Parse({"--socket",       "/s",      "attach",     "default/web", "--netns",
             "/run/netns/web", "--ip",    "10.244.1.5", "--ip",        "10.244.1.6",
             "--mtu",          "1450",    "--ifname",   "net1",        "--label",
             "app=web",        "--label", "tier=",      "-o",          "json"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kAttach);
  EXPECT_EQ(inv->format, OutputFormat::kJson);
  v1::AttachPodRequest want;
  want.mutable_key()->set_namespace_("default");
  want.mutable_key()->set_name("web");
  want.set_netns("/run/netns/web");
  want.add_ips("10.244.1.5");
  want.add_ips("10.244.1.6");
  want.set_mtu(1450);
  want.set_interface("net1");
  (*want.mutable_labels())["app"] = "web";
  (*want.mutable_labels())["tier"] = "";
  EXPECT_TRUE(ProtoEq(inv->attach, want)) << inv->attach.DebugString();
}

TEST(ArgsTest, AttachMinimalLeavesDefaultsToDaemon) {
  absl::StatusOr<Invocation> inv = Parse({"attach", "ns/p", "--netns", "/n", "--ip", "10.0.0.1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->attach.mtu(), 0u);        // daemon default 1500
  EXPECT_EQ(inv->attach.interface(), "");  // daemon default eth0
  EXPECT_TRUE(inv->attach.labels().empty());
}

TEST(ArgsTest, Detach) {
  absl::StatusOr<Invocation> inv = Parse({"detach", "kube-system/coredns-1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kDetach);
  EXPECT_EQ(inv->detach.key().namespace_(), "kube-system");
  EXPECT_EQ(inv->detach.key().name(), "coredns-1");
}

TEST(ArgsTest, PodKeys) {
  EXPECT_TRUE(ParsePodKey("a/b").ok());
  for (const char* bad : {"", "/", "a", "a/", "/b", "a/b/c", "a//b", "//"}) {
    EXPECT_FALSE(ParsePodKey(bad).ok()) << bad;
    ExpectUsageError({"detach", bad}, "want NAMESPACE/NAME");
  }
}

TEST(ArgsTest, UsageErrors) {
  ExpectUsageError({}, "no command");
  ExpectUsageError({"-o", "json"}, "no command");
  ExpectUsageError({"frobnicate"}, "unknown command \"frobnicate\"");
  ExpectUsageError({"status", "extra"}, "unexpected argument \"extra\"");
  ExpectUsageError({"--bogus", "status"}, "unknown flag --bogus");
  ExpectUsageError({"status", "-x"}, "unknown flag -x");
  ExpectUsageError({"status", "--socket"}, "--socket needs a value");
  ExpectUsageError({"--socket", "", "status"}, "empty path");
  ExpectUsageError({"-o", "yaml", "status"}, "unknown format \"yaml\"");
  ExpectUsageError({"status", "--ip", "1.2.3.4"}, "--ip does not apply");
  ExpectUsageError({"node"}, "missing subcommand");
  ExpectUsageError({"node", "get"}, "unknown subcommand \"get\"");
  ExpectUsageError({"node", "set"}, "--name is required");
  ExpectUsageError({"node", "set", "--name", ""}, "empty node name");
  ExpectUsageError({"node", "set", "--name", "ns/node"}, "must not contain '/'");
  ExpectUsageError({"node", "set", "--name", "a", "--name", "b"}, "--name given twice");
  ExpectUsageError({"node", "set", "--name", "a", "--netns", "/n"}, "--netns does not apply");
  ExpectUsageError({"attach", "--netns", "/n", "--ip", "10.0.0.1"}, "missing NAMESPACE/NAME");
  ExpectUsageError({"attach", "a/b", "c/d", "--netns", "/n", "--ip", "1.1.1.1"},
                   "unexpected argument \"c/d\"");
  ExpectUsageError({"attach", "a/b", "--ip", "10.0.0.1"}, "--netns is required");
  ExpectUsageError({"attach", "a/b", "--netns", "/n"}, "--ip is required");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--mtu", "15OO"},
                   "not a non-negative integer");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--mtu", "-1"},
                   "not a non-negative integer");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--mtu", "99999999999"},
                   "not a non-negative integer");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--label", "app"},
                   "not KEY=VALUE");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--label", "=x"},
                   "not KEY=VALUE");
  ExpectUsageError(
      {"attach", "a/b", "--netns", "/n", "--ip", "1.1.1.1", "--label", "a=1", "--label", "a=2"},
      "key \"a\" given twice");
  ExpectUsageError({"attach", "a/b", "--netns", "/n", "--netns", "/m", "--ip", "1.1.1.1"},
                   "--netns given twice");
  ExpectUsageError({"detach", "a/b", "--mtu", "1500"}, "--mtu does not apply");
  ExpectUsageError({"detach"}, "missing NAMESPACE/NAME");
}

// ---------------------------------------------------------------------------------------------
// Table

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table t({{"NAME"}, {"COUNT", Table::Align::kRight}, {"NOTE"}});
  t.AddRow({"a", "1", "first"});
  t.AddRow({"longer-name", "12345", ""});
  t.AddRow({"short"});  // padded with empty cells
  EXPECT_EQ(t.Render(),
            "NAME          COUNT   NOTE\n"
            "a                 1   first\n"
            "longer-name   12345\n"
            "short\n");
}

TEST(TableTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(DisplayWidth("héllo"), 5u);
  Table t({{"K"}, {"V"}}, /*show_header=*/false);
  t.AddRow({"é", "1"});
  t.AddRow({"ab", "2"});
  EXPECT_EQ(t.Render(), "é    1\nab   2\n");
}

// ---------------------------------------------------------------------------------------------
// Formats

v1::State SampleRemoteNodes() {
  v1::State state;
  auto* linux_node = state.add_remote_nodes();
  linux_node->set_name("node3");
  linux_node->set_underlay_address("10.77.0.13");
  linux_node->add_pod_cidrs("10.244.3.0/24");
  linux_node->set_vni(1);
  linux_node->set_udp_port(4789);
  linux_node->set_vtep_mac("02:77:00:00:00:0d");
  auto* plain = state.add_remote_nodes();
  plain->set_name("node2");
  plain->set_underlay_address("10.77.0.12");
  plain->add_pod_cidrs("10.244.2.0/24");
  plain->add_pod_cidrs("10.245.2.0/24");
  return state;
}

v1::State SampleState() {
  v1::State state;
  state.set_generation(7);
  state.mutable_node()->set_name("node-a");
  auto* web = state.add_pods();
  web->mutable_key()->set_namespace_("default");
  web->mutable_key()->set_name("web");
  web->add_ips("10.244.1.5");
  web->set_node_name("node-a");
  (*web->mutable_labels())["app"] = "web";
  auto* remote = state.add_pods();
  remote->mutable_key()->set_namespace_("default");
  remote->mutable_key()->set_name("db-0");
  remote->add_ips("10.244.2.9");
  remote->set_node_name("node-b");
  auto* dns = state.add_pods();
  dns->mutable_key()->set_namespace_("kube-system");
  dns->mutable_key()->set_name("coredns");
  dns->add_ips("10.244.1.2");
  dns->set_node_name("node-a");
  auto* a1 = state.add_attachments();
  *a1->mutable_key() = web->key();
  a1->set_netns("/run/netns/web");
  a1->set_interface("eth0");
  a1->set_mac("02:00:0a:f4:01:05");
  a1->set_mtu(1500);
  a1->set_port_id(3);
  auto* a2 = state.add_attachments();
  *a2->mutable_key() = dns->key();
  a2->set_interface("eth0");
  a2->set_mac("02:00:0a:f4:01:02");
  a2->set_mtu(1450);
  a2->set_port_id(12);
  // Remote nodes too, so that `state` and `remote-nodes` read the same reply from the fake.
  const v1::State remotes = SampleRemoteNodes();
  for (const auto& n : remotes.remote_nodes()) *state.add_remote_nodes() = n;
  return state;
}

v1::Stats SampleStats() {
  v1::Stats stats;
  stats.set_generation(7);
  auto* up = stats.add_ports();
  up->set_port_id(0);
  up->set_name("net_tap0");
  up->set_kind("uplink");
  up->set_rx_packets(1000);
  up->set_tx_packets(900);
  up->set_rx_bytes(1500000);
  up->set_tx_bytes(1350000);
  up->set_rx_missed(3);
  auto* pod = stats.add_ports();
  pod->set_port_id(3);
  pod->set_name("net_tap_web");
  pod->set_kind("pod");
  pod->set_pod("default/web");
  pod->set_rx_packets(42);
  pod->set_tx_packets(40);
  pod->set_rx_bytes(4200);
  pod->set_tx_bytes(4000);
  pod->set_tx_errors(1);
  auto* w = stats.add_workers();
  w->set_index(0);
  w->set_lcore(1);
  w->set_rx_packets(1042);
  w->set_tx_packets(940);
  w->set_drops(102);
  w->set_generation(7);
  w->set_busy_polls(500);
  w->set_idle_polls(123456);
  w->set_sleeps(99);
  w->set_busy_cycles(1042 * 250);
  auto add_drop = [&](v1::DropReason reason, const char* name, uint64_t packets,
                      const char* description) {
    auto* d = stats.add_drops();
    d->set_reason(reason);
    d->set_name(name);
    d->set_packets(packets);
    d->set_description(description);
  };
  add_drop(v1::DROP_REASON_ETH_TRUNCATED, "eth_truncated", 0,
           "Frame shorter than an Ethernet header.");
  add_drop(v1::DROP_REASON_IP4_BAD_CHECKSUM, "ip4_bad_checksum", 2,
           "IPv4 header checksum does not verify.");
  add_drop(v1::DROP_REASON_NO_ROUTE, "no_route", 100,
           "Destination is no local pod and no address of this node.");
  add_drop(v1::DROP_REASON_TX_FULL, "tx_full", 0, "Transmit queue full.");
  auto* e1 = stats.add_events();
  e1->set_name("arp_replies_sent");
  e1->set_value(5);
  auto* e2 = stats.add_events();
  e2->set_name("icmp_errors_sent");
  e2->set_value(0);
  return stats;
}

TEST(FormatTest, Pods) {
  EXPECT_EQ(
      FormatPods(SampleState()),
      "NAMESPACE/NAME        IPS          NODE     PORT   INTERFACE   MAC                  MTU\n"
      "default/db-0          10.244.2.9   node-b      -   -           -                      -\n"
      "default/web           10.244.1.5   node-a      3   eth0        02:00:0a:f4:01:05   1500\n"
      "kube-system/coredns   10.244.1.2   node-a     12   eth0        02:00:0a:f4:01:02   1450\n");
}

TEST(FormatTest, PodsEdgeCases) {
  v1::State state;
  // No pods: just the header, so scripts skipping line 1 see nothing.
  EXPECT_EQ(FormatPods(state), "NAMESPACE/NAME   IPS   NODE   PORT   INTERFACE   MAC   MTU\n");
  // Dual-stack IPs are comma-joined; an attachment without a pod record still shows.
  auto* pod = state.add_pods();
  pod->mutable_key()->set_namespace_("ns");
  pod->mutable_key()->set_name("p");
  pod->add_ips("10.0.0.1");
  pod->add_ips("fd00::1");
  auto* orphan = state.add_attachments();
  orphan->mutable_key()->set_namespace_("ns");
  orphan->mutable_key()->set_name("orphan");
  orphan->set_port_id(4);
  orphan->set_interface("eth0");
  orphan->set_mac("02:00:00:00:00:04");
  orphan->set_mtu(1500);
  EXPECT_EQ(
      FormatPods(state),
      "NAMESPACE/NAME   IPS                NODE   PORT   INTERFACE   MAC                  MTU\n"
      "ns/orphan        -                  -         4   eth0        02:00:00:00:00:04   1500\n"
      "ns/p             10.0.0.1,fd00::1   -         -   -           -                      -\n");
}

TEST(FormatTest, RemoteNodes) {
  EXPECT_EQ(FormatRemoteNodes(SampleRemoteNodes()),
            "NAME    UNDERLAY     POD_CIDRS                     VNI   PORT   VTEP_MAC\n"
            "node2   10.77.0.12   10.244.2.0/24,10.245.2.0/24     -      -   -\n"
            "node3   10.77.0.13   10.244.3.0/24                   1   4789   02:77:00:00:00:0d\n");
  EXPECT_EQ(FormatRemoteNodes(v1::State()),
            "NAME   UNDERLAY   POD_CIDRS   VNI   PORT   VTEP_MAC\n");
}

TEST(JsonTest, RemoteNodesListOnly) {
  v1::State state = SampleRemoteNodes();
  state.set_generation(5);
  state.mutable_node()->set_name("node1");
  std::string json = RemoteNodesJson(state);
  EXPECT_THAT(json, StartsWith("{\"remote_nodes\":["));
  EXPECT_EQ(json.find('\n'), json.size() - 1) << json;
  EXPECT_THAT(json, Not(HasSubstr("\"generation\"")));
  EXPECT_THAT(json, HasSubstr("\"udp_port\":0"));  // zeros present
  v1::State parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  ASSERT_EQ(parsed.remote_nodes_size(), 2);
  EXPECT_TRUE(ProtoEq(parsed.remote_nodes(0), state.remote_nodes(0)));
  EXPECT_TRUE(ProtoEq(parsed.remote_nodes(1), state.remote_nodes(1)));
  EXPECT_EQ(RemoteNodesJson(v1::State()), "{\"remote_nodes\":[]}\n");
}

TEST(FormatTest, Stats) {
  EXPECT_EQ(
      FormatStats(SampleStats()),
      "PORT   NAME          KIND     POD           RX_PACKETS   RX_BYTES   TX_PACKETS   TX_BYTES   "
      "RX_MISSED   RX_ERRORS   TX_ERRORS\n"
      "   0   net_tap0      uplink   -                   1000    1500000          900    1350000   "
      "        3           0           0\n"
      "   3   net_tap_web   pod      default/web           42       4200           40       4000   "
      "        0           0           1\n"
      "\n"
      "WORKER   LCORE   RX_PACKETS   TX_PACKETS   DROPS   GENERATION   BUSY_POLLS   IDLE_POLLS   "
      "SLEEPS   CYCLES/PKT\n"
      "     0       1         1042          940     102            7          500       123456   "
      "    99          250\n"
      "\n"
      "EVENT              VALUE\n"
      "arp_replies_sent       5\n");
}

TEST(FormatTest, StatsWithoutEventsOrTraffic) {
  v1::Stats stats;
  stats.add_workers()->set_lcore(0);
  stats.add_events()->set_name("zero");
  std::string out = FormatStats(stats);
  EXPECT_THAT(out, Not(HasSubstr("EVENT")));
  EXPECT_THAT(out, HasSubstr("\n     0       0            0            0       0            0   "
                             "         0            0        0            -\n"));
}

TEST(FormatTest, Drops) {
  EXPECT_EQ(
      FormatDrops(SampleStats()),
      "NAME               PACKETS   DESCRIPTION\n"
      "ip4_bad_checksum         2   IPv4 header checksum does not verify.\n"
      "no_route               100   Destination is no local pod and no address of this node.\n");
  EXPECT_EQ(FormatDrops(v1::Stats()), "NAME   PACKETS   DESCRIPTION\n");
}

TEST(FormatTest, Status) {
  v1::Status status;
  status.set_version("0.1.0");
  status.set_node_name("node-a");
  status.set_generation(12);
  status.set_workers(1);
  status.set_hugepages(false);
  status.set_uptime_seconds(3725);
  status.set_pods_attached(2);
  status.set_ports(4);
  status.set_uplink("net_tap0");
  EXPECT_EQ(FormatStatus(status),
            "Version:          0.1.0\n"
            "Node:             node-a\n"
            "Generation:       12\n"
            "Workers:          1\n"
            "Memory:           no-huge (fallback)\n"
            "Uptime:           1h2m5s\n"
            "Pods attached:    2\n"
            "Ports:            4\n"
            "Uplink:           net_tap0\n"
            "Host interface:   -\n");
}

TEST(FormatTest, Duration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(59), "59s");
  EXPECT_EQ(FormatDuration(60), "1m0s");
  EXPECT_EQ(FormatDuration(3600), "1h0m0s");
  EXPECT_EQ(FormatDuration(90061), "1d1h1m1s");
}

TEST(FormatTest, WritesAndAttach) {
  v1::AttachPodReply reply;
  reply.set_generation(9);
  auto* a = reply.mutable_attachment();
  a->mutable_key()->set_namespace_("default");
  a->mutable_key()->set_name("web");
  a->set_interface("eth0");
  a->set_mac("02:00:0a:f4:01:05");
  a->set_mtu(1500);
  a->set_port_id(3);
  EXPECT_EQ(FormatAttach(reply),
            "attached default/web: port 3, interface eth0, mac 02:00:0a:f4:01:05, mtu 1500 "
            "(generation 9)\n");
  v1::WriteReply write;
  write.set_generation(10);
  EXPECT_EQ(FormatWrite("detached default/web", write), "detached default/web (generation 10)\n");
}

TEST(FormatTest, RpcErrors) {
  EXPECT_EQ(FormatRpcError("AttachPod", grpc::Status(grpc::StatusCode::NOT_FOUND,
                                                     "netns: \"/run/netns/x\" does not exist")),
            "nodeplanectl: AttachPod: NOT_FOUND: netns: \"/run/netns/x\" does not exist\n");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::INVALID_ARGUMENT), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::UNIMPLEMENTED), "UNIMPLEMENTED");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
}

TEST(FormatTest, Unreachable) {
  // gRPC's wording is reduced to the reason; the socket is named once.
  EXPECT_EQ(FormatUnreachable("/x.sock", grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                      "failed to connect to all addresses; last "
                                                      "error: UNKNOWN: unix:/x.sock: No such file "
                                                      "or directory")),
            "nodeplanectl: cannot connect to nodeplaned at /x.sock: No such file or directory (is "
            "nodeplaned running? pick another socket with --socket or $NODEPLANE_SOCKET)\n");
  EXPECT_EQ(FormatUnreachable("/x.sock", grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                      "last error: UNKNOWN: unix:/x.sock: "
                                                      "Permission denied")),
            "nodeplanectl: cannot connect to nodeplaned at /x.sock: Permission denied "
            "(nodeplaned's socket is root-only by default)\n");
  // Unknown wording: kept whole.
  EXPECT_THAT(FormatUnreachable("/x.sock", grpc::Status(grpc::StatusCode::UNAVAILABLE, "odd")),
              StartsWith("nodeplanectl: cannot connect to nodeplaned at /x.sock: odd ("));
}

// JSON must be one line, newline-terminated, with proto field names and zero fields present, and
// parse back to the same message.
template <typename M>
void ExpectJsonRoundTrip(const M& message) {
  std::string json = ToJson(message);
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1) << json;
  M parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_TRUE(ProtoEq(parsed, message)) << json;
}

TEST(JsonTest, RoundTrips) {
  ExpectJsonRoundTrip(SampleState());
  ExpectJsonRoundTrip(SampleStats());
  ExpectJsonRoundTrip(v1::Status());
  ExpectJsonRoundTrip(v1::WriteReply());
}

TEST(JsonTest, FieldNamesAndZeros) {
  v1::Stats stats = SampleStats();
  std::string json = ToJson(stats);
  EXPECT_THAT(json, HasSubstr("\"rx_packets\":\"1000\""));  // proto name, not rxPackets
  EXPECT_THAT(json, HasSubstr("\"rx_errors\":\"0\""));      // zero printed
  EXPECT_THAT(json, HasSubstr("\"reason\":\"DROP_REASON_NO_ROUTE\""));
  EXPECT_THAT(ToJson(v1::Status()), HasSubstr("\"hugepages\":false"));
}

TEST(JsonTest, DropsKeepsEveryReason) {
  v1::Stats stats = SampleStats();
  std::string json = DropsJson(stats);
  EXPECT_THAT(json, StartsWith("{\"drops\":["));
  EXPECT_EQ(json.back(), '\n');
  EXPECT_THAT(json, Not(HasSubstr("\"ports\"")));
  EXPECT_THAT(json, Not(HasSubstr("\"generation\"")));
  // {"drops":[...]} is itself a valid Stats in JSON.
  v1::Stats parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  ASSERT_EQ(parsed.drops_size(), 4);  // zeros included
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ProtoEq(parsed.drops(i), stats.drops(i)));
  EXPECT_EQ(DropsJson(v1::Stats()), "{\"drops\":[]}\n");
}

// ---------------------------------------------------------------------------------------------
// Against a fake daemon

class FakeNodeplane final : public v1::Nodeplane::Service {
 public:
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::Status* reply) override {
    reply->set_version("test");
    reply->set_node_name("node-a");
    reply->set_generation(7);
    reply->set_workers(1);
    reply->set_hugepages(true);
    return grpc::Status::OK;
  }
  grpc::Status GetState(grpc::ServerContext*, const v1::GetStateRequest*,
                        v1::State* reply) override {
    *reply = SampleState();
    return grpc::Status::OK;
  }
  grpc::Status UpsertRemoteNodes(grpc::ServerContext*, const v1::UpsertRemoteNodesRequest* request,
                                 v1::WriteReply* reply) override {
    for (const auto& n : request->remote_nodes()) {
      if (n.underlay_address() == "not-an-ip") {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "remote_nodes[0].underlay_address: \"not-an-ip\" is not an IP address");
      }
    }
    std::lock_guard lock(mu_);
    last_upsert_remote_ = *request;
    reply->set_generation(11);
    return grpc::Status::OK;
  }
  grpc::Status DeleteRemoteNodes(grpc::ServerContext*, const v1::DeleteRemoteNodesRequest* request,
                                 v1::WriteReply* reply) override {
    if (request->names(0) == "gone") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "remote node gone does not exist");
    }
    reply->set_generation(12);
    return grpc::Status::OK;
  }
  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::Stats* reply) override {
    *reply = SampleStats();
    return grpc::Status::OK;
  }
  grpc::Status SetNode(grpc::ServerContext*, const v1::SetNodeRequest* request,
                       v1::WriteReply* reply) override {
    std::lock_guard lock(mu_);
    last_set_node_ = *request;
    reply->set_generation(8);
    return grpc::Status::OK;
  }
  grpc::Status AttachPod(grpc::ServerContext*, const v1::AttachPodRequest* request,
                         v1::AttachPodReply* reply) override {
    if (request->netns() == "/run/netns/x") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "netns: \"/run/netns/x\" does not exist");
    }
    {
      std::lock_guard lock(mu_);
      last_attach_ = *request;
    }
    reply->set_generation(9);
    auto* a = reply->mutable_attachment();
    *a->mutable_key() = request->key();
    a->set_netns(request->netns());
    a->set_interface(request->interface().empty() ? "eth0" : request->interface());
    a->set_mac("02:00:00:00:00:05");
    a->set_mtu(request->mtu() == 0 ? 1500 : request->mtu());
    a->set_port_id(5);
    return grpc::Status::OK;
  }
  grpc::Status DetachPod(grpc::ServerContext*, const v1::DetachPodRequest* request,
                         v1::WriteReply* reply) override {
    if (request->key().name() == "gone") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "pod default/gone is not attached");
    }
    // The daemon may itself answer UNAVAILABLE; that must not read as "cannot connect".
    if (request->key().name() == "busy") {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "dataplane restarting");
    }
    reply->set_generation(10);
    return grpc::Status::OK;
  }

  v1::SetNodeRequest last_set_node() {
    std::lock_guard lock(mu_);
    return last_set_node_;
  }
  v1::AttachPodRequest last_attach() {
    std::lock_guard lock(mu_);
    return last_attach_;
  }
  v1::UpsertRemoteNodesRequest last_upsert_remote() {
    std::lock_guard lock(mu_);
    return last_upsert_remote_;
  }

 private:
  std::mutex mu_;
  v1::UpsertRemoteNodesRequest last_upsert_remote_;
  v1::SetNodeRequest last_set_node_;
  v1::AttachPodRequest last_attach_;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nodeplanectl-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "np.sock").string();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  struct Result {
    int code;
    std::string out;
    std::string err;
  };

  // Parses as main does (with --socket pointing at the fake) and runs.
  Result RunArgs(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", socket_});
    absl::StatusOr<Invocation> inv = ParseArgs(args, nullptr);
    EXPECT_TRUE(inv.ok()) << inv.status();
    if (!inv.ok()) return {kExitUsage, "", ""};
    std::ostringstream out, err;
    int code = ::nodeplane::cli::Run(*inv, out, err);
    return {code, out.str(), err.str()};
  }

  std::filesystem::path dir_;
  std::string socket_;
  FakeNodeplane service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(DaemonTest, ReadCommands) {
  Result r = RunArgs({"pods"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, FormatPods(SampleState()));
  EXPECT_EQ(r.err, "");

  r = RunArgs({"stats"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, FormatStats(SampleStats()));

  r = RunArgs({"drops"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, FormatDrops(SampleStats()));

  r = RunArgs({"drops", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, DropsJson(SampleStats()));

  r = RunArgs({"status"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("Memory:           hugepages\n"));

  // `state` is JSON whatever -o says.
  r = RunArgs({"state", "-o", "table"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, ToJson(SampleState()));
}

TEST_F(DaemonTest, JsonOutputParsesBack) {
  Result r = RunArgs({"-o", "json", "pods"});
  ASSERT_EQ(r.code, kExitOk);
  v1::State state;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &state).ok()) << r.out;
  EXPECT_TRUE(ProtoEq(state, SampleState()));

  r = RunArgs({"-o", "json", "status"});
  ASSERT_EQ(r.code, kExitOk);
  v1::Status status;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &status).ok()) << r.out;
  EXPECT_EQ(status.node_name(), "node-a");
}

TEST_F(DaemonTest, Writes) {
  Result r = RunArgs({"node", "set", "--name", "node-a", "--pod-cidr", "10.244.1.0/24"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "node node-a set (generation 8)\n");
  EXPECT_EQ(service_.last_set_node().node().pod_cidrs(0), "10.244.1.0/24");

  r = RunArgs({"attach", "default/web", "--netns", "/run/netns/web", "--ip", "10.244.1.5",
               "--label", "app=web"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "attached default/web: port 5, interface eth0, mac 02:00:00:00:00:05, mtu 1500 "
            "(generation 9)\n");
  EXPECT_EQ(service_.last_attach().labels().at("app"), "web");

  r = RunArgs(
      {"attach", "default/web", "--netns", "/run/netns/web", "--ip", "10.244.1.5", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk);
  v1::AttachPodReply reply;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &reply).ok()) << r.out;
  EXPECT_EQ(reply.attachment().port_id(), 5u);
  EXPECT_EQ(reply.generation(), 9u);

  r = RunArgs({"detach", "default/web"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "detached default/web (generation 10)\n");

  r = RunArgs({"detach", "default/web", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "{\"generation\":\"10\"}\n");
}

TEST_F(DaemonTest, RemoteNodes) {
  Result r = RunArgs({"remote-node", "set", "--name", "node2", "--underlay", "10.77.0.12",
                      "--pod-cidr", "10.244.2.0/24", "--vtep-mac", "ee:ee:ee:ee:ee:ee"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "remote node node2 set (generation 11)\n");
  v1::UpsertRemoteNodesRequest sent = service_.last_upsert_remote();
  ASSERT_EQ(sent.remote_nodes_size(), 1);
  EXPECT_EQ(sent.remote_nodes(0).underlay_address(), "10.77.0.12");
  EXPECT_EQ(sent.remote_nodes(0).pod_cidrs(0), "10.244.2.0/24");

  r = RunArgs({"remote-node", "set", "--name", "n", "--underlay", "not-an-ip"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err,
            "nodeplanectl: UpsertRemoteNodes: INVALID_ARGUMENT: remote_nodes[0].underlay_address: "
            "\"not-an-ip\" is not an IP address\n");

  r = RunArgs({"remote-node", "delete", "node2", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "{\"generation\":\"12\"}\n");
  r = RunArgs({"remote-node", "delete", "node2"});
  EXPECT_EQ(r.out, "remote node node2 deleted (generation 12)\n");
  r = RunArgs({"remote-node", "delete", "gone"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "nodeplanectl: DeleteRemoteNodes: NOT_FOUND: remote node gone does not exist\n");

  r = RunArgs({"remote-nodes"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, FormatRemoteNodes(SampleState()));
  r = RunArgs({"remote-nodes", "-o", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, RemoteNodesJson(SampleState()));
}

TEST_F(DaemonTest, RpcErrors) {
  Result r = RunArgs({"attach", "default/web", "--netns", "/run/netns/x", "--ip", "10.244.1.5"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "nodeplanectl: AttachPod: NOT_FOUND: netns: \"/run/netns/x\" does not exist\n");

  r = RunArgs({"detach", "default/busy"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "nodeplanectl: DetachPod: UNAVAILABLE: dataplane restarting\n");
}

TEST(UnreachableTest, NamesTheSocket) {
  std::string socket = (std::filesystem::temp_directory_path() /
                        ("nodeplanectl-test-missing-" + std::to_string(::getpid()) + ".sock"))
                           .string();
  absl::StatusOr<Invocation> inv = ParseArgs({"--socket", socket, "status"}, nullptr);
  ASSERT_TRUE(inv.ok());
  std::ostringstream out, err;
  EXPECT_EQ(::nodeplane::cli::Run(*inv, out, err), kExitFailure);
  EXPECT_EQ(out.str(), "");
  EXPECT_THAT(err.str(), StartsWith("nodeplanectl: cannot connect to nodeplaned at " + socket));
}

// ---------------------------------------------------------------------------------------------
// The binary: exit codes and where messages go.

struct Exec {
  int code;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

Exec RunBinary(const std::vector<std::string>& args, const std::string& env_socket = "") {
  std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("nodeplanectl-exec-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  std::string cmd = "env -u NODEPLANE_SOCKET ";
  if (!env_socket.empty()) cmd += "NODEPLANE_SOCKET=" + ShellQuote(env_socket) + " ";
  cmd += ShellQuote(NODEPLANECTL_BINARY);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " >" + ShellQuote((tmp / "out").string()) + " 2>" + ShellQuote((tmp / "err").string());
  int status = std::system(cmd.c_str());
  Exec r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(tmp / "out"), Slurp(tmp / "err")};
  std::filesystem::remove_all(tmp);
  return r;
}

TEST(BinaryTest, HelpExitsZero) {
  for (const char* h : {"help", "--help", "-h"}) {
    Exec r = RunBinary({h});
    EXPECT_EQ(r.code, 0) << h;
    EXPECT_THAT(r.out, HasSubstr("Usage:")) << h;
    EXPECT_EQ(r.err, "") << h;
  }
}

TEST(BinaryTest, UsageErrorsExitTwoWithOneLineAndHint) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},
           {"bogus"},
           {"attach", "noslash", "--netns", "/n", "--ip", "1.1.1.1"},
           {"-o", "yaml", "pods"},
           {"node", "set"}}) {
    Exec r = RunBinary(args);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, StartsWith("nodeplanectl: "));
    EXPECT_THAT(r.err, HasSubstr("--help"));
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
}

TEST(BinaryTest, UnreachableSocketExitsOne) {
  const std::string socket = "/nonexistent/nodeplanectl-test.sock";
  Exec r = RunBinary({"status"}, socket);  // via $NODEPLANE_SOCKET
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("cannot connect to nodeplaned at " + socket));
}

TEST_F(DaemonTest, BinaryExitCodes) {
  Exec r = RunBinary({"--socket", socket_, "detach", "default/gone"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "nodeplanectl: DetachPod: NOT_FOUND: pod default/gone is not attached\n");
  r = RunBinary({"pods"}, socket_);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, FormatPods(SampleState()));
}

// ---------------------------------------------------------------------------------------------
// Services

TEST(ServicesCli, LbParsesTheFiveTuple) {
  absl::StatusOr<Invocation> inv =
      Parse({"lb", "198.51.100.9", "10.96.0.10:53/udp", "--source-port", "12345"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kLb);
  EXPECT_EQ(inv->lb.source_ip(), "198.51.100.9");
  EXPECT_EQ(inv->lb.destination_ip(), "10.96.0.10");
  EXPECT_EQ(inv->lb.destination_port(), 53u);
  EXPECT_EQ(inv->lb.protocol(), v1::UDP);
  EXPECT_EQ(inv->lb.source_port(), 12345u);
  ExpectUsageError({"lb", "1.2.3.4", "10.96.0.10:80"}, "DST_IP:PORT/PROTO");
  ExpectUsageError({"lb", "1.2.3.4", "10.96.0.10:80/ICMP"}, "TCP, UDP or SCTP");
  ExpectUsageError({"lb", "1.2.3.4"}, "missing");
  EXPECT_EQ(Parse({"backends"})->backends_of, "");
  EXPECT_EQ(Parse({"backends", "default/web"})->backends_of, "default/web");
  ExpectUsageError({"backends", "web"}, "NAMESPACE/NAME");
}

TEST(ServicesCli, TablesShowPortsPoliciesAndConditions) {
  v1::State st;
  v1::Service* s = st.add_services();
  s->mutable_key()->set_namespace_("default");
  s->mutable_key()->set_name("web");
  s->set_type(v1::NODE_PORT);
  s->add_cluster_ips("10.96.0.10");
  s->add_external_ips("203.0.113.250");
  v1::ServicePort* p = s->add_ports();
  p->set_port(80);
  p->set_node_port(30080);
  p->set_protocol(v1::TCP);
  s->set_external_traffic_policy(v1::LOCAL);
  s->mutable_client_ip_affinity();
  v1::EndpointSlice* sl = st.add_endpoint_slices();
  sl->mutable_key()->set_namespace_("default");
  sl->mutable_key()->set_name("web-1");
  sl->set_service_name("web");
  v1::Endpoint* e = sl->add_endpoints();
  e->add_addresses("10.244.1.2");
  e->set_node_name("node1");
  e->mutable_conditions()->set_serving(true);
  e->mutable_conditions()->set_terminating(true);
  const std::string svcs = FormatServices(st);
  EXPECT_THAT(svcs, HasSubstr("default/web"));
  EXPECT_THAT(svcs, HasSubstr("NodePort"));
  EXPECT_THAT(svcs, HasSubstr("80:30080/TCP"));
  EXPECT_THAT(svcs, HasSubstr("eTP=Local,affinity=ClientIP"));
  EXPECT_THAT(svcs, HasSubstr("203.0.113.250"));
  v1::Endpoint* heavy = sl->add_endpoints();
  heavy->add_addresses("10.244.2.9");
  heavy->set_weight(3);
  const std::string eps = FormatBackends(st, "default/web");
  EXPECT_THAT(eps, HasSubstr("10.244.1.2"));
  EXPECT_THAT(eps, HasSubstr("node1   no      yes       yes           1"))
      << "ready, serving, terminating, weight (unset: 1)";
  EXPECT_THAT(eps, testing::ContainsRegex("10\\.244\\.2\\.9 .* 3\n")) << eps;
  EXPECT_EQ(FormatBackends(st, "default/other").find("10.244.1.2"), std::string::npos);

  v1::ExplainServiceBackendReply x;
  *x.mutable_service() = s->key();
  x.set_address_kind("NodePort");
  x.set_from_outside(true);
  x.set_endpoint_set("cluster");
  x.set_set_size(2);
  x.set_outcome("translated");
  x.set_backend("10.244.1.2:8080");
  x.set_maglev_slot(17);
  x.set_maglev_slots(211);
  x.set_snat_source("10.77.0.11");
  const std::string why = FormatExplain(x);
  EXPECT_THAT(why, HasSubstr("Maglev slot 17 of 211"));
  EXPECT_THAT(why, HasSubstr("10.244.1.2:8080"));
  EXPECT_THAT(why, HasSubstr("SNAT:"));
}

// ---------------------------------------------------------------------------------------------
// explain

TEST(ArgsTest, Explain) {
  absl::StatusOr<Invocation> inv = Parse({"explain", "x/a", "10.244.1.11", "8080/TCP", "-o", "json"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kExplain);
  EXPECT_EQ(inv->format, OutputFormat::kJson);
  EXPECT_EQ(inv->explain.source(), "x/a");
  EXPECT_EQ(inv->explain.destination(), "10.244.1.11");
  EXPECT_EQ(inv->explain.port(), 8080u);
  EXPECT_EQ(inv->explain.protocol(), v1::TCP);
  inv = Parse({"explain", "x/a", "y/b", "53/udp"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->explain.protocol(), v1::UDP);
  ExpectUsageError({"explain", "x/a", "y/b"}, "missing SRC DST PORT/PROTO");
  ExpectUsageError({"explain", "x/a", "y/b", "0/tcp"}, "bad port");
  ExpectUsageError({"explain", "x/a", "y/b", "80/icmp"}, "unknown protocol");
}

TEST(FormatTest, ExplanationNamesTheIsolatingPolicyOfADeniedConnection) {
  v1::ExplainPolicyRequest req;
  req.set_port(8080);
  req.set_protocol(v1::TCP);
  v1::PolicyExplanation e;
  e.set_allowed(false);
  e.set_source_ip("10.244.1.10");
  e.set_destination_ip("10.244.1.11");
  e.mutable_destination_pod()->set_namespace_("default");
  e.mutable_destination_pod()->set_name("backend");
  e.mutable_egress()->set_allowed(true);
  e.mutable_egress()->set_reason("not isolated for egress: every connection is allowed");
  v1::PolicyDirectionVerdict* in = e.mutable_ingress();
  *in->mutable_pod() = e.destination_pod();
  in->set_isolated(true);
  v1::NetworkPolicyKey* k = in->add_isolating();
  k->set_namespace_("default");
  k->set_name("default-deny-ingress");
  in->set_allowed(false);
  in->set_reason("isolated for ingress, and no rule of those policies allows this");
  const std::string text = FormatExplanation(req, e);
  EXPECT_THAT(text, StartsWith("10.244.1.10 -> default/backend (10.244.1.11) 8080/tcp: DENIED\n"));
  EXPECT_THAT(text, HasSubstr("ingress (destination): DENIED"));
  EXPECT_THAT(text, HasSubstr("isolated by: default/default-deny-ingress"));
  EXPECT_THAT(text, HasSubstr("allowed by:  none of them"));
  EXPECT_THAT(ToJson(e), HasSubstr("\"isolating\":[{\"namespace\":\"default\",\"name\":\"default-deny-ingress\"}]"));
}

TEST(FormatTest, StatsListRecentPolicyDenialsWithTheDecidingPod) {
  v1::Stats stats;
  v1::PolicyDenial* d = stats.add_recent_policy_denials();
  d->set_direction(v1::INGRESS);
  d->mutable_pod()->set_namespace_("default");
  d->mutable_pod()->set_name("backend");
  d->set_source_ip("10.244.1.10");
  d->set_destination_ip("10.244.1.11");
  d->set_port(9090);
  d->set_ip_protocol(6);
  const std::string text = FormatStats(stats);
  EXPECT_THAT(text, HasSubstr("DIRECTION"));
  EXPECT_THAT(text, HasSubstr("default/backend"));
  EXPECT_THAT(text, HasSubstr("ingress"));
  EXPECT_THAT(text, HasSubstr("9090"));
  EXPECT_THAT(text, HasSubstr("tcp"));
  EXPECT_THAT(FormatStats(v1::Stats()), ::testing::Not(HasSubstr("DIRECTION")));
}

}  // namespace
}  // namespace nodeplane::cli
