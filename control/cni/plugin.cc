#include "control/cni/plugin.h"

#include <grpcpp/grpcpp.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "control/cni/delegate.h"

namespace nodeplane::cni {
namespace {

namespace fs = std::filesystem;

constexpr char kDefaultGateway[] = "169.254.1.1";

// host-local (Debian's containernetworking-plugins) speaks up to 1.0.0, whose result format is
// the one 1.1.0 uses.
constexpr char kDelegateVersion[] = "1.0.0";

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

CniError FromGrpc(const CniRequest& r, const char* call, const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return CniError{kTryAgainLater, std::string(call) + ": nodeplaned not reachable at " + r.socket,
                    s.error_message()};
  }
  if (s.error_code() == grpc::StatusCode::NOT_FOUND && std::string(call) == "AttachPod") {
    return CniError{kUnknownContainer, "AttachPod: " + s.error_message(), "CNI_NETNS=" + r.netns};
  }
  return CniError{kNodeplaneRefused, std::string(call) + ": " + s.error_message(), ""};
}

struct Record {
  std::string container_id, ifname, netns;
  v1::PodKey key;
  std::vector<std::string> ips;
};

std::string RecordPath(const CniRequest& r, const std::string& cid, const std::string& ifname) {
  return r.state_dir + "/" + cid + "_" + ifname + ".json";
}

std::optional<Record> ReadRecord(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    Json j = Json::parse(in);
    Record rec;
    rec.container_id = j.at("containerId");
    rec.ifname = j.at("ifname");
    rec.netns = j.value("netns", "");
    rec.key.set_namespace_(j.at("namespace").get<std::string>());
    rec.key.set_name(j.at("name").get<std::string>());
    rec.ips = j.value("ips", std::vector<std::string>{});
    return rec;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::optional<CniError> WriteRecord(const CniRequest& r, const Record& rec) {
  std::error_code ec;
  fs::create_directories(r.state_dir, ec);
  const std::string path = RecordPath(r, rec.container_id, rec.ifname);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << Json{{"containerId", rec.container_id}, {"ifname", rec.ifname}, {"netns", rec.netns},
                {"namespace", rec.key.namespace_()}, {"name", rec.key.name()}, {"ips", rec.ips}}.dump();
    if (!out) return CniError{kIoFailure, "cannot write " + tmp, ""};
  }
  fs::rename(tmp, path, ec);
  if (ec) return CniError{kIoFailure, "cannot write " + path, ec.message()};
  return std::nullopt;
}

// The pod this attachment is: Kubernetes' K8S_POD_NAMESPACE/K8S_POD_NAME, else the container.
v1::PodKey KeyFor(const CniRequest& r) {
  v1::PodKey key;
  auto ns = r.args.find("K8S_POD_NAMESPACE");
  auto name = r.args.find("K8S_POD_NAME");
  if (ns != r.args.end() && name != r.args.end() && !ns->second.empty() && !name->second.empty()) {
    key.set_namespace_(ns->second);
    key.set_name(name->second);
    return key;
  }
  std::string id;
  for (char c : r.container_id) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    id += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
  }
  key.set_namespace_("cni");
  key.set_name(id.substr(0, 63));
  return key;
}

Json DelegateConfig(const CniRequest& r) {
  Json c = r.config;
  c["cniVersion"] = kDelegateVersion;
  return c;
}

std::string IpamType(const CniRequest& r) { return r.config["ipam"]["type"].get<std::string>(); }

std::string PodGateway(v1::Nodeplane::StubInterface& np) {
  v1::State st;
  if (np.GetState(Context().get(), v1::GetStateRequest(), &st).ok() &&
      !st.node().pod_gateway().empty()) {
    return st.node().pod_gateway();
  }
  return kDefaultGateway;
}

Outcome Fail(CniError e) { return Outcome{Json(), std::move(e)}; }

