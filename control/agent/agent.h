// nodeplane-agent's watch mode: one Reflector thread per kind feeds the KubeState; one push loop
// brings nodeplaned to it. Nothing is pushed before every kind has been listed once (a partial
// view would delete what the other kinds still need), and an API server that fails or answers
// garbage only stops updates: nodeplaned keeps the last good state.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "control/agent/kube_state.h"
#include "control/agent/pusher.h"
#include "control/agent/reflector.h"

namespace nodeplane::agent {

struct AgentOptions {
  PushOptions push;
  ReflectorOptions reflector;
  // How often nodeplaned is asked whether it restarted (and a failed push is retried).
  std::chrono::milliseconds probe_interval{1000};
  // Where log lines go (stderr by default).
  std::function<void(const std::string&)> log;
};

class Agent final : public ReflectorSink {
 public:
  Agent(const KubeClient& client, v1::Nodeplane::StubInterface& stub, AgentOptions options);
  ~Agent() override;

  // Runs until `stop` is set.
  void Run(const std::atomic<bool>& stop);

  // For tests: counters of one kind's reflector (kinds not watched have none), and pushes.
  const ReflectorCounters* counters(Kind kind) const;
  uint64_t full_syncs() const { return full_syncs_.load(); }
  uint64_t pushes() const { return pushes_.load(); }

  void OnListed(Kind kind, const std::vector<Json>& items) override;
  void OnEvent(Kind kind, const std::string& type, const Json& object) override;
  void OnApiError(Kind kind, const std::string& message) override;

 private:
  void Log(const std::string& line);
  void PushLoop(const std::atomic<bool>& stop);

  const KubeClient& client_;
  AgentOptions options_;
  Pusher pusher_;
  std::vector<std::unique_ptr<Reflector>> reflectors_;

  std::mutex mu_;
  std::condition_variable changed_;
  KubeState state_;          // guarded by mu_
  std::set<Kind> listed_;    // guarded by mu_
  bool dirty_ = false;       // guarded by mu_

  std::atomic<uint64_t> full_syncs_{0};
  std::atomic<uint64_t> pushes_{0};
};

}  // namespace nodeplane::agent
