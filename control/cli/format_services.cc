#include "control/cli/format_services.h"

#include <algorithm>
#include <map>
#include <vector>

#include "control/cli/table.h"

namespace nodeplane::cli {
namespace {

using Align = Table::Align;

std::string Dash(const std::string& s) { return s.empty() ? "-" : s; }

template <typename List>
std::string JoinList(const List& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::string Proto(v1::Protocol p) {
  return p == v1::UDP ? "UDP" : p == v1::SCTP ? "SCTP" : "TCP";
}

std::string Key(const v1::ServiceKey& k) { return k.namespace_() + "/" + k.name(); }

std::string Type(v1::ServiceType t) {
  switch (t) {
    case v1::NODE_PORT: return "NodePort";
    case v1::LOAD_BALANCER: return "LoadBalancer";
    case v1::EXTERNAL_NAME: return "ExternalName";
    default: return "ClusterIP";
  }
}

}  // namespace

std::string FormatServices(const v1::State& state) {
  std::vector<const v1::Service*> svcs;
  for (const auto& s : state.services()) svcs.push_back(&s);
  std::stable_sort(svcs.begin(), svcs.end(),
                   [](const auto* a, const auto* b) { return Key(a->key()) < Key(b->key()); });
  Table table({{"NAMESPACE/NAME"}, {"TYPE"}, {"CLUSTER-IP"}, {"EXTERNAL"}, {"PORTS"}, {"POLICIES"}});
  for (const v1::Service* s : svcs) {
    std::vector<std::string> ext(s->external_ips().begin(), s->external_ips().end());
    ext.insert(ext.end(), s->load_balancer_ips().begin(), s->load_balancer_ips().end());
    std::vector<std::string> ports;
    for (const auto& p : s->ports()) {
      ports.push_back(std::to_string(p.port()) +
                      (p.node_port() ? ":" + std::to_string(p.node_port()) : "") + "/" +
                      Proto(p.protocol()));
    }
    std::vector<std::string> pol;
    if (s->external_traffic_policy() == v1::LOCAL) pol.push_back("eTP=Local");
    if (s->internal_traffic_policy() == v1::LOCAL) pol.push_back("iTP=Local");
    if (s->has_client_ip_affinity()) pol.push_back("affinity=ClientIP");
    if (s->health_check_node_port()) pol.push_back("hc=" + std::to_string(s->health_check_node_port()));
    table.AddRow({Key(s->key()), Type(s->type()), Dash(JoinList(s->cluster_ips())),
                  Dash(JoinList(ext)), Dash(JoinList(ports)), Dash(JoinList(pol))});
  }
  return table.Render();
}

std::string FormatBackends(const v1::State& state, const std::string& service) {
  std::vector<const v1::EndpointSlice*> slices;
  for (const auto& s : state.endpoint_slices()) {
    const std::string svc = s.key().namespace_() + "/" + s.service_name();
    if (service.empty() || svc == service) slices.push_back(&s);
  }
  std::stable_sort(slices.begin(), slices.end(), [](const auto* a, const auto* b) {
    return std::make_pair(a->key().namespace_() + "/" + a->service_name(), a->key().name()) <
           std::make_pair(b->key().namespace_() + "/" + b->service_name(), b->key().name());
  });
  Table table({{"SERVICE"}, {"ENDPOINT"}, {"PORTS"}, {"NODE"}, {"READY"}, {"SERVING"}, {"TERMINATING"},
               {"WEIGHT"}});
  auto yn = [](bool b) { return std::string(b ? "yes" : "no"); };
  for (const v1::EndpointSlice* s : slices) {
    std::vector<std::string> ports;
    for (const auto& p : s->ports()) {
      ports.push_back((p.name().empty() ? "" : p.name() + "=") + std::to_string(p.port()) + "/" +
                      Proto(p.protocol()));
    }
    for (const auto& e : s->endpoints()) {
      table.AddRow({s->key().namespace_() + "/" + s->service_name(),
                    e.addresses().empty() ? "-" : e.addresses(0), Dash(JoinList(ports)),
                    Dash(e.node_name()), yn(e.conditions().ready()), yn(e.conditions().serving()),
                    yn(e.conditions().terminating()),
                    std::to_string(e.weight() != 0 ? e.weight() : 1)});  // unset means 1
    }
  }
  return table.Render();
}

std::string FormatExplain(const v1::ExplainServiceBackendReply& r) {
  Table table({{"key"}, {"value"}}, /*show_header=*/false);
  table.AddRow({"Service:", Key(r.service())});
  table.AddRow({"Address:", r.address_kind()});
  table.AddRow({"Client:", r.from_outside() ? "outside the cluster" : "inside the cluster"});
  table.AddRow({"Endpoints:", r.endpoint_set() + " (" + std::to_string(r.set_size()) + ")"});
  table.AddRow({"Why:", r.reason()});
  table.AddRow({"Outcome:", r.outcome()});
  if (r.outcome() == "translated") {
    table.AddRow({"Backend:", r.backend()});
    table.AddRow({"Chosen by:", r.affinity() ? "ClientIP affinity"
                                             : "Maglev slot " + std::to_string(r.maglev_slot()) +
                                                   " of " + std::to_string(r.maglev_slots())});
    table.AddRow({"SNAT:", r.snat_source().empty() ? "none (source kept)" : r.snat_source()});
  }
  return table.Render();
}

}  // namespace nodeplane::cli
