// Unit tests of DesiredState::Check, the whole-state invariants: unique addresses (ALREADY_EXISTS),
// pods on a known node, attachments only for known pods inside the node's pod CIDRs.
#include "control/model/desired_state.h"

#include <gtest/gtest.h>

#include <string>

namespace nodeplane::ctl {
namespace {

Ip4 A(const char* s) { return *Ip4::Parse(s); }

DesiredState Base() {
  DesiredState s;
  s.node = NodeModel{.name = "node-a",
                     .addresses = {*Ip4Prefix::Parse("192.168.1.0/24")},
                     .pod_cidrs = {*Ip4Prefix::Parse("10.244.1.0/24")},
                     .pod_gateway = A("169.254.1.1")};
  s.node->addresses[0].addr = A("192.168.1.10");  // the node's address keeps its host bits
  return s;
}

void AddPod(DesiredState& s, const std::string& name, const char* ip,
            const std::string& node = "node-a") {
  PodKey key{"default", name};
  s.pods[key] = PodModel{.key = key, .ips = {A(ip)}, .node_name = node};
}

void Attach(DesiredState& s, const std::string& name, uint16_t port) {
  PodKey key{"default", name};
  s.attachments[key] = Attachment{.key = key, .port_id = port};
}

::testing::AssertionResult Has(const absl::Status& s, absl::StatusCode code,
                               const std::string& text) {
  if (s.code() == code && std::string(s.message()).find(text) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected " << absl::StatusCodeToString(code)
                                       << " mentioning \"" << text << "\", got " << s.ToString();
}

TEST(DesiredStateCheck, ValidStateIsOk) {
  DesiredState s = Base();
  AddPod(s, "a", "10.244.1.2");
  AddPod(s, "b", "10.244.1.3");
  AddPod(s, "unscheduled", "10.244.1.4", "");
  Attach(s, "a", 2);
  Attach(s, "b", 3);
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

TEST(DesiredStateCheck, EmptyStateIsOk) { EXPECT_TRUE(DesiredState{}.Check().ok()); }

TEST(DesiredStateCheck, TwoPodsWithOneAddressAlreadyExists) {
  DesiredState s = Base();
  AddPod(s, "a", "10.244.1.2");
  AddPod(s, "b", "10.244.1.2");
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kAlreadyExists,
                  "pod default/b: ips: 10.244.1.2 is already used by default/a"));
}

TEST(DesiredStateCheck, PodWithTheNodesAddressAlreadyExists) {
  DesiredState s = Base();
  AddPod(s, "a", "192.168.1.10");
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kAlreadyExists, "this node's own address"));
}

TEST(DesiredStateCheck, PodOnAnUnknownNodeIsInvalid) {
  // Known nodes are this one (and, once implemented, the remote nodes).
  DesiredState s = Base();
  AddPod(s, "z", "10.244.2.2", "node-b");
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "pod default/z: node_name: unknown node \"node-b\""));
}

TEST(DesiredStateCheck, AttachmentWithoutItsPodIsAFailedPrecondition) {
  DesiredState s = Base();
  Attach(s, "ghost", 2);
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kFailedPrecondition, "default/ghost"));
}

TEST(DesiredStateCheck, AttachmentWithoutNodeIsAFailedPrecondition) {
  DesiredState s;
  AddPod(s, "a", "10.244.1.2");
  Attach(s, "a", 2);
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kFailedPrecondition, "node"));
}

TEST(DesiredStateCheck, AttachedPodOutsideThePodCidrsIsInvalid) {
  DesiredState s = Base();
  AddPod(s, "a", "10.244.2.2");
  Attach(s, "a", 2);
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "pod default/a: ips: 10.244.2.2 is outside the node's pod CIDRs"));
}

TEST(DesiredStateCheck, AttachedPodAtThePodCidrsNetworkAddressIsInvalid) {
  DesiredState s = Base();
  AddPod(s, "a", "10.244.1.0");
  Attach(s, "a", 2);
  EXPECT_TRUE(Has(s.Check(), absl::StatusCode::kInvalidArgument,
                  "pod default/a: ips: 10.244.1.0 is the network address of the pod CIDR "
                  "10.244.1.0/24 (reserved: the node's overlay address)"));
}

TEST(DesiredStateCheck, UnattachedPodOutsideThePodCidrsIsFine) {
  DesiredState s = Base();
  AddPod(s, "a", "10.99.0.1");
  EXPECT_TRUE(s.Check().ok()) << s.Check();
}

}  // namespace
}  // namespace nodeplane::ctl
