#include "control/agent/reflector.h"

#include <thread>

namespace nodeplane::agent {
namespace {

// A Status object's message, or the raw text when the body is not one.
std::string ApiMessage(const HttpResult& r) {
  if (!r.error.empty()) return r.error;
  std::string msg = "HTTP " + std::to_string(r.status);
  try {
    Json j = Json::parse(r.body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      return msg + ": " + j["message"].get<std::string>();
    }
  } catch (const Json::exception&) {
  }
  return msg + ": " + r.body.substr(0, 200);
}

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::string CollectionPath(Kind kind) {
  switch (kind) {
    case Kind::kNamespace: return "/api/v1/namespaces";
    case Kind::kPod: return "/api/v1/pods";
    case Kind::kService: return "/api/v1/services";
    case Kind::kEndpointSlice: return "/apis/discovery.k8s.io/v1/endpointslices";
    case Kind::kNetworkPolicy: return "/apis/networking.k8s.io/v1/networkpolicies";
    case Kind::kNode: return "/api/v1/nodes";
  }
  return "";
}

void Reflector::Fail(const std::string& message) {
  ++counters_.errors;
  sink_.OnApiError(kind_, message);
}

void Reflector::Backoff(const std::atomic<bool>& stop) {
  backoff_ = backoff_.count() == 0 ? options_.backoff_initial
                                   : std::min(backoff_ * 2, options_.backoff_max);
  const auto until = std::chrono::steady_clock::now() + backoff_;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Reflector::List(const std::atomic<bool>& stop) {
  std::vector<Json> items;
  std::string cont;
  std::string rv;
  do {
    std::string path = CollectionPath(kind_) + "?limit=" + std::to_string(options_.page_size);
    if (!cont.empty()) path += "&continue=" + Escape(cont);
    HttpResult r = client_.Get(path, std::chrono::seconds(60));
    if (stop.load()) return false;
    if (r.status != 200) {
      if (r.status == 410) ++counters_.gone;  // an expired continue token: list from the start
      Fail(std::string("list ") + CollectionPath(kind_) + ": " + ApiMessage(r));
      return false;
    }
    try {
      Json page = Json::parse(r.body);
      const Json& meta = page.at("metadata");
      rv = meta.at("resourceVersion").get<std::string>();
      cont = meta.contains("continue") && meta["continue"].is_string()
                 ? meta["continue"].get<std::string>() : "";
      if (page.contains("items") && !page["items"].is_null()) {
        for (const Json& item : page.at("items")) items.push_back(item);
      }
    } catch (const Json::exception& e) {
      Fail(std::string("list ") + CollectionPath(kind_) + ": malformed answer: " + e.what());
      return false;
    }
  } while (!cont.empty());
  rv_ = rv;
  ++counters_.lists;
  sink_.OnListed(kind_, items);
  return true;
}

Reflector::WatchEnd Reflector::Watch(const std::atomic<bool>& stop, bool* progressed) {
  const std::string path = CollectionPath(kind_) + "?watch=1&allowWatchBookmarks=true" +
                           "&resourceVersion=" + Escape(rv_) +
                           "&timeoutSeconds=" + std::to_string(options_.watch_timeout.count());
  ++counters_.watches;
  WatchEnd end = WatchEnd::kResume;
  std::string problem;
  auto on_line = [&](std::string_view line) {
    Json event;
    std::string type;
    try {
      event = Json::parse(line);
      type = event.at("type").get<std::string>();
      const Json& object = event.at("object");
      if (type == "ERROR") {
        const int code = object.value("code", 0);
        problem = "watch error " + std::to_string(code) + ": " + object.value("message", "");
        end = code == 410 ? WatchEnd::kGone : WatchEnd::kFailed;
        return false;
      }
      const std::string rv = object.at("metadata").at("resourceVersion").get<std::string>();
      if (type == "BOOKMARK") {
        ++counters_.bookmarks;
      } else if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
        sink_.OnEvent(kind_, type, object);
        ++counters_.events;
      } else {
        problem = "unknown watch event type \"" + type + "\"";
        end = WatchEnd::kFailed;
        return false;
      }
      rv_ = rv;
      *progressed = true;
      return true;
    } catch (const Json::exception& e) {
      // Resume from the last good resourceVersion: the server sends the lost event again.
      problem = std::string("malformed watch event: ") + e.what();
      end = WatchEnd::kFailed;
      return false;
    }
  };
  HttpResult r = client_.Stream(path, options_.watch_timeout + std::chrono::seconds(30), on_line,
                                &stop);
  if (stop.load()) return WatchEnd::kResume;
  if (r.status == 410) {
    problem = "watch: " + ApiMessage(r);
    end = WatchEnd::kGone;
  } else if (r.status != 200) {
    problem = "watch: " + ApiMessage(r);
    end = WatchEnd::kFailed;
  } else if (!r.error.empty() && end == WatchEnd::kResume) {
    problem = "watch: connection lost: " + r.error;
    end = WatchEnd::kFailed;
  }
  if (end == WatchEnd::kGone) ++counters_.gone;
  if (!problem.empty()) Fail(std::string(CollectionPath(kind_)) + " " + problem);
  return end;
}

void Reflector::Run(const std::atomic<bool>& stop) {
  bool listed = false;
  while (!stop.load()) {
    if (!listed) {
      listed = List(stop);
      if (!listed) {
        Backoff(stop);
        continue;
      }
      backoff_ = std::chrono::milliseconds(0);
    }
    bool progressed = false;
    switch (Watch(stop, &progressed)) {
      case WatchEnd::kResume:
        // The server ended the watch (timeoutSeconds): go on from where it was. A server that
        // keeps closing empty watches at once gets the backoff instead of a busy loop.
        if (progressed) {
          backoff_ = std::chrono::milliseconds(0);
        } else {
          Backoff(stop);
        }
        break;
      case WatchEnd::kGone:
        listed = false;
        break;
      case WatchEnd::kFailed:
        if (progressed) backoff_ = std::chrono::milliseconds(0);
        Backoff(stop);
        break;
    }
  }
}

}  // namespace nodeplane::agent
