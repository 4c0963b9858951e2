// The HTTP/1.1 and HTTPS side of the API server (internal to apiserver/): Boost.Beast over
// one Asio I/O thread; every request goes to Handler::handle() and its Response is written
// back plainly, streamed with chunked encoding (watch, follow) or forwarded to a pod
// (pods/proxy). All Beast/Asio code of the component lives in transport.cpp.
//
// Thread-safety: start(), port() and stop() from one controlling thread. The Handler must
// outlive the Transport.
#pragma once

#include "apiserver/api_server.h"
#include "apiserver/handler.h"

#include <cstdint>
#include <memory>

namespace mambogo::sim::api {

class Transport {
 public:
  Transport(Handler& handler, ApiServerOptions options);
  ~Transport();
  void start();
  std::uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::sim::api
