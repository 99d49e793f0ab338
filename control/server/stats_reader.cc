#include "control/server/stats_reader.h"

#include <rte_ethdev.h>

#include "control/compile/policy_explain.h"
#include "control/model/from_proto.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"

namespace nodeplane::ctl {
namespace {

void AddPort(v1::Stats& out, uint16_t port_id, const std::string& kind, const std::string& pod) {
  v1::PortStats* p = out.add_ports();
  p->set_port_id(port_id);
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port_id, name) == 0) p->set_name(name);
  p->set_kind(kind);
  p->set_pod(pod);
  rte_eth_stats s{};
  if (rte_eth_stats_get(port_id, &s) == 0) {
    p->set_rx_packets(s.ipackets);
    p->set_tx_packets(s.opackets);
    p->set_rx_bytes(s.ibytes);
    p->set_tx_bytes(s.obytes);
    p->set_rx_missed(s.imissed);
    p->set_rx_errors(s.ierrors);
    p->set_tx_errors(s.oerrors);
  }
}

}  // namespace

void AddPolicyDenials(v1::Stats& out, const DesiredState& state, uint32_t worker,
                      const dp::PolicyDenyRing& ring) {
  const uint64_t written = ring.written;
  const uint64_t n = written < dp::PolicyDenyRing::kSize ? written : dp::PolicyDenyRing::kSize;
  for (uint64_t i = written - n; i < written; ++i) {
    const dp::PolicyDeny d = ring.entries[i % dp::PolicyDenyRing::kSize];
    v1::PolicyDenial* p = out.add_recent_policy_denials();
    p->set_worker(worker);
    const bool egress = d.direction == dp::PolicyDirection::kEgress;
    p->set_direction(egress ? v1::EGRESS : v1::INGRESS);
    if (const PodModel* pod = PodByIp(state, Ip4{egress ? d.src_ip : d.dst_ip})) {
      *p->mutable_pod() = PodKeyToProto(pod->key);
    }
    p->set_source_ip(Ip4{d.src_ip}.ToString());
    p->set_destination_ip(Ip4{d.dst_ip}.ToString());
    p->set_port(d.dst_port);
    p->set_ip_protocol(d.l4_proto);
  }
}


v1::Stats ReadStats(const DesiredState& state, const RuntimePorts& runtime,
                    const std::vector<WorkerRef>& workers, uint64_t generation) {
  v1::Stats out;
  out.set_generation(generation);
  if (runtime.uplink) AddPort(out, runtime.uplink->port_id, "uplink", "");
  if (runtime.host) AddPort(out, runtime.host->port_id, "host", "");
  for (const auto& [key, att] : state.attachments) AddPort(out, att.port_id, "pod", key.ToString());

  uint64_t drops[kDropReasonCount] = {};
  uint64_t events[kCounterCount] = {};
  for (size_t i = 0; i < workers.size(); ++i) {
    const dp::WorkerCounters& c = workers[i].worker->counters();
    v1::WorkerStats* w = out.add_workers();
    w->set_index(static_cast<uint32_t>(i));
    w->set_lcore(workers[i].lcore);
    w->set_rx_packets(c.rx_packets);
    w->set_tx_packets(c.tx_packets);
    uint64_t total = 0;
    for (uint8_t r = 0; r < kDropReasonCount; ++r) {
      drops[r] += c.drops[r];
      total += c.drops[r];
    }
    for (uint8_t e = 0; e < kCounterCount; ++e) events[e] += c.events[e];
    w->set_drops(total);
    w->set_generation(workers[i].worker->generation());
    w->set_busy_polls(c.busy_polls);
    w->set_idle_polls(c.idle_polls);
    w->set_sleeps(c.sleeps);
    w->set_busy_cycles(c.busy_cycles);
    AddPolicyDenials(out, state, static_cast<uint32_t>(i), c.policy_denies);
  }
  for (uint8_t r = 0; r < kDropReasonCount; ++r) {
    const auto reason = static_cast<DropReason>(r);
    if (DropReasonName(reason) == "unknown") continue;  // a number reserved but not (yet) used
    v1::DropCount* d = out.add_drops();
    d->set_reason(static_cast<v1::DropReason>(r));
    d->set_name(std::string(DropReasonName(reason)));
    d->set_packets(drops[r]);
    d->set_description(std::string(DropReasonText(reason)));
  }
  for (uint8_t e = 0; e < kCounterCount; ++e) {
    v1::EventCount* ev = out.add_events();
    ev->set_name(std::string(CounterName(static_cast<Counter>(e))));
    ev->set_value(events[e]);
  }
  return out;
}

}  // namespace nodeplane::ctl
