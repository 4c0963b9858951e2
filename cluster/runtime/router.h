// Maps (method, path) to a handler. Matching is a pure function of the request, so routes
// are tested without sockets. Templates are "/"-separated segments: literals, "{name}"
// (one segment, captured) and a final "**" (any rest, captured as "**"). The most specific
// template wins: at the first differing segment a literal beats "{x}", which beats "**".
//
// Thread-safety: add() only during set-up; match() from any number of threads afterwards.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/http_message.h"

namespace mambogo::runtime {

// Called exactly once, from any thread, with the handler's response.
class Responder {
 public:
  using Sink = std::function<void(Response)>;
  explicit Responder(Sink sink) : sink_(std::move(sink)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept = default;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  void send(Response r) {
    if (sink_) std::exchange(sink_, nullptr)(std::move(r));
  }
  explicit operator bool() const { return static_cast<bool>(sink_); }

 private:
  Sink sink_;
};

// Where a handler runs.
enum class Dispatch {
  io,        // on the I/O thread: only for work that never blocks (no database, no Redis)
  blocking,  // on the service's bounded executor; rejection follows its policy
};

using Handler = std::function<Response(const Request&)>;
// Replies later through the Responder (e.g. after an upstream call). Runs on the I/O thread
// and must not block; the Request stays valid until the Responder is used, or the server's
// handler timeout passes, whichever comes first. The handler may take (move) the headers and
// body out of it, the bulk of a request: after the call the server reads only method,
// method_token, target, request_id and remote_address.
using AsyncHandler = std::function<void(Request&, Responder)>;

struct Route {
  Method method;
  std::string pattern;  // the template; also the `uri` label of request metrics
  Handler handler;            // exactly one of handler / async_handler is set
  AsyncHandler async_handler;
  Dispatch dispatch = Dispatch::io;
  std::vector<std::string> segments;  // pattern split on '/'
};

struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed } outcome = Outcome::not_found;
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  std::string allow;  // for method_not_allowed: "GET, POST"
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed template ("**" not last, empty "{}",
  // duplicate method + template).
  Router& add(Method method, std::string pattern, Handler handler,
              Dispatch dispatch = Dispatch::io);
  Router& add_async(Method method, std::string pattern, AsyncHandler handler);

  // HEAD falls back to a GET route. Path is matched as sent (not percent-decoded);
  // captured params are decoded.
  RouteMatch match(Method method, std::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  Route& insert(Method method, std::string pattern);
  std::vector<std::unique_ptr<Route>> routes_;  // stable addresses: metrics cache by Route*
};

}  // namespace mambogo::runtime
