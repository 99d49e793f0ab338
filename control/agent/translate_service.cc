// Service and EndpointSlice (discovery.k8s.io/v1).
#include "control/agent/translate.h"

namespace nodeplane::agent {
namespace {

using detail::Guard;

v1::TrafficPolicy PolicyOf(const JsonField& spec, const std::string& key) {
  const std::string p = spec.Str(key);
  if (p.empty()) return v1::TRAFFIC_POLICY_UNSPECIFIED;
  if (p == "Cluster") return v1::CLUSTER;
  if (p == "Local") return v1::LOCAL;
  spec[key].Fail("unknown traffic policy \"" + p + "\" (Cluster or Local)");
}

v1::ServiceType TypeOf(const JsonField& spec) {
  const std::string t = spec.Str("type", "ClusterIP");
  if (t == "ClusterIP") return v1::CLUSTER_IP;
  if (t == "NodePort") return v1::NODE_PORT;
  if (t == "LoadBalancer") return v1::LOAD_BALANCER;
  if (t == "ExternalName") return v1::EXTERNAL_NAME;
  spec["type"].Fail("unknown Service type \"" + t +
                    "\" (ClusterIP, NodePort, LoadBalancer or ExternalName)");
}

// IPv4 addresses are kept, IPv6 ones skipped (see translate.h), anything else fails.
void AddAddress(const JsonField& field, const std::string& text,
                google::protobuf::RepeatedPtrField<std::string>* out) {
  if (detail::IsIpv4(text)) {
    out->Add(std::string(text));
  } else if (!detail::IsIpv6(text)) {
    field.Fail("not an IP address: \"" + text + "\"");
  }
}

}  // namespace

absl::StatusOr<v1::Service> ServiceFromJson(const Json& object) {
  return Guard(Kind::kService, object, [&] {
    JsonField root(object, "");
    JsonField meta = root["metadata"];
    JsonField spec = root["spec"];
    v1::Service svc;
    svc.mutable_key()->set_namespace_(meta.Str("namespace", "default"));
    svc.mutable_key()->set_name(meta.RequiredStr("name"));
    for (const auto& [k, v] : meta.StrMap("labels")) (*svc.mutable_labels())[k] = v;
    svc.set_type(TypeOf(spec));

    std::vector<JsonField> ips = spec["clusterIPs"].Items();
    if (ips.empty() && spec.Has("clusterIP")) ips.push_back(spec["clusterIP"]);
    for (const JsonField& ip : ips) {
      if (!ip.value().is_string()) ip.Fail("expected a string");
      const std::string text = ip.value().get<std::string>();
      if (text == "None") {
        svc.add_cluster_ips(text);  // headless
      } else if (!text.empty()) {
        AddAddress(ip, text, svc.mutable_cluster_ips());
      }
    }
    for (const JsonField& ip : spec["externalIPs"].Items()) {
      if (!ip.value().is_string()) ip.Fail("expected a string");
      AddAddress(ip, ip.value().get<std::string>(), svc.mutable_external_ips());
    }
    for (const JsonField& ingress : root["status"]["loadBalancer"]["ingress"].Items()) {
      // Ingress points given only by hostname (some cloud balancers) have nothing to program.
      if (ingress.Has("ip")) AddAddress(ingress["ip"], ingress.Str("ip"), svc.mutable_load_balancer_ips());
    }

    for (const JsonField& p : spec["ports"].Items()) {
      v1::ServicePort* port = svc.add_ports();
      port->set_name(p.Str("name"));
      port->set_protocol(detail::ProtocolOf(p, "protocol"));
      if (!p.Has("port")) p["port"].Fail("required");
      port->set_port(static_cast<uint32_t>(p.Int("port", 1, 65535)));
      JsonField target = p["targetPort"];
      if (!target.Present()) {
        port->set_target_port_number(port->port());  // Kubernetes defaults targetPort to port
      } else if (target.value().is_string()) {
        const std::string name = target.value().get<std::string>();
        // An int-or-string holding digits is a number (the API server accepts "8080").
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
            name.size() <= 5) {
          const int n = std::stoi(name);
          if (n < 1 || n > 65535) target.Fail(name + " outside 1-65535");
          port->set_target_port_number(static_cast<uint32_t>(n));
        } else if (name.empty()) {
          target.Fail("empty port name");
        } else {
          port->set_target_port_name(name);
        }
      } else {
        port->set_target_port_number(static_cast<uint32_t>(p.Int("targetPort", 1, 65535)));
      }
      port->set_node_port(static_cast<uint32_t>(p.Int("nodePort", 0, 65535)));
    }

    svc.set_external_traffic_policy(PolicyOf(spec, "externalTrafficPolicy"));
    svc.set_internal_traffic_policy(PolicyOf(spec, "internalTrafficPolicy"));
    const std::string affinity = spec.Str("sessionAffinity", "None");
    if (affinity == "ClientIP") {
      svc.mutable_client_ip_affinity()->set_timeout_seconds(static_cast<uint32_t>(
          spec["sessionAffinityConfig"]["clientIP"].Int("timeoutSeconds", 0, 86400)));
    } else if (affinity != "None") {
      spec["sessionAffinity"].Fail("unknown session affinity \"" + affinity + "\" (None or ClientIP)");
    }
    std::vector<JsonField> ranges = spec["loadBalancerSourceRanges"].Items();
    for (const JsonField& r : ranges) {
      if (!r.value().is_string()) r.Fail("expected a string");
      // kube-proxy trims spaces the API server lets through.
      std::string text = r.value().get<std::string>();
      text.erase(0, text.find_first_not_of(' '));
      text.erase(text.find_last_not_of(' ') + 1);
      detail::CheckCidr(r, text);
      if (detail::IsIpv4(text.substr(0, text.find('/')))) svc.add_load_balancer_source_ranges(text);
    }
    svc.set_health_check_node_port(
        static_cast<uint32_t>(spec.Int("healthCheckNodePort", 0, 65535)));
    svc.set_traffic_distribution(spec.Str("trafficDistribution"));
    return svc;
  });
}

