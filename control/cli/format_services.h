// Output of nodeplanectl's Service commands: `services`, `backends [NAMESPACE/NAME]`, `lb`.
#pragma once

#include <string>

#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::cli {

// `services`: NAMESPACE/NAME, TYPE, CLUSTER-IP, EXTERNAL (external and load-balancer IPs), PORTS
// ("80:30080/TCP"), POLICIES (eTP/iTP when Local, affinity); sorted by key.
std::string FormatServices(const v1::State& state);

// `backends`: SERVICE, ENDPOINT, NODE, READY, SERVING, TERMINATING, one row per endpoint of each
// slice of each Service (or of `service` alone, "NAMESPACE/NAME"; "" for all).
std::string FormatBackends(const v1::State& state, const std::string& service);

// `lb`: the decision and its reasons as "Key:  value" lines.
std::string FormatExplain(const v1::ExplainServiceBackendReply& reply);

}  // namespace nodeplane::cli
