// A deliberately dumb blocking HTTP/1.1 client over a POSIX socket, for tests that must send
// exactly the bytes they mean (malformed, stalled, smuggled) and read exactly what came back.
// Not thread-safe; one per thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace mambogo::test {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error when it cannot.
  explicit RawConnection(int port);
  RawConnection(const std::string& host, int port);  // host: an IPv4 address
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes);
  // Reads one response (Content-Length framed, or until close). nullopt on timeout or when
  // the peer closed before a full response arrived.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the peer has closed the connection (EOF or reset) within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  int local_port() const;

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// One request on a fresh connection: "GET /path" etc. Adds Host and Connection: close.
std::optional<RawResponse> http_request(int port, const std::string& method, const std::string& target,
                                        const std::string& body = {},
                                        const std::string& extra_headers = {});
// The same to host:port (an IPv4 address, e.g. a Service's cluster IP).
std::optional<RawResponse> http_request(const std::string& host, int port, const std::string& method,
                                        const std::string& target, const std::string& body = {},
                                        const std::string& extra_headers = {});

}  // namespace mambogo::test
