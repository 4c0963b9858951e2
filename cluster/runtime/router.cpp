#include "runtime/router.h"

#include <stdexcept>

namespace mambogo::runtime {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(const std::string& seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Rank per segment: literal 0 < param 1 < wildcard 2; lexicographically smaller is more specific.
int rank(const std::string& seg) { return seg == "**" ? 2 : is_param(seg) ? 1 : 0; }

bool more_specific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    int ra = rank(a.segments[i]), rb = rank(b.segments[i]);
    if (ra != rb) return ra < rb;
  }
  return a.segments.size() > b.segments.size();
}

// Matches one route; on success fills params.
bool matches(const Route& route, std::string_view path,
             std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (seg == "**") {
      params.emplace_back("**", percent_decode(path));
      return true;
    }
    if (path.data() == nullptr) return false;  // the request path ran out of segments
    auto slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (is_param(seg)) {
      if (part.empty()) return false;
      params.emplace_back(seg.substr(1, seg.size() - 2), percent_decode(part));
    } else if (part != seg) {
      return false;
    }
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return path.data() == nullptr;
}

}  // namespace

Route& Router::insert(Method method, std::string pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route template must start with '/': " + pattern);
  auto route = std::make_unique<Route>();
  route->method = method;
  route->segments = split_path(pattern);
  for (size_t i = 0; i < route->segments.size(); ++i) {
    const auto& seg = route->segments[i];
    if (seg == "**" && i + 1 != route->segments.size())
      throw std::invalid_argument("'**' must be the last segment: " + pattern);
    if (seg == "{}" || (seg.find_first_of("{}") != std::string::npos && !is_param(seg)))
      throw std::invalid_argument("malformed parameter segment '" + seg + "' in " + pattern);
  }
  for (const auto& r : routes_)
    if (r->method == method && r->pattern == pattern)
      throw std::invalid_argument("duplicate route " + std::string(to_string(method)) + " " +
                                  pattern);
  route->pattern = std::move(pattern);
  routes_.push_back(std::move(route));
  return *routes_.back();
}

Router& Router::add(Method method, std::string pattern, Handler handler, Dispatch dispatch) {
  Route& r = insert(method, std::move(pattern));
  r.handler = std::move(handler);
  r.dispatch = dispatch;
  return *this;
}

Router& Router::add_async(Method method, std::string pattern, AsyncHandler handler) {
  Route& r = insert(method, std::move(pattern));
  r.async_handler = std::move(handler);
  return *this;
}

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch result;
  std::vector<std::pair<std::string, std::string>> params;
  // The most specific route of one method whose template matches the path.
  const auto best_of = [&](Method m) -> const Route* {
    const Route* best = nullptr;
    for (const auto& route : routes_) {
      if (route->method != m || !matches(*route, path, params)) continue;
      if (!best || more_specific(*route, *best)) best = route.get(), result.params = params;
    }
    return best;
  };
  const Route* best = best_of(method);
  if (!best && method == Method::head) best = best_of(Method::get);  // HEAD is served as GET
  if (best) {
    result.outcome = RouteMatch::Outcome::found;
    result.route = best;
    return result;
  }
  // No route for this method: the path's other methods make the 405's Allow header. Built only
  // here, not on every request (a gateway route is registered for every method).
  result.params.clear();
  for (const auto& route : routes_) {
    if (!matches(*route, path, params)) continue;
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += to_string(route->method);
  }
  if (!result.allow.empty()) result.outcome = RouteMatch::Outcome::method_not_allowed;
  return result;
}

}  // namespace mambogo::runtime
