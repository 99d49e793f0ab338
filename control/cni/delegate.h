// Runs a delegated plugin (IPAM: host-local) the way the spec says a plugin delegates: the binary
// of that type found in CNI_PATH, the same environment (CNI_COMMAND and friends as given, or
// overridden), the configuration on stdin, its result on stdout.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "control/cni/cni_request.h"

namespace nodeplane::cni {

struct DelegateResult {
  Json result;                      // stdout as JSON (null when empty)
  std::optional<CniError> error;    // the delegate's error (its code and message), or ours
};

// `env_overrides` replaces variables of this process's environment for the child
// (e.g. CNI_COMMAND=DEL for a rollback).
DelegateResult RunDelegate(const std::string& type, const std::string& cni_path,
                           const Json& config, const std::map<std::string, std::string>& env_overrides);

}  // namespace nodeplane::cni