Outcome Add(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  const std::string path = RecordPath(r, r.container_id, r.ifname);
  if (fs::exists(path)) {
    return Fail(CniError{kNodeplaneRefused, "container " + r.container_id + " interface " + r.ifname +
                         " is already attached", "DEL it first"});
  }
  DelegateResult ipam = RunDelegate(IpamType(r), r.cni_path, DelegateConfig(r), {});
  if (ipam.error) return Fail(*ipam.error);
  std::vector<std::string> ips;
  try {
    for (const Json& ip : ipam.result.at("ips")) {
      const std::string a = ip.at("address");
      ips.push_back(a.substr(0, a.find('/')));
    }
  } catch (const Json::exception& e) {
    RunDelegate(IpamType(r), r.cni_path, DelegateConfig(r), {{"CNI_COMMAND", "DEL"}});
    return Fail(CniError{kDecodeFailure, "ipam result has no ips[].address", e.what()});
  }
  v1::AttachPodRequest req;
  *req.mutable_key() = KeyFor(r);
  req.set_netns(r.netns);
  req.set_interface(r.ifname);
  for (const auto& ip : ips) req.add_ips(ip);
  req.set_mtu(r.mtu);
  v1::AttachPodReply reply;
  grpc::Status s = np.AttachPod(Context().get(), req, &reply);
  if (!s.ok()) {
    // Give the address back: a failed ADD leaves nothing behind.
    RunDelegate(IpamType(r), r.cni_path, DelegateConfig(r), {{"CNI_COMMAND", "DEL"}});
    return Fail(FromGrpc(r, "AttachPod", s));
  }
  Record rec{r.container_id, r.ifname, r.netns, req.key(), ips};
  if (auto e = WriteRecord(r, rec)) return Fail(*e);

  const std::string gw = PodGateway(np);
  Json iface = {{"name", reply.attachment().interface()},
                {"mac", reply.attachment().mac()},
                {"sandbox", r.netns}};
  if (reply.attachment().mtu() != 0) iface["mtu"] = reply.attachment().mtu();
  Json result = {{"cniVersion", r.cni_version}, {"interfaces", Json::array({iface})},
                 {"ips", Json::array()},
                 {"routes", Json::array({{{"dst", "0.0.0.0/0"}, {"gw", gw}}})}};
  for (const auto& ip : ips) {
    result["ips"].push_back({{"address", ip + "/32"}, {"gateway", gw}, {"interface", 0}});
  }
  if (r.config.contains("dns") && r.config["dns"].is_object()) result["dns"] = r.config["dns"];
  return Outcome{result, std::nullopt};
}

// Detaches and releases one attachment; nothing attached or reserved is success.
std::optional<CniError> Remove(const CniRequest& r, v1::Nodeplane::StubInterface& np,
                               const std::string& cid, const std::string& ifname,
                               std::map<std::string, std::string> env) {
  const std::string path = RecordPath(r, cid, ifname);
  if (auto rec = ReadRecord(path)) {
    v1::DetachPodRequest req;
    *req.mutable_key() = rec->key;
    v1::WriteReply reply;
    grpc::Status s = np.DetachPod(Context().get(), req, &reply);
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) return FromGrpc(r, "DetachPod", s);
  }
  env["CNI_COMMAND"] = "DEL";
  DelegateResult ipam = RunDelegate(IpamType(r), r.cni_path, DelegateConfig(r), env);
  if (ipam.error) return ipam.error;
  std::error_code ec;
  fs::remove(path, ec);
  return std::nullopt;
}

Outcome Del(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  if (auto e = Remove(r, np, r.container_id, r.ifname, {})) return Fail(*e);
  return Outcome{};
}

