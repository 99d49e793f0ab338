// DesiredState: what this node's dataplane has been told, validated and in parsed form. Pure C++
// (no DPDK, no gRPC): the applier copies it, changes the copy, checks it, compiles it, and only
// then replaces the running one — so a rejected request leaves nothing half-applied.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct PodKey {
  std::string ns;
  std::string name;
  std::string ToString() const { return ns + "/" + name; }
  friend auto operator<=>(const PodKey&, const PodKey&) = default;
};

enum class L4Protocol : uint8_t { kTcp = 1, kUdp = 2, kSctp = 3 };

struct ContainerPort {
  std::string name;
  uint16_t port = 0;
  L4Protocol protocol = L4Protocol::kTcp;
};

struct NodeModel {
  std::string name;
  std::vector<Ip4Prefix> addresses;  // the node's own, with their prefix lengths
  std::vector<Ip4Prefix> pod_cidrs;
  Ip4 pod_gateway;
};

struct PodModel {
  PodKey key;
  std::vector<Ip4> ips;
  std::map<std::string, std::string> labels;
  std::string node_name;
  std::vector<ContainerPort> ports;
};

// How a local pod is wired: its interface and the DPDK port behind it.
struct Attachment {
  PodKey key;
  std::string netns;
  std::string ifname;
  Mac mac;
  uint32_t mtu = 1500;
  uint16_t port_id = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  std::string device;  // DPDK device name
};

inline constexpr const char* kDefaultPodGateway = "169.254.1.1";

struct DesiredState {
  std::optional<NodeModel> node;
  std::map<PodKey, PodModel> pods;
  std::map<PodKey, Attachment> attachments;

  // Whole-state invariants, checked on a candidate before it replaces the running state:
  // unique pod addresses, pods on a known node, attached pods inside the node's pod CIDRs.
  absl::Status Check() const;
};

}  // namespace nodeplane::ctl
