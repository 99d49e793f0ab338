// The health-check node port over a real socket on loopback: 200 with a local ready endpoint,
// 503 without, kube-proxy's JSON body, and the port closed once the Service no longer needs it.
#include "control/daemon/health_check_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace nodeplane::ctl {
namespace {

// A port nothing listens on now, in the NodePort range.
uint16_t FreePort() {
  for (uint16_t p = static_cast<uint16_t>(30000 + getpid() % 2000); p < 32767; ++p) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(p);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (free) return p;
  }
  return 0;
}

// GET /healthz on 127.0.0.1:port; "" when the connection is refused.
std::string Get(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(HealthCheckServer, AnswersWithTheLocalEndpointCount) {
  const uint16_t port = FreePort();
  ASSERT_NE(port, 0);
  HealthCheckServer server;
  ASSERT_TRUE(server.Update({{{"default", "web"}, port, 2}}).ok());
  std::string r = Get(port);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("X-Load-Balancing-Endpoint-Weight: 2\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find(
                R"({"service":{"namespace":"default","name":"web"},"localEndpoints":2,"serviceProxyHealthy":true})"),
            std::string::npos)
      << r;
  // The last local endpoint goes (or is only terminating): 503, same port.
  ASSERT_TRUE(server.Update({{{"default", "web"}, port, 0}}).ok());
  r = Get(port);
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << r;
  EXPECT_NE(r.find(R"("localEndpoints":0)"), std::string::npos) << r;
  // The Service is gone: nothing listens any more.
  ASSERT_TRUE(server.Update({}).ok());
  EXPECT_TRUE(server.ports().empty());
  EXPECT_EQ(Get(port), "");
}

TEST(HealthCheckServer, APortInUseIsReportedAndTheOthersStillServe) {
  const uint16_t taken = FreePort();
  const int blocker = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(taken);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(blocker, 1), 0);
  HealthCheckServer server;
  uint16_t other = FreePort();
  if (other == taken) other = static_cast<uint16_t>(taken + 1);
  const absl::Status s = server.Update({{{"a", "x"}, taken, 1}, {{"b", "y"}, other, 1}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("a/x"), std::string::npos) << s.message();
  EXPECT_EQ(Get(other).rfind("HTTP/1.1 200 OK", 0), 0u);
  close(blocker);
}

}  // namespace
}  // namespace nodeplane::ctl
