#include "control/model/service_from_proto.h"

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "control/model/field_errors.h"
#include "control/model/service_claims.h"

namespace nodeplane::ctl {
namespace {

// IANA_SVC_NAME: what a named targetPort must be (1-15 lowercase alphanumerics or '-', a letter).
bool IsPortName(const std::string& s) {
  if (s.empty() || s.size() > 15 || s.front() == '-' || s.back() == '-') return false;
  bool letter = false;
  for (char c : s) {
    const bool lower = c >= 'a' && c <= 'z';
    letter = letter || lower;
    if (!lower && !(c >= '0' && c <= '9') && c != '-') return false;
  }
  return letter;
}

absl::StatusOr<L4Protocol> ProtocolOf(v1::Protocol p, const std::string& field) {
  switch (p) {
    case v1::PROTOCOL_UNSPECIFIED:
    case v1::TCP: return L4Protocol::kTcp;
    case v1::UDP: return L4Protocol::kUdp;
    case v1::SCTP: return L4Protocol::kSctp;
    default: return Invalid(field, absl::StrCat("unknown protocol ", static_cast<int>(p)));
  }
}

absl::StatusOr<uint16_t> PortOf(uint32_t port, const std::string& field) {
  if (port == 0 || port > 65535) return Invalid(field, absl::StrCat("must be 1..65535, got ", port));
  return static_cast<uint16_t>(port);
}

absl::StatusOr<Ip4> AddressOf(const std::string& text, const std::string& field) {
  const auto ip = Ip4::Parse(text);
  if (ip) return *ip;
  if (text.find(':') != std::string::npos) {
    return absl::UnimplementedError(absl::StrCat(field, ": IPv6 is not supported yet: ", text));
  }
  return Invalid(field, "not an IPv4 address: \"" + text + "\"");
}

absl::StatusOr<std::vector<Ip4>> AddressesOf(const google::protobuf::RepeatedPtrField<std::string>& in,
                                             const std::string& field) {
  std::vector<Ip4> out;
  for (int i = 0; i < in.size(); ++i) {
    auto ip = AddressOf(in[i], At(field, i));
    if (!ip.ok()) return ip.status();
    out.push_back(*ip);
  }
  return out;
}

// loadBalancerSourceRanges are CIDRs; like Kubernetes, host bits are accepted and cleared.
absl::StatusOr<Ip4Prefix> RangeOf(const std::string& text, const std::string& field) {
  const size_t slash = text.find('/');
  const auto ip = Ip4::Parse(text.substr(0, slash));
  const std::string len = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (!ip || len.empty() || len.size() > 2 ||
      len.find_first_not_of("0123456789") != std::string::npos || std::stoi(len) > 32) {
    if (text.find(':') != std::string::npos) {
      return absl::UnimplementedError(absl::StrCat(field, ": IPv6 is not supported yet: ", text));
    }
    return Invalid(field, "not an IPv4 CIDR (a.b.c.d/len): \"" + text + "\"");
  }
  const int l = std::stoi(len);
  const uint32_t mask = l == 0 ? 0 : ~uint32_t{0} << (32 - l);
  return Ip4Prefix{Ip4::FromHost(ip->host() & mask), static_cast<uint8_t>(l)};
}

absl::StatusOr<ServicePortModel> ServicePortOf(const v1::ServicePort& p, const std::string& f,
                                               ServiceType type, const NodePortRange& range) {
  ServicePortModel m;
  m.name = p.name();
  if (!m.name.empty() && !IsPortName(m.name) && !IsDns1123(m.name, 63, false)) {
    return Invalid(Sub(f, "name"), "not a valid port name: \"" + m.name + "\"");
  }
  auto proto = ProtocolOf(p.protocol(), Sub(f, "protocol"));
  if (!proto.ok()) return proto.status();
  m.protocol = *proto;
  auto port = PortOf(p.port(), Sub(f, "port"));
  if (!port.ok()) return port.status();
  m.port = *port;
  switch (p.target_port_case()) {
    case v1::ServicePort::kTargetPortNumber: {
      auto t = PortOf(p.target_port_number(), Sub(f, "target_port_number"));
      if (!t.ok()) return t.status();
      m.target_port = *t;
      break;
    }
    case v1::ServicePort::kTargetPortName:
      if (!IsPortName(p.target_port_name())) {
        return Invalid(Sub(f, "target_port_name"),
                       "not a valid port name (IANA_SVC_NAME): \"" + p.target_port_name() + "\"");
      }
      m.target_port_name = p.target_port_name();
      break;
    case v1::ServicePort::TARGET_PORT_NOT_SET:
      m.target_port = m.port;  // Kubernetes' default: the Service port
      break;
  }
  if (p.node_port() != 0) {
    if (type != ServiceType::kNodePort && type != ServiceType::kLoadBalancer) {
      return Invalid(Sub(f, "node_port"), "only NodePort and LoadBalancer Services have one");
    }
    if (!range.Contains(p.node_port())) {
      return Invalid(Sub(f, "node_port"), absl::StrCat(p.node_port(), " outside the NodePort range ",
                                                       range.ToString()));
    }
    m.node_port = static_cast<uint16_t>(p.node_port());
  } else if (type == ServiceType::kNodePort) {
    return Invalid(Sub(f, "node_port"), "required for a NodePort Service");
  }
  return m;
}

absl::Status CheckLabels(const google::protobuf::Map<std::string, std::string>& labels,
                         const std::string& field) {
  if (labels.size() > 256) return Invalid(field, "too many labels");
  for (const auto& [k, v] : labels) {
    if (k.empty() || k.size() > 316 || v.size() > 63) return Invalid(field, "bad label \"" + k + "\"");
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<NodePortRange> NodePortRange::Parse(const std::string& text) {
  const size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= text.size()) return std::nullopt;
  const std::string a = text.substr(0, dash), b = text.substr(dash + 1);
  for (const std::string& s : {a, b}) {
    if (s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  }
  const int first = std::stoi(a), last = std::stoi(b);
  if (first < 1 || last > 65535 || first > last) return std::nullopt;
  return NodePortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

absl::StatusOr<ServiceKey> ServiceKeyFromProto(const v1::ServiceKey& key, const std::string& field) {
  if (!IsDns1123(key.namespace_(), 63, false)) {
    return Invalid(Sub(field, "namespace"), "must be a DNS label: \"" + key.namespace_() + "\"");
  }
  if (!IsDns1123(key.name(), 63, false)) {
    return Invalid(Sub(field, "name"), "must be a DNS label: \"" + key.name() + "\"");
  }
  return ServiceKey{key.namespace_(), key.name()};
}

absl::StatusOr<EndpointSliceKey> EndpointSliceKeyFromProto(const v1::EndpointSliceKey& key,
                                                           const std::string& field) {
  if (!IsDns1123(key.namespace_(), 63, false)) {
    return Invalid(Sub(field, "namespace"), "must be a DNS label: \"" + key.namespace_() + "\"");
  }
  if (!IsDns1123(key.name(), 253, true)) {
    return Invalid(Sub(field, "name"), "must be a DNS subdomain: \"" + key.name() + "\"");
  }
  return EndpointSliceKey{key.namespace_(), key.name()};
}

absl::StatusOr<ServiceModel> ServiceFromProto(const v1::Service& svc, const std::string& field,
                                              const NodePortRange& range) {
  ServiceModel m;
  auto key = ServiceKeyFromProto(svc.key(), Sub(field, "key"));
  if (!key.ok()) return key.status();
  m.key = *key;
  switch (svc.type()) {
    case v1::SERVICE_TYPE_UNSPECIFIED:
    case v1::CLUSTER_IP: m.type = ServiceType::kClusterIp; break;
    case v1::NODE_PORT: m.type = ServiceType::kNodePort; break;
    case v1::LOAD_BALANCER: m.type = ServiceType::kLoadBalancer; break;
    case v1::EXTERNAL_NAME: m.type = ServiceType::kExternalName; break;
    default:
      return Invalid(Sub(field, "type"), absl::StrCat("unknown type ", static_cast<int>(svc.type())));
  }
  const std::string cf = Sub(field, "cluster_ips");
  if (svc.cluster_ips_size() > 2) return Invalid(cf, "at most 2 (one per IP family)");
  if (svc.cluster_ips_size() == 1 && svc.cluster_ips(0) == "None") {
    if (m.type != ServiceType::kClusterIp) {
      return Invalid(At(cf, 0), "\"None\" (headless) is only for ClusterIP Services");
    }
    m.headless = true;
  } else {
    auto ips = AddressesOf(svc.cluster_ips(), cf);
    if (!ips.ok()) return ips.status();
    m.cluster_ips = std::move(*ips);
    if (m.cluster_ips.empty() && m.type != ServiceType::kExternalName) {
      return Invalid(cf, "required (or \"None\" for a headless Service)");
    }
    if (!m.cluster_ips.empty() && m.type == ServiceType::kExternalName) {
      return Invalid(cf, "an ExternalName Service has no cluster IP");
    }
  }
  auto ext = AddressesOf(svc.external_ips(), Sub(field, "external_ips"));
  if (!ext.ok()) return ext.status();
  m.external_ips = std::move(*ext);
  auto lb = AddressesOf(svc.load_balancer_ips(), Sub(field, "load_balancer_ips"));
  if (!lb.ok()) return lb.status();
  m.load_balancer_ips = std::move(*lb);
  if (!m.load_balancer_ips.empty() && m.type != ServiceType::kLoadBalancer) {
    return Invalid(Sub(field, "load_balancer_ips"), "only LoadBalancer Services have them");
  }
  const std::string pf = Sub(field, "ports");
  if (svc.ports_size() > kMaxPortsPerSlice) return Invalid(pf, "too many ports");
  std::set<std::string> names;
  std::set<std::pair<uint16_t, L4Protocol>> numbers;
  for (int i = 0; i < svc.ports_size(); ++i) {
    auto p = ServicePortOf(svc.ports(i), At(pf, i), m.type, range);
    if (!p.ok()) return p.status();
    if (svc.ports_size() > 1 && p->name.empty()) {
      return Invalid(Sub(At(pf, i), "name"), "required when a Service has several ports");
    }
    if (!p->name.empty() && !names.insert(p->name).second) {
      return Invalid(Sub(At(pf, i), "name"), "duplicate port name \"" + p->name + "\"");
    }
    if (!numbers.insert({p->port, p->protocol}).second) {
      return Invalid(Sub(At(pf, i), "port"), absl::StrCat("duplicate port ", p->port, "/",
                                                          ProtocolName(p->protocol)));
    }
    m.ports.push_back(std::move(*p));
  }
  auto policy = [&](v1::TrafficPolicy p, const std::string& f) -> absl::StatusOr<TrafficPolicy> {
    switch (p) {
      case v1::TRAFFIC_POLICY_UNSPECIFIED:
      case v1::CLUSTER: return TrafficPolicy::kCluster;
      case v1::LOCAL: return TrafficPolicy::kLocal;
      default: return Invalid(f, absl::StrCat("unknown traffic policy ", static_cast<int>(p)));
    }
  };
  auto etp = policy(svc.external_traffic_policy(), Sub(field, "external_traffic_policy"));
  if (!etp.ok()) return etp.status();
  m.external_policy = *etp;
  auto itp = policy(svc.internal_traffic_policy(), Sub(field, "internal_traffic_policy"));
  if (!itp.ok()) return itp.status();
  m.internal_policy = *itp;
  if (svc.has_client_ip_affinity()) {
    const uint32_t t = svc.client_ip_affinity().timeout_seconds();
    if (t > kMaxAffinityTimeoutS) {
      return Invalid(Sub(field, "client_ip_affinity.timeout_seconds"),
                     absl::StrCat("must be 1..", kMaxAffinityTimeoutS, " (0: ",
                                  kDefaultAffinityTimeoutS, "), got ", t));
    }
    m.affinity_timeout_s = t;
  }
  for (int i = 0; i < svc.load_balancer_source_ranges_size(); ++i) {
    auto r = RangeOf(svc.load_balancer_source_ranges(i),
                     At(Sub(field, "load_balancer_source_ranges"), i));
    if (!r.ok()) return r.status();
    m.source_ranges.push_back(*r);
  }
  if (svc.health_check_node_port() != 0) {
    const std::string hf = Sub(field, "health_check_node_port");
    if (m.type != ServiceType::kLoadBalancer && m.type != ServiceType::kNodePort) {
      return Invalid(hf, "only NodePort and LoadBalancer Services have one");
    }
    if (m.external_policy != TrafficPolicy::kLocal) {
      return Invalid(hf, "only with external_traffic_policy LOCAL");
    }
    if (!range.Contains(svc.health_check_node_port())) {
      return Invalid(hf, absl::StrCat(svc.health_check_node_port(),
                                      " outside the NodePort range ", range.ToString()));
    }
    m.health_check_node_port = static_cast<uint16_t>(svc.health_check_node_port());
  }
  if (absl::Status s = CheckLabels(svc.labels(), Sub(field, "labels")); !s.ok()) return s;
  m.labels = {svc.labels().begin(), svc.labels().end()};
  const std::string& td = svc.traffic_distribution();
  if (!td.empty() && td != "PreferClose" && td != "PreferSameZone" && td != "PreferSameNode") {
    return Invalid(Sub(field, "traffic_distribution"),
                   "must be PreferClose, PreferSameZone or PreferSameNode: \"" + td + "\"");
  }
  m.traffic_distribution = td;
  return m;
}

absl::StatusOr<EndpointSliceModel> EndpointSliceFromProto(const v1::EndpointSlice& slice,
                                                          const std::string& field) {
  EndpointSliceModel m;
  auto key = EndpointSliceKeyFromProto(slice.key(), Sub(field, "key"));
  if (!key.ok()) return key.status();
  m.key = *key;
  if (!IsDns1123(slice.service_name(), 63, false)) {
    return Invalid(Sub(field, "service_name"),
                   "must be a Service name (DNS label): \"" + slice.service_name() + "\"");
  }
  m.service_name = slice.service_name();
  const std::string& at = slice.address_type();
  if (at == "IPv6") {
    return absl::UnimplementedError(Sub(field, "address_type") + ": IPv6 is not supported yet");
  }
  if (at != "IPv4" && at != "FQDN") {
    return Invalid(Sub(field, "address_type"), "must be IPv4, IPv6 or FQDN: \"" + at + "\"");
  }
  m.ipv4 = at == "IPv4";
  const std::string ef = Sub(field, "endpoints");
  if (slice.endpoints_size() > kMaxEndpointsPerSlice) {
    return Invalid(ef, absl::StrCat(slice.endpoints_size(), " endpoints; at most ",
                                    kMaxEndpointsPerSlice, " per slice"));
  }
  for (int i = 0; i < slice.endpoints_size() && m.ipv4; ++i) {
    const v1::Endpoint& e = slice.endpoints(i);
    const std::string f = At(ef, i);
    EndpointModel em;
    if (e.addresses_size() == 0) return Invalid(Sub(f, "addresses"), "at least one address");
    auto ip = AddressOf(e.addresses(0), At(Sub(f, "addresses"), 0));
    if (!ip.ok()) return ip.status();
    if (ip->be == 0 || (ip->host() >> 24) == 127 || (ip->host() >> 28) >= 14) {
      return Invalid(At(Sub(f, "addresses"), 0), "must be a unicast address: \"" +
                                                     e.addresses(0) + "\"");
    }
    em.address = *ip;
    em.ready = e.conditions().ready();
    em.serving = e.conditions().serving();
    em.terminating = e.conditions().terminating();
    em.node_name = e.node_name();
    em.zone = e.zone();
    em.zone_hints = {e.zone_hints().begin(), e.zone_hints().end()};
    if (e.has_target_pod()) em.target_pod = PodKey{e.target_pod().namespace_(), e.target_pod().name()};
    em.node_hints = {e.node_hints().begin(), e.node_hints().end()};
    if (e.weight() > kMaxEndpointWeight) {
      return Invalid(Sub(f, "weight"),
                     absl::StrCat(e.weight(), " above the maximum ", kMaxEndpointWeight));
    }
    em.weight = e.weight();
    m.endpoints.push_back(std::move(em));
  }
  const std::string pf = Sub(field, "ports");
  if (slice.ports_size() > kMaxPortsPerSlice) {
    return Invalid(pf, absl::StrCat(slice.ports_size(), " ports; at most ", kMaxPortsPerSlice));
  }
  for (int i = 0; i < slice.ports_size(); ++i) {
    const v1::EndpointPort& p = slice.ports(i);
    auto proto = ProtocolOf(p.protocol(), Sub(At(pf, i), "protocol"));
    if (!proto.ok()) return proto.status();
    auto port = PortOf(p.port(), Sub(At(pf, i), "port"));
    if (!port.ok()) return port.status();
    m.ports.push_back(EndpointPortModel{p.name(), *proto, *port});
  }
  return m;
}

absl::StatusOr<std::vector<ServiceModel>> ServicesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Service>& services, const std::string& field,
    const NodePortRange& range) {
  if (services.size() > kMaxServicesPerRequest) {
    return Invalid(field, absl::StrCat(services.size(), " Services in one request; at most ",
                                       kMaxServicesPerRequest));
  }
  std::vector<ServiceModel> out;
  std::set<ServiceKey> seen;
  for (int i = 0; i < services.size(); ++i) {
    auto svc = ServiceFromProto(services[i], At(field, i), range);
    if (!svc.ok()) return svc.status();
    if (!seen.insert(svc->key).second) {
      return Invalid(Sub(At(field, i), "key"),
                     "duplicate Service " + svc->key.ToString() + " in this request");
    }
    out.push_back(std::move(*svc));
  }
  return out;
}

absl::StatusOr<std::vector<EndpointSliceModel>> EndpointSlicesFromProto(
    const google::protobuf::RepeatedPtrField<v1::EndpointSlice>& slices, const std::string& field) {
  if (slices.size() > kMaxSlicesPerRequest) {
    return Invalid(field, absl::StrCat(slices.size(), " EndpointSlices in one request; at most ",
                                       kMaxSlicesPerRequest));
  }
  std::vector<EndpointSliceModel> out;
  std::set<EndpointSliceKey> seen;
  for (int i = 0; i < slices.size(); ++i) {
    auto s = EndpointSliceFromProto(slices[i], At(field, i));
    if (!s.ok()) return s.status();
    if (!seen.insert(s->key).second) {
      return Invalid(Sub(At(field, i), "key"),
                     "duplicate EndpointSlice " + s->key.ToString() + " in this request");
    }
    out.push_back(std::move(*s));
  }
  return out;
}

absl::StatusOr<ServiceState> ApplyServiceChange(const ServiceState& current, bool replace_all,
                                                std::vector<ServiceModel> upsert_services,
                                                const std::vector<ServiceKey>& delete_services,
                                                std::vector<EndpointSliceModel> upsert_slices,
                                                const std::vector<EndpointSliceKey>& delete_slices,
                                                const std::string& services_field,
                                                const std::string& slices_field) {
  ServiceState next;
  if (!replace_all) next = current;
  for (const ServiceKey& k : delete_services) next.services.erase(k);
  for (const EndpointSliceKey& k : delete_slices) next.EraseSlice(k);
  std::set<ServiceKey> incoming;
  for (const ServiceModel& s : upsert_services) incoming.insert(s.key);
  // Stored Services first (they were consistent), then the request's in order, so the error
  // names the request's element. Only new or changed Services can make a collision: a change of
  // slices or deletes alone skips the check (and its walk over every Service).
  if (!upsert_services.empty()) {
    ServiceClaims claims;
    for (const auto& [key, svc] : next.services) {
      if (incoming.contains(key)) continue;
      if (absl::Status s = claims.Claim(svc, ""); !s.ok()) return s;
    }
    for (size_t i = 0; i < upsert_services.size(); ++i) {
      const std::string where = absl::StrCat(services_field, "[", i, "]");
      if (absl::Status s = claims.Claim(upsert_services[i], where); !s.ok()) return s;
    }
  }
  for (ServiceModel& s : upsert_services) {
    ServiceKey key = s.key;
    next.services[key] = std::move(s);
  }
  std::map<ServiceKey, size_t> incoming_slices;  // Service → index of its first upserted slice
  for (size_t i = 0; i < upsert_slices.size(); ++i) {
    incoming_slices.emplace(ServiceKey{upsert_slices[i].key.ns, upsert_slices[i].service_name}, i);
    next.PutSlice(std::move(upsert_slices[i]));
  }
  // Backends per Service over all its slices: what its tables can hold.
  for (const auto& [svc, first] : incoming_slices) {
    size_t n = 0;
    for (const EndpointSliceModel* s : next.SlicesOf(svc)) n += s->endpoints.size();
    if (n > kMaxBackendsPerService) {
      return Invalid(absl::StrCat(slices_field, "[", first, "].endpoints"),
                     absl::StrCat("Service ", svc.ToString(), " would have ", n,
                                  " endpoints; a Service holds at most ", kMaxBackendsPerService));
    }
  }
  return next;
}

v1::Service ServiceToProto(const ServiceModel& m) {
  v1::Service s;
  s.mutable_key()->set_namespace_(m.key.ns);
  s.mutable_key()->set_name(m.key.name);
  switch (m.type) {
    case ServiceType::kClusterIp: s.set_type(v1::CLUSTER_IP); break;
    case ServiceType::kNodePort: s.set_type(v1::NODE_PORT); break;
    case ServiceType::kLoadBalancer: s.set_type(v1::LOAD_BALANCER); break;
    case ServiceType::kExternalName: s.set_type(v1::EXTERNAL_NAME); break;
  }
  if (m.headless) s.add_cluster_ips("None");
  for (Ip4 ip : m.cluster_ips) s.add_cluster_ips(ip.ToString());
  for (Ip4 ip : m.external_ips) s.add_external_ips(ip.ToString());
  for (Ip4 ip : m.load_balancer_ips) s.add_load_balancer_ips(ip.ToString());
  for (const ServicePortModel& p : m.ports) {
    v1::ServicePort* out = s.add_ports();
    out->set_name(p.name);
    out->set_protocol(static_cast<v1::Protocol>(p.protocol));
    out->set_port(p.port);
    if (!p.target_port_name.empty()) {
      out->set_target_port_name(p.target_port_name);
    } else {
      out->set_target_port_number(p.target_port);
    }
    out->set_node_port(p.node_port);
  }
  auto policy = [](TrafficPolicy p) { return p == TrafficPolicy::kLocal ? v1::LOCAL : v1::CLUSTER; };
  s.set_external_traffic_policy(policy(m.external_policy));
  s.set_internal_traffic_policy(policy(m.internal_policy));
  if (m.affinity_timeout_s) s.mutable_client_ip_affinity()->set_timeout_seconds(*m.affinity_timeout_s);
  for (const Ip4Prefix& r : m.source_ranges) s.add_load_balancer_source_ranges(r.ToString());
  s.set_health_check_node_port(m.health_check_node_port);
  for (const auto& [k, v] : m.labels) (*s.mutable_labels())[k] = v;
  s.set_traffic_distribution(m.traffic_distribution);
  return s;
}

v1::EndpointSlice EndpointSliceToProto(const EndpointSliceModel& m) {
  v1::EndpointSlice s;
  s.mutable_key()->set_namespace_(m.key.ns);
  s.mutable_key()->set_name(m.key.name);
  s.set_service_name(m.service_name);
  s.set_address_type(m.ipv4 ? "IPv4" : "FQDN");
  for (const EndpointModel& e : m.endpoints) {
    v1::Endpoint* out = s.add_endpoints();
    out->add_addresses(e.address.ToString());
    out->mutable_conditions()->set_ready(e.ready);
    out->mutable_conditions()->set_serving(e.serving);
    out->mutable_conditions()->set_terminating(e.terminating);
    out->set_node_name(e.node_name);
    out->set_zone(e.zone);
    for (const std::string& z : e.zone_hints) out->add_zone_hints(z);
    if (e.target_pod) {
      out->mutable_target_pod()->set_namespace_(e.target_pod->ns);
      out->mutable_target_pod()->set_name(e.target_pod->name);
    }
    for (const std::string& n : e.node_hints) out->add_node_hints(n);
    out->set_weight(e.weight);
  }
  for (const EndpointPortModel& p : m.ports) {
    v1::EndpointPort* out = s.add_ports();
    out->set_name(p.name);
    out->set_protocol(static_cast<v1::Protocol>(p.protocol));
    out->set_port(p.port);
  }
  return s;
}

}  // namespace nodeplane::ctl