absl::StatusOr<std::optional<v1::EndpointSlice>> EndpointSliceFromJson(const Json& object) {
  return Guard(Kind::kEndpointSlice, object, [&]() -> std::optional<v1::EndpointSlice> {
    JsonField root(object, "");
    JsonField meta = root["metadata"];
    v1::EndpointSlice slice;
    const std::string ns = meta.Str("namespace", "default");
    slice.mutable_key()->set_namespace_(ns);
    slice.mutable_key()->set_name(meta.RequiredStr("name"));
    const auto labels = meta.StrMap("labels");
    const auto owner = labels.find("kubernetes.io/service-name");
    const std::string type = root.Str("addressType");
    if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
      root["addressType"].Fail(type.empty() ? "required"
                                            : "unknown address type \"" + type + "\"");
    }
    // Slices of no Service, and kinds kube-proxy ignores (FQDN) or nodeplaned cannot use yet
    // (IPv6), are not the dataplane's business.
    if (owner == labels.end() || owner->second.empty() || type != "IPv4") return std::nullopt;
    slice.set_service_name(owner->second);
    slice.set_address_type(type);

    for (const JsonField& e : root["endpoints"].Items()) {
      v1::Endpoint* ep = slice.add_endpoints();
      for (const JsonField& a : e["addresses"].Items()) {
        if (!a.value().is_string() || !detail::IsIpv4(a.value().get<std::string>())) {
          a.Fail("not an IPv4 address: " + a.value().dump());
        }
        ep->add_addresses(a.value().get<std::string>());
      }
      if (ep->addresses().empty()) e["addresses"].Fail("at least one address is required");
      // nil conditions: ready and serving mean true, terminating false (EndpointConditions).
      JsonField c = e["conditions"];
      ep->mutable_conditions()->set_ready(c.Bool("ready", true));
      ep->mutable_conditions()->set_serving(c.Bool("serving", true));
      ep->mutable_conditions()->set_terminating(c.Bool("terminating", false));
      ep->set_node_name(e.Str("nodeName"));
      ep->set_zone(e.Str("zone"));
      for (const JsonField& z : e["hints"]["forZones"].Items()) ep->add_zone_hints(z.RequiredStr("name"));
      for (const JsonField& n : e["hints"]["forNodes"].Items()) ep->add_node_hints(n.RequiredStr("name"));
      JsonField ref = e["targetRef"];
      if (ref.Present() && ref.Str("kind", "Pod") == "Pod") {
        ep->mutable_target_pod()->set_namespace_(ref.Str("namespace", ns));
        ep->mutable_target_pod()->set_name(ref.RequiredStr("name"));
      }
    }
    for (const JsonField& p : root["ports"].Items()) {
      v1::EndpointPort* port = slice.add_ports();
      port->set_name(p.Str("name"));
      port->set_protocol(detail::ProtocolOf(p, "protocol"));
      port->set_port(static_cast<uint32_t>(p.Int("port", 1, 65535)));
    }
    return slice;
  });
}

}  // namespace nodeplane::agent
