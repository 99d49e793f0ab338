// nodeplane-agent: keeps nodeplaned in step with the Kubernetes API (list/watch), or applies
// manifest files once (--from-manifests). See control/agent/README.md.
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "control/agent/agent.h"
#include "control/agent/kube_config.h"
#include "control/agent/manifests.h"

namespace {

using namespace nodeplane::agent;

std::atomic<bool> g_stop{false};

constexpr char kUsage[] = R"(usage: nodeplane-agent [flags]
       nodeplane-agent --from-manifests PATH [--from-manifests PATH ...] [flags]

Watch mode (default): lists and watches Namespaces, Pods, Services, EndpointSlices,
NetworkPolicies and Nodes and keeps nodeplaned in step (full sync on (re)connect, deltas after).

  --apiserver URL        the API server's real address (https://10.0.0.1:6443); overrides the
                         in-cluster/kubeconfig server, so the agent never depends on the
                         `kubernetes` Service VIP it programs itself
  --kubeconfig PATH      kubeconfig (token, tokenFile, client certificate/key, CA, server)
  --context NAME         kubeconfig context (default: current-context)
  --token-file PATH      bearer token file (re-read on every request)
  --ca-file PATH         CA bundle for the API server's certificate
                         (default: in-cluster service account, when KUBERNETES_SERVICE_HOST is set)
  --node-name NAME       this node ($NODE_NAME): its Node is SetNode, the others RemoteNodes
  --socket PATH          nodeplaned's socket (default /run/nodeplane/nodeplaned.sock)
  --kinds LIST           kinds pushed, comma-separated (default all: namespaces,pods,services,
                         endpointslices,networkpolicies,nodes)
  --watch-timeout S      timeoutSeconds of each watch (default 300)
  --probe-interval-ms N  how often nodeplaned is checked for a restart (default 1000)

Manifest mode: --from-manifests PATH (file or directory, repeatable) loads every document,
checks the whole set, applies it like `kubectl apply` (upserts only) and exits: 0 applied,
1 not applied (the error names file, document and field), 2 bad flags.
)";

struct Flags {
  std::string apiserver, kubeconfig, context, token_file, ca_file, socket = "/run/nodeplane/nodeplaned.sock";
  std::string node_name;
  std::vector<std::string> manifests;
  std::set<Kind> kinds{std::begin(kAllKinds), std::end(kAllKinds)};
  int watch_timeout = 300;
  int probe_ms = 1000;
};

int BadFlag(const std::string& msg) {
  std::cerr << "nodeplane-agent: " << msg << "\n(see --help)\n";
  return 2;
}

std::string ChannelTarget(const std::string& socket) {
  return socket.rfind("unix:", 0) == 0 ? socket : "unix:" + socket;
}

