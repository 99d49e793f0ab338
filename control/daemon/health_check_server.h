// HealthCheckServer: kube-proxy's health-check node ports. For each LoadBalancer/NodePort Service
// with externalTrafficPolicy Local and a healthCheckNodePort, nodeplaned answers HTTP on that port
// (any path) so a cloud load balancer sends traffic only to nodes with a local endpoint:
// 200 when this node has at least one ready local endpoint, else 503, with kube-proxy's body
//   {"service":{"namespace":"..","name":".."},"localEndpoints":N,"serviceProxyHealthy":true}
// and header X-Load-Balancing-Endpoint-Weight: N. It runs in the control process on the host
// stack (the node's addresses sit on the exception port), never in the dataplane: one thread,
// poll() over the listening sockets, one short request per connection.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "control/model/service_model.h"

namespace nodeplane::ctl {

class HealthCheckServer {
 public:
  struct Entry {
    ServiceKey service;
    uint16_t port = 0;
    uint32_t local_endpoints = 0;  // ready endpoints on this node
  };

  HealthCheckServer();
  ~HealthCheckServer();
  HealthCheckServer(const HealthCheckServer&) = delete;
  HealthCheckServer& operator=(const HealthCheckServer&) = delete;

  // Serves exactly these ports from now on: opens new listeners, closes the ports no longer
  // listed, updates the counts. A port that cannot be bound is reported (the others still apply).
  absl::Status Update(const std::vector<Entry>& entries);
  // The ports listening now (tests, reads).
  std::vector<uint16_t> ports() const;

  // The HTTP response for one Service (exposed for tests).
  static std::string Response(const Entry& e);

 private:
  struct Listener {
    int fd = -1;
    Entry entry;
  };
  void Loop();
  void Wake();

  mutable std::mutex mu_;
  std::map<uint16_t, Listener> listeners_;  // guarded by mu_
  int wake_fd_ = -1;                        // eventfd: the set of listeners changed, or stop
  bool stop_ = false;                       // guarded by mu_
  std::thread thread_;
};

}  // namespace nodeplane::ctl
