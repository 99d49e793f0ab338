#include "control/cni/cni_request.h"

#include <algorithm>
#include <cstdlib>
#include <regex>

namespace nodeplane::cni {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Variables each command needs (the spec's table; DEL may come without a netns).
std::vector<std::string> Required(const std::string& command) {
  if (command == "ADD" || command == "CHECK") {
    return {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"};
  }
  if (command == "DEL") return {"CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"};
  if (command == "GC") return {"CNI_PATH"};
  return {};
}

}  // namespace

Json CniError::ToJson(const std::string& cni_version) const {
  Json j = {{"cniVersion", cni_version.empty() ? "1.1.0" : cni_version}, {"code", code}, {"msg", msg}};
  if (!details.empty()) j["details"] = details;
  return j;
}

std::optional<CniError> ParseRequest(const std::string& stdin_text, CniRequest* r) {
  r->command = Env("CNI_COMMAND");
  static const std::vector<std::string> commands = {"ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"};
  if (r->command.empty()) return CniError{kInvalidEnvironment, "required env variables [CNI_COMMAND] missing", ""};
  if (std::find(commands.begin(), commands.end(), r->command) == commands.end()) {
    return CniError{kInvalidEnvironment, "unknown CNI_COMMAND \"" + r->command + "\"",
                    "one of ADD, DEL, CHECK, GC, STATUS, VERSION"};
  }
  r->container_id = Env("CNI_CONTAINERID");
  r->netns = Env("CNI_NETNS");
  r->ifname = Env("CNI_IFNAME");
  r->cni_path = Env("CNI_PATH");
  std::vector<std::string> missing;
  for (const std::string& v : Required(r->command)) {
    if (Env(v.c_str()).empty()) missing.push_back(v);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : " ") + m;
    return CniError{kInvalidEnvironment, "required env variables [" + list + "] missing", ""};
  }
  static const std::regex id("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
  if (!r->container_id.empty() && !std::regex_match(r->container_id, id)) {
    return CniError{kInvalidEnvironment, "CNI_CONTAINERID: invalid \"" + r->container_id + "\"",
                    "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$"};
  }
  const std::string args = Env("CNI_ARGS");
  size_t start = 0;
  while (start < args.size()) {
    size_t end = args.find(';', start);
    if (end == std::string::npos) end = args.size();
    const std::string pair = args.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      if (eq == std::string::npos) {
        return CniError{kInvalidEnvironment, "CNI_ARGS: \"" + pair + "\" is not KEY=VALUE", ""};
      }
      r->args[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    start = end + 1;
  }

  try {
    r->config = Json::parse(stdin_text);
  } catch (const Json::exception& e) {
    return CniError{kDecodeFailure, "network configuration on stdin is not JSON", e.what()};
  }
  if (!r->config.is_object()) return CniError{kDecodeFailure, "network configuration is not a JSON object", ""};
  auto str = [&](const char* key) -> std::string {
    auto it = r->config.find(key);
    return it != r->config.end() && it->is_string() ? it->get<std::string>() : "";
  };
  r->cni_version = str("cniVersion");
  if (r->cni_version.empty()) return CniError{kInvalidConfig, "cniVersion: required", ""};
  if (std::find(kSupportedVersions.begin(), kSupportedVersions.end(), r->cni_version) ==
      kSupportedVersions.end()) {
    if (r->command == "VERSION") return std::nullopt;  // VERSION answers whatever it is asked
    return CniError{kIncompatibleVersion, "incompatible CNI version " + r->cni_version,
                    "supported: 1.0.0, 1.1.0"};
  }
  if (r->command == "VERSION") return std::nullopt;
  if (str("name").empty()) return CniError{kInvalidConfig, "name: required", ""};
  if (r->command == "STATUS" && !r->config.contains("ipam")) {
    // STATUS only needs the socket.
  } else if (!r->config.contains("ipam") || !r->config["ipam"].is_object() ||
             !r->config["ipam"].contains("type") || !r->config["ipam"]["type"].is_string()) {
    return CniError{kInvalidConfig, "ipam.type: required (e.g. \"host-local\")", ""};
  }
  if (r->config.contains("socket")) {
    if (!r->config["socket"].is_string()) return CniError{kInvalidConfig, "socket: expected a string", ""};
    r->socket = r->config["socket"].get<std::string>();
  }
  if (r->config.contains("stateDir")) {
    if (!r->config["stateDir"].is_string()) return CniError{kInvalidConfig, "stateDir: expected a string", ""};
    r->state_dir = r->config["stateDir"].get<std::string>();
  }
  if (r->config.contains("mtu")) {
    const Json& m = r->config["mtu"];
    if (!m.is_number_unsigned() || (m.get<uint32_t>() != 0 && (m.get<uint32_t>() < 576 || m.get<uint32_t>() > 1900))) {
      return CniError{kInvalidConfig, "mtu: " + m.dump() + " outside 576-1900 (0: the uplink's less 50)", ""};
    }
    r->mtu = m.get<uint32_t>();
  }
  return std::nullopt;
}

}  // namespace nodeplane::cni
