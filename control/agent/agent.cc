#include "control/agent/agent.h"

#include <ctime>
#include <iostream>
#include <thread>

namespace nodeplane::agent {

Agent::Agent(const KubeClient& client, v1::Nodeplane::StubInterface& stub, AgentOptions options)
    : client_(client), options_(std::move(options)), pusher_(stub, options_.push) {
  for (Kind kind : kAllKinds) {
    if (!options_.push.kinds.contains(kind)) continue;
    reflectors_.push_back(std::make_unique<Reflector>(client_, kind, *this, options_.reflector));
  }
}

Agent::~Agent() = default;

void Agent::Log(const std::string& line) {
  if (options_.log) {
    options_.log(line);
    return;
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::cerr << stamp << " " << line << std::endl;
}

const ReflectorCounters* Agent::counters(Kind kind) const {
  size_t i = 0;
  for (Kind k : kAllKinds) {
    if (!options_.push.kinds.contains(k)) continue;
    if (k == kind) return &reflectors_[i]->counters();
    ++i;
  }
  return nullptr;
}

void Agent::OnListed(Kind kind, const std::vector<Json>& items) {
  std::vector<absl::Status> errors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    errors = state_.Replace(kind, items);
    listed_.insert(kind);
    dirty_ = true;
  }
  changed_.notify_one();
  Log(std::string("listed ") + std::to_string(items.size()) + " " + KindName(kind) + " objects");
  for (const absl::Status& e : errors) Log("ignored (previous version kept): " + std::string(e.message()));
}

void Agent::OnEvent(Kind kind, const std::string& type, const Json& object) {
  absl::Status s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = type == "DELETED" ? state_.Delete(kind, object) : state_.Upsert(kind, object);
    dirty_ = true;
  }
  changed_.notify_one();
  if (!s.ok()) Log("ignored (previous version kept): " + std::string(s.message()));
}

void Agent::OnApiError(Kind kind, const std::string& message) {
  Log(std::string("API server (") + KindName(kind) + "): " + message + " (retrying)");
}

void Agent::PushLoop(const std::atomic<bool>& stop) {
  bool failing = false;
  while (!stop.load()) {
    KubeObjects snapshot;
    bool complete = false;
    bool dirty = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait_for(lock, options_.probe_interval, [&] { return dirty_ || stop.load(); });
      if (stop.load()) break;
      complete = listed_.size() == reflectors_.size();
      if (complete) {
        // The snapshot and the flag together: a change after this sets the flag again.
        snapshot = state_.objects();
        dirty = dirty_;
        dirty_ = false;
      }
    }
    if (!complete) continue;
    // A restarted nodeplaned has nothing: the probe turns the next push into a full sync.
    const bool needed = pusher_.Probe();
    if (!dirty && !needed && !failing) continue;
    const uint64_t syncs = pusher_.full_syncs();
    absl::Status s = pusher_.Push(snapshot);
    ++pushes_;
    if (!s.ok()) {
      if (!failing) Log("nodeplaned: " + std::string(s.message()) + " (will retry)");
      failing = true;
      continue;
    }
    if (failing) Log("nodeplaned: in sync again");
    failing = false;
    if (pusher_.full_syncs() != syncs) {
      ++full_syncs_;
      Log("nodeplaned: full sync, generation " + std::to_string(pusher_.generation()));
    }
  }
}

void Agent::Run(const std::atomic<bool>& stop) {
  std::vector<std::thread> threads;
  for (auto& r : reflectors_) {
    threads.emplace_back([&r, &stop] { r->Run(stop); });
  }
  PushLoop(stop);
  changed_.notify_all();
  for (std::thread& t : threads) t.join();
}

}  // namespace nodeplane::agent
