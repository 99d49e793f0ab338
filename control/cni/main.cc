// nodeplane-cni: a CNI 1.1 plugin. The container runtime runs it with CNI_* variables and the
// network configuration on stdin; it prints the result (or a CNI error object) on stdout.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <iterator>

#include "control/cni/cni_request.h"
#include "control/cni/plugin.h"

int main() {
  using namespace nodeplane::cni;
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const char* cmd = std::getenv("CNI_COMMAND");
  if (cmd != nullptr && std::string(cmd) == "VERSION" && input.find_first_not_of(" \n\t\r") == std::string::npos) {
    input = "{\"cniVersion\": \"1.1.0\"}";
  }
  CniRequest request;
  if (auto e = ParseRequest(input, &request)) {
    std::cout << e->ToJson(request.cni_version).dump() << std::endl;
    return 1;
  }
  std::unique_ptr<nodeplane::v1::Nodeplane::Stub> stub;
  const std::string target = request.socket.rfind("unix:", 0) == 0 ? request.socket : "unix:" + request.socket;
  stub = nodeplane::v1::Nodeplane::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  Outcome out = RunCommand(request, *stub);
  if (out.error) {
    std::cerr << "nodeplane-cni " << request.command << ": " << out.error->msg << std::endl;
    std::cout << out.error->ToJson(request.cni_version).dump() << std::endl;
    return 1;
  }
  if (!out.result.is_null()) std::cout << out.result.dump(2) << std::endl;
  return 0;
}
