// nodeplanectl conntrack: what the arguments send, the table a person reads, and the JSON a
// script reads, against an in-process fake daemon on a private unix socket.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <sstream>

#include "control/cli/args.h"
#include "control/cli/commands.h"
#include "control/cli/conntrack_format.h"
#include "nodeplane/v1/nodeplane.grpc.pb.h"

namespace nodeplane::cli {
namespace {

using ::testing::HasSubstr;

TEST(ConntrackArgs, ListIsTheDefaultAndFiltersAreSent) {
  auto inv = ParseArgs({"conntrack"}, nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kConntrackList);
  inv = ParseArgs({"conntrack", "list", "--src", "10.244.1.5", "--dst", "10.96.0.10", "--proto",
                   "udp", "--port", "53"},
                  nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  const v1::ConntrackFilter& f = inv->list_conntrack.filter();
  EXPECT_EQ(f.source(), "10.244.1.5");
  EXPECT_EQ(f.destination(), "10.96.0.10");
  EXPECT_EQ(f.protocol(), v1::CONNTRACK_PROTOCOL_UDP);
  EXPECT_EQ(f.port(), 53u);
  inv = ParseArgs({"conntrack", "flush", "--proto", "tcp"}, nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kConntrackFlush);
  EXPECT_EQ(inv->flush_conntrack.filter().protocol(), v1::CONNTRACK_PROTOCOL_TCP);
}

TEST(ConntrackArgs, UsageErrors) {
  auto inv = ParseArgs({"conntrack", "drop"}, nullptr);
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("unknown subcommand \"drop\""));
  inv = ParseArgs({"conntrack", "--proto", "gre"}, nullptr);
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("--proto: unknown protocol \"gre\""));
  inv = ParseArgs({"conntrack", "flush", "--port", "70000"}, nullptr);
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("--port: 70000 outside 1-65535"));
  inv = ParseArgs({"conntrack", "--name", "x"}, nullptr);
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("does not apply"));
}

v1::ListConntrackReply SampleConnections() {
  v1::ListConntrackReply r;
  auto* c = r.add_connections();
  c->set_protocol(v1::CONNTRACK_PROTOCOL_TCP);
  c->mutable_original()->set_source("10.244.1.5");
  c->mutable_original()->set_source_port(40000);
  c->mutable_original()->set_destination("10.96.0.10");
  c->mutable_original()->set_destination_port(80);
  c->mutable_reply()->set_source("10.244.1.7");
  c->mutable_reply()->set_source_port(8080);
  c->mutable_reply()->set_destination("10.244.1.5");
  c->mutable_reply()->set_destination_port(40000);
  c->set_state("ESTABLISHED");
  c->set_expires_in_ms(431999500);
  r.set_total(3);
  r.set_capacity(258048);
  r.set_expired(5);
  r.set_flushed(2);
  return r;
}

TEST(ConntrackFormat, TableShowsBothTuples) {
  // Columns: the widest cell plus three spaces; EXPIRES right-aligned.
  EXPECT_EQ(FormatConntrack(SampleConnections()),
            "PROTO   ORIGINAL                            REPLY           "
            "                      STATE         EXPIRES\n"
            "tcp     10.244.1.5:40000 -> 10.96.0.10:80   10.244.1.7:8080 "
            "-> 10.244.1.5:40000   ESTABLISHED   432000s\n"
            "1 of 3 connections (capacity 258048); 5 expired, 2 flushed since start\n");
}

class FakeConntrack final : public v1::Nodeplane::Service {
 public:
  grpc::Status ListConntrack(grpc::ServerContext*, const v1::ListConntrackRequest* req,
                             v1::ListConntrackReply* reply) override {
    if (req->filter().source() == "10.0.0") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "filter.source: not an IPv4 address: \"10.0.0\"");
    }
    *reply = SampleConnections();
    return grpc::Status::OK;
  }
  grpc::Status FlushConntrack(grpc::ServerContext*, const v1::FlushConntrackRequest* req,
                              v1::FlushConntrackReply* reply) override {
    std::lock_guard lock(mu_);
    last_flush_ = *req;
    reply->set_removed(2);
    return grpc::Status::OK;
  }
  v1::FlushConntrackRequest last_flush() {
    std::lock_guard lock(mu_);
    return last_flush_;
  }

 private:
  std::mutex mu_;
  v1::FlushConntrackRequest last_flush_;
};

class ConntrackCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nodeplanectl-ct-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "np.sock").string();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int RunArgs(std::vector<std::string> args, std::string* out, std::string* err) {
    args.insert(args.begin(), {"--socket", socket_});
    auto inv = ParseArgs(args, nullptr);
    EXPECT_TRUE(inv.ok()) << inv.status();
    std::ostringstream o, e;
    const int code = ::nodeplane::cli::Run(*inv, o, e);
    *out = o.str();
    *err = e.str();
    return code;
  }

  std::filesystem::path dir_;
  std::string socket_;
  FakeConntrack service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ConntrackCli, ListTableAndJson) {
  std::string out, err;
  EXPECT_EQ(RunArgs({"conntrack"}, &out, &err), kExitOk);
  EXPECT_EQ(out, FormatConntrack(SampleConnections()));
  EXPECT_EQ(RunArgs({"conntrack", "list", "-o", "json"}, &out, &err), kExitOk);
  EXPECT_THAT(out, HasSubstr("\"state\":\"ESTABLISHED\""));
  EXPECT_THAT(out, HasSubstr("\"destination\":\"10.96.0.10\""));
}

TEST_F(ConntrackCli, DaemonErrorIsReportedWithTheField) {
  std::string out, err;
  EXPECT_EQ(RunArgs({"conntrack", "--src", "10.0.0"}, &out, &err), kExitFailure);
  EXPECT_THAT(err, HasSubstr("filter.source: not an IPv4 address"));
  EXPECT_EQ(out, "");
}

TEST_F(ConntrackCli, FlushSendsTheFilter) {
  std::string out, err;
  EXPECT_EQ(RunArgs({"conntrack", "flush", "--dst", "10.244.1.7", "--port", "8080"}, &out, &err),
            kExitOk);
  EXPECT_EQ(out, "removed 2 connections\n");
  EXPECT_EQ(service_.last_flush().filter().destination(), "10.244.1.7");
  EXPECT_EQ(service_.last_flush().filter().port(), 8080u);
}

}  // namespace
}  // namespace nodeplane::cli