int RunManifests(const Flags& f, v1::Nodeplane::Stub& stub) {
  // Pods without an address in the manifests take the one nodeplaned already has.
  KnownPods known;
  v1::State daemon;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status gs = stub.GetState(&ctx, v1::GetStateRequest(), &daemon);
  if (!gs.ok()) {
    std::cerr << "nodeplane-agent: nodeplaned at " << f.socket << ": " << gs.error_message() << "\n";
    return 1;
  }
  for (const v1::Pod& p : daemon.pods()) {
    known[p.key().namespace_() + "/" + p.key().name()] =
        KnownPod{{p.ips().begin(), p.ips().end()}, p.node_name()};
  }
  auto set = LoadManifests(f.manifests, known);
  if (!set.ok()) {
    std::cerr << "nodeplane-agent: " << set.status().message() << "\n";
    return 1;
  }
  for (const std::string& n : set->notes) std::cout << n << "\n";
  PushOptions po;
  po.node_name = f.node_name;
  po.kinds = f.kinds;
  po.apply_only = true;
  Pusher pusher(stub, po);
  absl::Status s = pusher.Push(set->objects);
  if (!s.ok()) {
    std::cerr << "nodeplane-agent: nodeplaned refused the manifests (nothing of that call was "
                 "applied): " << s.message() << "\n";
    if (s.code() == absl::StatusCode::kUnimplemented) {
      std::cerr << "nodeplane-agent: this nodeplaned does not program that kind yet; "
                   "--kinds restricts what is pushed\n";
    }
    return 1;
  }
  std::cout << "applied, generation " << pusher.generation() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (const char* n = std::getenv("NODE_NAME")) f.node_name = n;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::string v;
    if (const size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);  // --flag=value, as Kubernetes manifests usually write it
      a = a.substr(0, eq);
    } else if (i + 1 >= argc) {
      return BadFlag("unknown flag or missing value: " + a);
    } else {
      v = argv[++i];
    }
    if (a == "--apiserver") f.apiserver = v;
    else if (a == "--kubeconfig") f.kubeconfig = v;
    else if (a == "--context") f.context = v;
    else if (a == "--token-file") f.token_file = v;
    else if (a == "--ca-file") f.ca_file = v;
    else if (a == "--node-name") f.node_name = v;
    else if (a == "--socket") f.socket = v;
    else if (a == "--from-manifests") f.manifests.push_back(v);
    else if (a == "--watch-timeout") f.watch_timeout = std::atoi(v.c_str());
    else if (a == "--probe-interval-ms") f.probe_ms = std::atoi(v.c_str());
    else if (a == "--kinds") {
      f.kinds.clear();
      for (absl::string_view k : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        auto kind = KindFromName(std::string(k));
        if (!kind) return BadFlag("--kinds: unknown kind \"" + std::string(k) + "\"");
        f.kinds.insert(*kind);
      }
    } else {
      return BadFlag("unknown flag: " + a);
    }
  }
  if (f.watch_timeout <= 0 || f.probe_ms <= 0) return BadFlag("--watch-timeout and --probe-interval-ms must be positive");

  auto channel = grpc::CreateChannel(ChannelTarget(f.socket), grpc::InsecureChannelCredentials());
  auto stub = v1::Nodeplane::NewStub(channel);
  if (!f.manifests.empty()) return RunManifests(f, *stub);

  absl::StatusOr<KubeConfig> config = absl::FailedPreconditionError("");
  if (!f.kubeconfig.empty()) {
    config = KubeconfigFile(f.kubeconfig, f.context);
  } else if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) {
    config = InClusterConfig();
  } else if (!f.apiserver.empty()) {
    config = KubeConfig{};
  } else {
    config = InClusterConfig();  // for its error message
  }
  if (!config.ok()) {
    std::cerr << "nodeplane-agent: " << config.status().message() << "\n";
    return 1;
  }
  if (!f.apiserver.empty()) config->server = f.apiserver;
  if (!f.token_file.empty()) config->token_file = f.token_file;
  if (!f.ca_file.empty()) {
    auto ca = ReadFile(f.ca_file);
    if (!ca.ok()) {
      std::cerr << "nodeplane-agent: --ca-file: " << ca.status().message() << "\n";
      return 1;
    }
    config->ca_pem = *ca;
  }
  if (f.node_name.empty()) {
    std::cerr << "nodeplane-agent: warning: no --node-name (or $NODE_NAME): nodes are left as "
                 "nodeplaned has them\n";
  }

  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  KubeClient client(*config);
  AgentOptions options;
  options.push.node_name = f.node_name;
  options.push.kinds = f.kinds;
  options.reflector.watch_timeout = std::chrono::seconds(f.watch_timeout);
  options.probe_interval = std::chrono::milliseconds(f.probe_ms);
  Agent agent(client, *stub, options);
  std::cerr << "nodeplane-agent: watching " << client.server() << ", nodeplaned at " << f.socket
            << "\n";
  agent.Run(g_stop);
  return 0;
}
