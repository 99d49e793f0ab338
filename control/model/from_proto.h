// Conversion of API messages into the model, validating every field on the way. Errors are
// INVALID_ARGUMENT (or UNIMPLEMENTED for valid input the dataplane cannot do yet) and name the
// offending field by its path in the request, e.g. "pods[2].ips[0]: not an IPv4 address: 10.0.0".
#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "control/model/desired_state.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::ctl {

// Limits that keep one request from exhausting the control plane.
inline constexpr int kMaxPodsPerRequest = 10000;
inline constexpr int kMaxRemoteNodesPerRequest = 10000;
inline constexpr int kMaxPodCidrsPerNode = 16;
inline constexpr int kMaxLabelsPerObject = 256;
inline constexpr uint32_t kMinPodMtu = 576;
inline constexpr uint32_t kMaxPodMtu = 1900;  // what one 2 KiB mbuf holds

absl::StatusOr<NodeModel> NodeFromProto(const v1::Node& node, const std::string& field);
absl::StatusOr<PodKey> PodKeyFromProto(const v1::PodKey& key, const std::string& field);
absl::StatusOr<PodModel> PodFromProto(const v1::Pod& pod, const std::string& field);
absl::StatusOr<Ip4> Ip4FromString(const std::string& text, const std::string& field);
absl::StatusOr<RemoteNodeModel> RemoteNodeFromProto(const v1::RemoteNode& node,
                                                    const std::string& field);

// Model → API, for reads.
v1::Node NodeToProto(const NodeModel& node);
v1::RemoteNode RemoteNodeToProto(const RemoteNodeModel& node);
v1::Pod PodToProto(const PodModel& pod);
v1::PodAttachment AttachmentToProto(const Attachment& att);
v1::PodKey PodKeyToProto(const PodKey& key);

}  // namespace nodeplane::ctl
