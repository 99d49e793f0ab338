#include "control/daemon/health_check_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"

namespace nodeplane::ctl {
namespace {

int Listen(uint16_t port, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

// JSON string contents: Kubernetes names need no escaping, but be safe.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

HealthCheckServer::HealthCheckServer() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { Loop(); });
}

HealthCheckServer::~HealthCheckServer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  for (auto& [port, l] : listeners_) close(l.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void HealthCheckServer::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
}

std::string HealthCheckServer::Response(const Entry& e) {
  const std::string body =
      absl::StrCat(R"({"service":{"namespace":")", Escape(e.service.ns), R"(","name":")",
                   Escape(e.service.name), R"("},"localEndpoints":)", e.local_endpoints,
                   R"(,"serviceProxyHealthy":true})");
  const bool ok = e.local_endpoints > 0;
  return absl::StrCat("HTTP/1.1 ", ok ? "200 OK" : "503 Service Unavailable", "\r\n",
                      "Content-Type: application/json\r\n",
                      "X-Content-Type-Options: nosniff\r\n",
                      "X-Load-Balancing-Endpoint-Weight: ", e.local_endpoints, "\r\n",
                      "Content-Length: ", body.size(), "\r\n", "Connection: close\r\n\r\n", body);
}

absl::Status HealthCheckServer::Update(const std::vector<Entry>& entries) {
  std::string failed;
  {
    std::lock_guard lock(mu_);
    std::set<uint16_t> wanted;
    for (const Entry& e : entries) {
      wanted.insert(e.port);
      auto it = listeners_.find(e.port);
      if (it != listeners_.end()) {
        it->second.entry = e;
        continue;
      }
      std::string error;
      const int fd = Listen(e.port, &error);
      if (fd < 0) {
        absl::StrAppend(&failed, failed.empty() ? "" : "; ", "port ", e.port, " (",
                        e.service.ToString(), "): ", error);
        continue;
      }
      listeners_[e.port] = Listener{fd, e};
    }
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (wanted.contains(it->first)) {
        ++it;
        continue;
      }
      close(it->second.fd);
      it = listeners_.erase(it);
    }
  }
  Wake();
  if (!failed.empty()) return absl::UnavailableError("health-check node ports: " + failed);
  return absl::OkStatus();
}

std::vector<uint16_t> HealthCheckServer::ports() const {
  std::lock_guard lock(mu_);
  std::vector<uint16_t> out;
  for (const auto& [port, l] : listeners_) out.push_back(port);
  return out;
}

void HealthCheckServer::Loop() {
  for (;;) {
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
    std::vector<uint16_t> ports{0};
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      for (const auto& [port, l] : listeners_) {
        fds.push_back({l.fd, POLLIN, 0});
        ports.push_back(port);
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      uint64_t n;
      (void)!read(wake_fd_, &n, sizeof(n));
      continue;  // the listener set may have changed: rebuild before touching any fd
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      std::string response;
      int conn;
      {
        std::lock_guard lock(mu_);
        auto it = listeners_.find(ports[i]);
        if (it == listeners_.end() || it->second.fd != fds[i].fd) continue;
        conn = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) continue;
        response = Response(it->second.entry);
      }
      // Read the request (any path answers the same), briefly; then answer and close.
      timeval tv{1, 0};
      setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      char buf[2048];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
        const ssize_t got = recv(conn, buf, sizeof(buf), 0);
        if (got <= 0) break;
        request.append(buf, static_cast<size_t>(got));
      }
      (void)!send(conn, response.data(), response.size(), MSG_NOSIGNAL);
      close(conn);
    }
  }
}

}  // namespace nodeplane::ctl