Outcome Check(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  if (!r.config.contains("prevResult") || !r.config["prevResult"].is_object()) {
    return Fail(CniError{kInvalidConfig, "prevResult: required for CHECK", ""});
  }
  auto rec = ReadRecord(RecordPath(r, r.container_id, r.ifname));
  if (!rec) {
    return Fail(CniError{kNotAttached, "container " + r.container_id + " interface " + r.ifname +
                         " was not added by this plugin", ""});
  }
  v1::State st;
  grpc::Status s = np.GetState(Context().get(), v1::GetStateRequest(), &st);
  if (!s.ok()) return Fail(FromGrpc(r, "GetState", s));
  const v1::PodAttachment* found = nullptr;
  for (const auto& a : st.attachments()) {
    if (a.key().namespace_() == rec->key.namespace_() && a.key().name() == rec->key.name()) found = &a;
  }
  const std::string who = rec->key.namespace_() + "/" + rec->key.name();
  if (found == nullptr) return Fail(CniError{kNotAttached, "pod " + who + " is not attached in nodeplaned", ""});
  if (found->netns() != r.netns || found->interface() != r.ifname) {
    return Fail(CniError{kNotAttached, "pod " + who + " is attached as " + found->netns() + " " +
                         found->interface() + ", not " + r.netns + " " + r.ifname, ""});
  }
  std::set<std::string> have;
  for (const auto& p : st.pods()) {
    if (p.key().namespace_() == rec->key.namespace_() && p.key().name() == rec->key.name()) {
      have.insert(p.ips().begin(), p.ips().end());
    }
  }
  try {
    for (const Json& ip : r.config["prevResult"].at("ips")) {
      const std::string a = ip.at("address");
      if (!have.contains(a.substr(0, a.find('/')))) {
        return Fail(CniError{kNotAttached, "pod " + who + " does not have " + a + " in nodeplaned", ""});
      }
    }
  } catch (const Json::exception& e) {
    return Fail(CniError{kDecodeFailure, "prevResult.ips: malformed", e.what()});
  }
  Json ipam_config = DelegateConfig(r);
  ipam_config.erase("prevResult");  // host-local checks its own reservation by container id
  DelegateResult ipam = RunDelegate(IpamType(r), r.cni_path, ipam_config, {});
  if (ipam.error) return Fail(*ipam.error);
  return Outcome{};
}

Outcome Gc(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  std::set<std::pair<std::string, std::string>> valid;
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    if (!r.config.contains(key)) continue;
    if (!r.config[key].is_array()) return Fail(CniError{kInvalidConfig, std::string(key) + ": expected a list", ""});
    for (const Json& a : r.config[key]) {
      if (!a.is_object()) return Fail(CniError{kInvalidConfig, std::string(key) + ": expected objects", ""});
      valid.insert({a.value("containerID", ""), a.value("ifname", "")});
    }
  }
  std::optional<CniError> first;
  std::error_code ec;
  if (!fs::is_directory(r.state_dir, ec)) return Outcome{};
  for (const auto& entry : fs::directory_iterator(r.state_dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    auto rec = ReadRecord(entry.path().string());
    if (!rec || valid.contains({rec->container_id, rec->ifname})) continue;
    // Keep going on errors (the spec's rule for GC); report the first.
    auto e = Remove(r, np, rec->container_id, rec->ifname,
                    {{"CNI_CONTAINERID", rec->container_id}, {"CNI_IFNAME", rec->ifname}, {"CNI_NETNS", ""}});
    if (e && !first) first = e;
  }
  if (first) return Fail(*first);
  return Outcome{};
}

Outcome Status(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  v1::Status st;
  grpc::Status s = np.GetStatus(Context().get(), v1::GetStatusRequest(), &st);
  if (!s.ok()) {
    return Fail(CniError{kNotAvailable, "nodeplaned not reachable at " + r.socket, s.error_message()});
  }
  return Outcome{};
}

}  // namespace

Outcome RunCommand(const CniRequest& r, v1::Nodeplane::StubInterface& np) {
  if (r.command == "VERSION") {
    return Outcome{Json{{"cniVersion", r.cni_version.empty() ? "1.1.0" : r.cni_version},
                        {"supportedVersions", kSupportedVersions}},
                   std::nullopt};
  }
  if (r.command == "ADD") return Add(r, np);
  if (r.command == "DEL") return Del(r, np);
  if (r.command == "CHECK") return Check(r, np);
  if (r.command == "GC") return Gc(r, np);
  return Status(r, np);
}

}  // namespace nodeplane::cni
