// Kinds, keys and the helpers every translator shares.
#include <arpa/inet.h>

#include <cctype>

#include "control/agent/translate.h"

namespace nodeplane::agent {
namespace {

bool ClusterScoped(Kind kind) { return kind == Kind::kNamespace || kind == Kind::kNode; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNamespace: return "Namespace";
    case Kind::kPod: return "Pod";
    case Kind::kService: return "Service";
    case Kind::kEndpointSlice: return "EndpointSlice";
    case Kind::kNetworkPolicy: return "NetworkPolicy";
    case Kind::kNode: return "Node";
  }
  return "?";
}

const char* KindApiVersion(Kind kind) {
  switch (kind) {
    case Kind::kEndpointSlice: return "discovery.k8s.io/v1";
    case Kind::kNetworkPolicy: return "networking.k8s.io/v1";
    default: return "v1";
  }
}

std::optional<Kind> KindFromManifest(const std::string& api_version, const std::string& kind) {
  for (Kind k : kAllKinds) {
    if (kind == KindName(k) && api_version == KindApiVersion(k)) return k;
  }
  return std::nullopt;
}

std::optional<Kind> KindFromName(const std::string& name) {
  const std::string n = Lower(name);
  for (Kind k : kAllKinds) {
    const std::string singular = Lower(KindName(k));
    if (n == singular || n == singular + "s" ||
        (k == Kind::kNetworkPolicy && n == "networkpolicies")) {
      return k;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ObjectKey(Kind kind, const Json& object) {
  return detail::Guard(kind, object, [&]() -> std::string {
    JsonField meta = JsonField(object, "")["metadata"];
    const std::string name = meta.RequiredStr("name");
    if (ClusterScoped(kind)) return name;
    return meta.Str("namespace", "default") + "/" + name;
  });
}

namespace detail {

std::string Describe(Kind kind, const Json& object) {
  std::string out = KindName(kind);
  if (!object.is_object()) return out;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return out;
  auto text = [&](const char* key) -> std::string {
    auto it = meta->find(key);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
  };
  const std::string name = text("name");
  const std::string ns = text("namespace");
  if (name.empty()) return out;
  if (ClusterScoped(kind)) return out + " " + name;
  return out + " " + (ns.empty() ? "default" : ns) + "/" + name;
}

bool IsIpv4(const std::string& text) {
  in_addr a;
  return inet_pton(AF_INET, text.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& text) {
  in6_addr a;
  return inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

void CheckCidr(const JsonField& field, const std::string& text) {
  const size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  const std::string len = slash == std::string::npos ? "" : text.substr(slash + 1);
  const bool v4 = IsIpv4(addr);
  const int max = v4 ? 32 : 128;
  const bool digits = !len.empty() && len.size() <= 3 &&
                      len.find_first_not_of("0123456789") == std::string::npos;
  if ((!v4 && !IsIpv6(addr)) || !digits || std::stoi(len) > max) {
    field.Fail("not a CIDR: \"" + text + "\"");
  }
}

v1::Protocol ProtocolOf(const JsonField& parent, const std::string& key) {
  const std::string p = parent.Str(key, "TCP");
  if (p == "TCP") return v1::TCP;
  if (p == "UDP") return v1::UDP;
  if (p == "SCTP") return v1::SCTP;
  parent[key].Fail("unknown protocol \"" + p + "\" (TCP, UDP or SCTP)");
}

}  // namespace detail
}  // namespace nodeplane::agent
