#include "tests/conformance/netpol_runner.h"

#include <grpcpp/grpcpp.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "control/daemon/applier.h"
#include "control/server/nodeplane_service.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker_state.h"
#include "nodeplane/addr.h"

namespace nodeplane::conformance {
namespace {

constexpr const char* kNodeName = "conformance-node";
constexpr const char* kNodeAddress = "192.0.2.1/32";  // TEST-NET-1: no case uses it for a pod
constexpr uint8_t kGatewayMac[6] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
constexpr uint16_t kClientPortBase = 32768;  // the client's source port: base + its index

uint16_t Checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (len & 1) sum += uint32_t{p[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// A connection-opening packet: TCP SYN, a UDP datagram, or an SCTP INIT.
std::vector<uint8_t> OpeningFrame(const Mac& src_mac, Ip4 src, Ip4 dst, uint16_t sport,
                                  uint16_t dport, v1::Protocol proto) {
  std::vector<uint8_t> l4;
  uint8_t ip_proto = 6;
  switch (proto) {
    case v1::UDP:
      ip_proto = 17;
      l4.assign(8 + 4, 0);
      Put16(&l4[4], static_cast<uint16_t>(l4.size()));
      std::memcpy(&l4[8], "ping", 4);
      break;
    case v1::SCTP:
      ip_proto = 132;
      l4.assign(12 + 20, 0);
      l4[12] = 1;  // INIT chunk, 20 bytes: tag, a_rwnd, streams, initial TSN
      Put16(&l4[14], 20);
      l4[16] = 0x12;  // initiate tag (nonzero)
      Put16(&l4[20], 0x1000);
      Put16(&l4[24], 1);
      Put16(&l4[26], 1);
      l4[31] = 1;
      break;
    default:
      l4.assign(20, 0);
      l4[12] = 5 << 4;  // data offset
      l4[13] = 0x02;    // SYN
      Put16(&l4[14], 65535);
      l4[7] = 1;        // sequence number 1
      break;
  }
  Put16(&l4[0], sport);
  Put16(&l4[2], dport);
  std::vector<uint8_t> f(14 + 20 + l4.size(), 0);
  std::memcpy(&f[0], kGatewayMac, 6);
  std::memcpy(&f[6], src_mac.bytes.data(), 6);
  Put16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  Put16(&ip[2], static_cast<uint16_t>(20 + l4.size()));
  ip[8] = 64;
  ip[9] = ip_proto;
  std::memcpy(&ip[12], &src.be, 4);
  std::memcpy(&ip[16], &dst.be, 4);
  Put16(&ip[10], Checksum(ip, 20));
  std::memcpy(&f[34], l4.data(), l4.size());
  return f;
}

const char* ProtocolName(v1::Protocol p) {
  switch (p) {
    case v1::UDP:
      return "UDP";
    case v1::SCTP:
      return "SCTP";
    default:
      return "TCP";
  }
}

}  // namespace

struct NetpolRunner::Impl {
  rte_mempool* pool = nullptr;
  std::string file_prefix;
  std::unique_ptr<dp::Rcu> rcu;
  std::unique_ptr<dp::Published<dp::Snapshot>> published;
  std::unique_ptr<dp::Ports> ports;
  std::unique_ptr<ctl::Applier> applier;
  std::unique_ptr<ctl::NodeplaneService> service;
  std::unique_ptr<grpc::Server> server;
  std::string socket;
  std::unique_ptr<v1::Nodeplane::Stub> stub;
  std::unique_ptr<dp::WorkerState> worker = std::make_unique<dp::WorkerState>();
  struct Attached {
    std::string ip;
    v1::PodAttachment attachment;
  };
  std::map<std::string, Attached> attached;  // "ns/name" → what is attached, across cases

  ~Impl() {
    if (server) server->Shutdown();
    if (applier) applier->DetachAll();
    if (!socket.empty()) std::filesystem::remove(socket);
    applier.reset();
    ports.reset();
    published.reset();
    rcu.reset();
    if (pool != nullptr) {
      dp::StopEal();
      std::filesystem::remove_all("/var/run/dpdk/" + file_prefix);
    }
  }

  template <typename Req, typename Rep>
  grpc::Status Call(grpc::Status (v1::Nodeplane::Stub::*rpc)(grpc::ClientContext*, const Req&, Rep*),
                    const Req& req, Rep* rep) {
    grpc::ClientContext ctx;
    return (stub.get()->*rpc)(&ctx, req, rep);
  }

  // Frames the port has to offer (what was sent to it, as net_ring loops tx back to rx).
  std::vector<rte_mbuf*> Receive(uint16_t port) {
    std::vector<rte_mbuf*> out;
    rte_mbuf* pkts[dp::kBurstMax];
    uint16_t n;
    while ((n = rte_eth_rx_burst(port, 0, pkts, dp::kBurstMax)) != 0) out.insert(out.end(), pkts, pkts + n);
    return out;
  }
};

NetpolRunner::NetpolRunner() : impl_(std::make_unique<Impl>()) {}
NetpolRunner::~NetpolRunner() = default;

bool NetpolRunner::Start(std::string* error) {
  Impl& m = *impl_;
  m.file_prefix = "np-conformance-" + std::to_string(getpid());
  dp::EalConfig cfg{.program = "nodeplane-conformance", .lcores = "0",
                    .file_prefix = m.file_prefix, .memory_mb = 256, .force_no_huge = true};
  cfg.extra = {"--log-level=lib.eal:error", "--log-level=pmd.*:error"};
  dp::EalInfo info;
  if (!dp::StartEal(cfg, &info, error)) return false;
  m.pool = dp::CreatePacketPool(8191, error);
  if (m.pool == nullptr) return false;
  m.rcu = std::make_unique<dp::Rcu>(1);
  m.published = std::make_unique<dp::Published<dp::Snapshot>>(*m.rcu);
  m.ports = std::make_unique<dp::Ports>(m.pool, 1);
  m.applier = std::make_unique<ctl::Applier>(*m.ports, *m.published,
                                             ctl::RuntimePorts{.worker_count = 1}, "none",
                                             ctl::PodPortType::kRing);
  if (absl::Status s = m.applier->Start(); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  m.service = std::make_unique<ctl::NodeplaneService>(*m.applier, ctl::DaemonInfo{.version = "conformance"});
  m.socket = (std::filesystem::temp_directory_path() / (m.file_prefix + ".sock")).string();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + m.socket, grpc::InsecureServerCredentials());
  builder.RegisterService(m.service.get());
  m.server = builder.BuildAndStart();
  if (!m.server) {
    *error = "cannot listen on unix:" + m.socket;
    return false;
  }
  m.stub = v1::Nodeplane::NewStub(
      grpc::CreateChannel("unix:" + m.socket, grpc::InsecureChannelCredentials()));
  return true;
}

bool NetpolRunner::Run(const Case& c, std::ostream& out) {
  Impl& m = *impl_;
  const std::string where = "case " + c.id;
  auto fail = [&](const std::string& what, const grpc::Status& st) {
    out << where << ": " << what << ": " << st.error_message() << "\n";
    return false;
  };
  v1::WriteReply reply;
  // A clean slate, keeping the ports of pods that come back with the same address (net_ring
  // devices are cheap to keep and costly to churn): the others are detached, the state replaced,
  // then the new pods attached.
  std::map<std::string, Ip4> ip_of;
  std::set<std::string> cidrs;
  for (const CasePod& p : c.pods) {
    const auto ip = Ip4::Parse(p.ip);
    if (!ip) {
      out << where << ": pod " << p.Id() << ": bad ip " << p.ip << "\n";
      return false;
    }
    ip_of[p.Id()] = *ip;
    cidrs.insert(Ip4Prefix{Ip4::FromHost(ip->host() & 0xffffff00u), 24}.ToString());
  }
  std::map<std::string, v1::PodAttachment> att;
  for (auto it = m.attached.begin(); it != m.attached.end();) {
    const std::string id = it->first;
    const auto want = ip_of.find(id);
    if (want != ip_of.end() && want->second.ToString() == it->second.ip) {
      att[id] = it->second.attachment;
      ++it;
      continue;
    }
    v1::DetachPodRequest req;
    *req.mutable_key() = it->second.attachment.key();
    if (auto st = m.Call(&v1::Nodeplane::Stub::DetachPod, req, &reply); !st.ok()) {
      return fail("DetachPod " + id, st);
    }
    it = m.attached.erase(it);
  }
  auto pod_proto = [&](const CasePod& p, v1::Pod* pod) {
    pod->mutable_key()->set_namespace_(p.ns);
    pod->mutable_key()->set_name(p.name);
    pod->add_ips(p.ip);
    pod->set_node_name(kNodeName);
    for (const auto& [k, v] : p.labels) (*pod->mutable_labels())[k] = v;
    for (const v1::ContainerPort& cp : p.ports) *pod->add_ports() = cp;
  };
  v1::SyncStateRequest sync;
  v1::State& state = *sync.mutable_state();
  state.mutable_node()->set_name(kNodeName);
  state.mutable_node()->add_addresses(kNodeAddress);
  for (const std::string& cidr : cidrs) state.mutable_node()->add_pod_cidrs(cidr);
  for (const auto& [name, labels] : c.namespaces) {
    v1::Namespace* ns = state.add_namespaces();
    ns->set_name(name);
    for (const auto& [k, v] : labels) (*ns->mutable_labels())[k] = v;
  }
  for (const CasePod& p : c.pods) {
    if (att.contains(p.Id())) pod_proto(p, state.add_pods());
  }
  if (auto st = m.Call(&v1::Nodeplane::Stub::SyncState, sync, &reply); !st.ok()) {
    return fail("SyncState", st);
  }
  std::map<std::string, CasePod> pods;
  std::map<uint32_t, std::string> pod_by_ip;
  for (const CasePod& p : c.pods) {
    pods[p.Id()] = p;
    pod_by_ip[ip_of[p.Id()].be] = p.Id();
    if (att.contains(p.Id())) continue;
    v1::AttachPodRequest req;
    req.mutable_key()->set_namespace_(p.ns);
    req.mutable_key()->set_name(p.name);
    req.set_netns("/conformance/" + p.Id());
    req.add_ips(p.ip);
    for (const auto& [k, v] : p.labels) (*req.mutable_labels())[k] = v;
    for (const v1::ContainerPort& cp : p.ports) *req.add_ports() = cp;
    v1::AttachPodReply r;
    if (auto st = m.Call(&v1::Nodeplane::Stub::AttachPod, req, &r); !st.ok()) {
      return fail("AttachPod " + p.Id(), st);
    }
    m.attached[p.Id()] = Impl::Attached{p.ip, r.attachment()};
    att[p.Id()] = r.attachment();
  }

  bool passed = true;
  for (size_t s = 0; s < c.steps.size(); ++s) {
    const Step& step = c.steps[s];
    const std::string at = where + " step " + std::to_string(s + 1);
    for (const Action& a : step.actions) {
      grpc::Status st;
      switch (a.kind) {
        case Action::Kind::kCreate:
        case Action::Kind::kUpdate: {
          v1::UpsertNetworkPoliciesRequest req;
          *req.add_network_policies() = a.policy;
          st = m.Call(&v1::Nodeplane::Stub::UpsertNetworkPolicies, req, &reply);
          break;
        }
        case Action::Kind::kDelete: {
          v1::DeleteNetworkPoliciesRequest req;
          *req.add_keys() = a.key;
          st = m.Call(&v1::Nodeplane::Stub::DeleteNetworkPolicies, req, &reply);
          break;
        }
        case Action::Kind::kSetPodLabels: {
          auto it = pods.find(a.target);
          if (it == pods.end()) {
            out << at << ": setPodLabels: no pod " << a.target << "\n";
            return false;
          }
          it->second.labels = a.labels;
          v1::UpsertPodsRequest req;
          pod_proto(it->second, req.add_pods());
          st = m.Call(&v1::Nodeplane::Stub::UpsertPods, req, &reply);
          break;
        }
        case Action::Kind::kSetNamespaceLabels: {
          v1::UpsertNamespacesRequest req;
          v1::Namespace* ns = req.add_namespaces();
          ns->set_name(a.target);
          for (const auto& [k, v] : a.labels) (*ns->mutable_labels())[k] = v;
          st = m.Call(&v1::Nodeplane::Stub::UpsertNamespaces, req, &reply);
          break;
        }
      }
      if (!st.ok()) return fail(at + " action", st);
    }
    for (const Probe& probe : step.probes) {
      const std::string probe_name =
          std::string(ProtocolName(probe.protocol)) + "/" + std::to_string(probe.port);
      // Every ordered pair of distinct pods: one packet each, all in flight together.
      std::map<std::string, uint16_t> client_index;
      for (const auto& [id, p] : pods) client_index[id] = static_cast<uint16_t>(client_index.size());
      for (const auto& [client, ca] : att) {
        const Mac mac = *Mac::Parse(ca.mac());
        std::vector<rte_mbuf*> burst;
        for (const auto& [server, sa] : att) {
          if (server == client) continue;
          const auto f = OpeningFrame(mac, ip_of[client], ip_of[server],
                                      static_cast<uint16_t>(kClientPortBase + client_index[client]),
                                      probe.port, probe.protocol);
          rte_mbuf* mb = rte_pktmbuf_alloc(m.pool);
          std::memcpy(rte_pktmbuf_append(mb, static_cast<uint16_t>(f.size())), f.data(), f.size());
          burst.push_back(mb);
        }
        const uint16_t sent = rte_eth_tx_burst(static_cast<uint16_t>(ca.port_id()), 0, burst.data(),
                                               static_cast<uint16_t>(burst.size()));
        for (size_t i = sent; i < burst.size(); ++i) rte_pktmbuf_free(burst[i]);
      }
      // The worker's part: what each pod sent, through the pipeline of the running snapshot.
      // Every port's frames are taken first: net_ring loops a port's transmit back to its
      // receive, so what the pipeline delivers to a pod must not be read as that pod's own.
      const dp::Snapshot& snap = *m.published->Get();
      std::map<std::string, std::vector<rte_mbuf*>> sent_by;
      for (const auto& [client, ca] : att) {
        sent_by[client] = m.Receive(static_cast<uint16_t>(ca.port_id()));
      }
      for (const auto& [client, ca] : att) {
        std::vector<rte_mbuf*>& rx = sent_by[client];
        for (size_t i = 0; i < rx.size(); i += dp::kBurstMax) {
          dp::Burst b;
          for (size_t j = i; j < rx.size() && b.n < dp::kBurstMax; ++j) {
            rx[j]->port = static_cast<uint16_t>(ca.port_id());
            b.pkts[b.n++] = rx[j];
          }
          dp::RunPipeline(snap, *m.worker, b);
        }
      }
      // What reached each server pod.
      std::set<std::pair<std::string, std::string>> delivered;
      for (const auto& [server, sa] : att) {
        for (rte_mbuf* mb : m.Receive(static_cast<uint16_t>(sa.port_id()))) {
          const uint8_t* f = rte_pktmbuf_mtod(mb, const uint8_t*);
          if (mb->data_len >= 38) {
            uint32_t src_be, dst_be;
            std::memcpy(&src_be, f + 26, 4);
            std::memcpy(&dst_be, f + 30, 4);
            const uint16_t dport = static_cast<uint16_t>((f[36] << 8) | f[37]);
            auto client = pod_by_ip.find(src_be);
            if (client != pod_by_ip.end() && dst_be == ip_of[server].be && dport == probe.port) {
              delivered.insert({client->second, server});
            }
          }
          rte_pktmbuf_free(mb);
        }
      }
      for (const auto& [pair, allowed] : probe.expected) {
        if (!pods.contains(pair.first) || !pods.contains(pair.second)) {
          out << at << " probe " << probe_name << ": matrix names unknown pod " << pair.first
              << " or " << pair.second << "\n";
          passed = false;
          continue;
        }
        const bool got = delivered.contains(pair);
        if (got != allowed) {
          out << at << " probe " << probe_name << ": " << pair.first << " -> " << pair.second
              << ": expected " << (allowed ? "allowed" : "denied") << ", got "
              << (got ? "allowed" : "denied") << "\n";
          passed = false;
        }
      }
    }
  }
  return passed;
}

}  // namespace nodeplane::conformance
