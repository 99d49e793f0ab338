// HTTP(S) to the API server (libcurl): GET for lists, a streamed GET for watches. Every request
// reads the bearer token file again, so a rotated service-account token is picked up on the next
// request (kubelet rewrites it about hourly).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "control/agent/kube_config.h"

namespace nodeplane::agent {

struct HttpResult {
  long status = 0;        // HTTP status; 0 when the transfer failed
  std::string body;       // whole body (Get), or the body of a non-200 answer (Stream)
  std::string error;      // transport error ("" when the server answered)
  bool stopped = false;   // the caller's stop flag or on_line ended the transfer
};

class KubeClient {
 public:
  explicit KubeClient(KubeConfig config);

  HttpResult Get(const std::string& path, std::chrono::seconds timeout) const;
  // Streams a 200 answer line by line into on_line (which returns false to stop). A final line
  // without its newline (a stream cut mid-object) is not delivered.
  HttpResult Stream(const std::string& path, std::chrono::seconds timeout,
                    const std::function<bool(std::string_view)>& on_line,
                    const std::atomic<bool>* stop) const;

  const std::string& server() const { return config_.server; }

 private:
  HttpResult Run(const std::string& path, std::chrono::seconds timeout,
                 const std::function<bool(std::string_view)>* on_line,
                 const std::atomic<bool>* stop) const;
  std::string Token() const;

  KubeConfig config_;
};

}  // namespace nodeplane::agent
