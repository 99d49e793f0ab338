// nodeplane-cni's commands. ADD: addresses from the IPAM plugin (host-local), then nodeplaned's
// AttachPod (the interface in the pod's netns, the dataplane port behind it); a record under
// stateDir remembers which pod a (container, interface) is. DEL undoes both and succeeds when
// there is nothing left to undo. CHECK compares nodeplaned's attachment and the IPAM reservation
// with the previous result. GC removes attachments the runtime no longer lists. STATUS asks
// nodeplaned whether it answers.
#pragma once

#include <optional>
#include <string>

#include "control/cni/cni_request.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::cni {

struct Outcome {
  Json result;                    // printed on stdout on success (null: nothing)
  std::optional<CniError> error;  // printed on stdout, exit 1
};

Outcome RunCommand(const CniRequest& request, v1::Nodeplane::StubInterface& nodeplaned);

}  // namespace nodeplane::cni
