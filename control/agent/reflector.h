// One kind's list+watch loop, the Kubernetes protocol as client-go's Reflector speaks it:
//   list (paged, `limit`/`continue`) → hand the complete set over → watch from the list's
//   resourceVersion with allowWatchBookmarks=true → ADDED/MODIFIED/DELETED events, BOOKMARKs move
//   the resume point → the watch ends (server timeout, dropped connection, a malformed or cut
//   event) → watch again from the last resourceVersion seen, after a backoff when it failed →
//   410 Gone (HTTP or an ERROR event) → list again.
// resourceVersions are opaque: stored and sent back, never compared.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "control/agent/kube_client.h"
#include "control/agent/translate.h"

namespace nodeplane::agent {

// Receives what the reflectors learn (from their threads).
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // A complete list of the kind.
  virtual void OnListed(Kind kind, const std::vector<Json>& items) = 0;
  // One watch event: type "ADDED", "MODIFIED" or "DELETED".
  virtual void OnEvent(Kind kind, const std::string& type, const Json& object) = 0;
  // Something went wrong talking to the API server (the reflector retries by itself).
  virtual void OnApiError(Kind kind, const std::string& message) = 0;
};

struct ReflectorOptions {
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
  // timeoutSeconds of each watch: the server ends it then and the reflector resumes.
  std::chrono::seconds watch_timeout{300};
  // limit of each list page.
  int page_size = 500;
};

struct ReflectorCounters {
  std::atomic<uint64_t> lists{0};          // complete lists handed over
  std::atomic<uint64_t> watches{0};        // watch requests started
  std::atomic<uint64_t> events{0};         // ADDED/MODIFIED/DELETED delivered
  std::atomic<uint64_t> bookmarks{0};
  std::atomic<uint64_t> gone{0};           // 410s (each leads to a relist)
  std::atomic<uint64_t> errors{0};         // failed requests and malformed events
};

// The collection path of a kind, e.g. "/apis/discovery.k8s.io/v1/endpointslices".
std::string CollectionPath(Kind kind);

class Reflector {
 public:
  Reflector(const KubeClient& client, Kind kind, ReflectorSink& sink, ReflectorOptions options)
      : client_(client), kind_(kind), sink_(sink), options_(options) {}

  // Runs until `stop` is set.
  void Run(const std::atomic<bool>& stop);

  const ReflectorCounters& counters() const { return counters_; }
  // The resume point; read it only once Run has returned.
  std::string resource_version() const { return rv_; }

 private:
  enum class WatchEnd { kResume, kFailed, kGone };
  // Lists everything; false after an error (reported).
  bool List(const std::atomic<bool>& stop);
  WatchEnd Watch(const std::atomic<bool>& stop, bool* progressed);
  void Fail(const std::string& message);
  // Sleeps for the current backoff (doubling it), or less when stopped.
  void Backoff(const std::atomic<bool>& stop);

  const KubeClient& client_;
  const Kind kind_;
  ReflectorSink& sink_;
  const ReflectorOptions options_;
  ReflectorCounters counters_;
  std::chrono::milliseconds backoff_{0};
  std::string rv_;
};

}  // namespace nodeplane::agent
