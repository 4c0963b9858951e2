// The transport-neutral request and response the API handler works on (internal to
// apiserver/). transport.cpp turns Beast messages into these and back; everything else is
// plain C++ and testable without sockets.
#pragma once

#include "store/store.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mambogo::sim::api {

struct Request {
  std::string method;                              // "GET", "POST", ...
  std::string path;                                // percent-decoded, without the query
  std::multimap<std::string, std::string> query;   // percent-decoded
  std::string raw_query;                           // as received, without '?'
  std::map<std::string, std::string> headers;      // names lowercased
  std::string body;

  std::optional<std::string> param(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  }
  std::string header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Where the transport writes a streamed body (watch events, followed logs). Thread-safe:
// producers call from any thread; calls after the client went away are ignored.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void write(std::string chunk) = 0;
  virtual void finish() = 0;  // ends the stream after the chunks written so far
};

// A streamed body's producer. start() runs once, on the transport's thread, and may write
// synchronously; destroying the Stream stops the production (after the destructor returns
// the sink is not touched again).
class Stream {
 public:
  virtual ~Stream() = default;
  virtual void start(const std::shared_ptr<StreamSink>& sink) = 0;
};

// An HTTP request the transport forwards to a pod (pods/proxy) and answers with its reply.
struct ProxyRequest {
  std::string host;
  std::uint16_t port = 0;
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::unique_ptr<Stream> stream;             // set: body streamed with chunked encoding
  std::chrono::seconds stream_timeout{0};     // > 0: the stream ends after this long
  std::optional<ProxyRequest> proxy;          // set: the transport answers with the pod's reply
};

}  // namespace mambogo::sim::api
