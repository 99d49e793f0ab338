// One CNI invocation as the runtime makes it (CNI spec 1.1): CNI_* environment variables and the
// network configuration on stdin. Errors are CNI error objects with the spec's codes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nodeplane::cni {

using Json = nlohmann::json;

// Error codes of the CNI spec (§ Error), and ours from 100 on.
enum CniCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kNotAvailable = 50,
  kNodeplaneRefused = 100,   // nodeplaned answered the attach/detach with an error
  kNotAttached = 101,        // CHECK: the attachment is not what the result says
};

struct CniError {
  int code;
  std::string msg;
  std::string details;
  Json ToJson(const std::string& cni_version) const;
};

// The versions this plugin speaks (its result format is the 1.0 one; 1.1 adds only optional
// fields and the GC/STATUS commands).
inline const std::vector<std::string> kSupportedVersions = {"1.0.0", "1.1.0"};

struct CniRequest {
  std::string command;        // CNI_COMMAND
  std::string container_id;   // CNI_CONTAINERID
  std::string netns;          // CNI_NETNS
  std::string ifname;         // CNI_IFNAME
  std::map<std::string, std::string> args;   // CNI_ARGS, K=V;K=V
  std::string cni_path;       // CNI_PATH
  Json config;                // stdin
  std::string cni_version;    // config.cniVersion

  // Settings of this plugin in the config (with defaults).
  std::string socket = "/run/nodeplane/nodeplaned.sock";
  std::string state_dir = "/var/lib/nodeplane/cni";
  uint32_t mtu = 0;
};

// Reads the environment (getenv) and `stdin_text`. VERSION needs only the command; every other
// command's required variables are checked (code 4 naming the missing ones), the config decoded
// (code 6), its version checked (code 1) and its fields validated (code 7).
std::optional<CniError> ParseRequest(const std::string& stdin_text, CniRequest* out);

}  // namespace nodeplane::cni
