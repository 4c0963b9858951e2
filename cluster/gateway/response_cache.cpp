#include "gateway/response_cache.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mambogo::gateway {
namespace {

using runtime::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::chrono::seconds> parse_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 10) return std::nullopt;
  long long n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return std::chrono::seconds(n);
}

// Length-prefixed fields: the cache holds byte strings.
void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}
bool get_u64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}
bool get_str(std::string_view& in, std::string& s) {
  std::uint64_t n = 0;
  if (!get_u64(in, n) || in.size() < n) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

std::string strong_etag(std::string_view body) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

std::optional<std::string_view> header_of(const std::vector<runtime::Header>& headers,
                                          std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

bool request_forbids_cache(const runtime::Request& request, bool& no_store) {
  const CacheControl cc = CacheControl::parse(request.header("Cache-Control").value_or(""));
  no_store = cc.no_store;
  auto pragma = request.header("Pragma");
  return cc.no_cache || cc.no_store || (pragma && iequals(trim(*pragma), "no-cache"));
}

}  // namespace

CacheControl CacheControl::parse(std::string_view header) {
  CacheControl cc;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    auto eq = item.find('=');
    std::string_view name = trim(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
    if (iequals(name, "no-store")) cc.no_store = true;
    else if (iequals(name, "no-cache")) cc.no_cache = true;
    else if (iequals(name, "private")) cc.is_private = true;
    else if (iequals(name, "public")) cc.is_public = true;
    else if (iequals(name, "max-age")) cc.max_age = parse_seconds(value);
    else if (iequals(name, "s-maxage")) cc.s_maxage = parse_seconds(value);
  }
  return cc;
}

bool if_none_match_matches(std::string_view if_none_match, std::string_view etag) {
  auto opaque = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  if (etag.empty()) return false;
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    std::string_view tag = trim(if_none_match.substr(0, comma));
    if_none_match = comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    if (tag == "*" || (!tag.empty() && opaque(tag) == opaque(etag))) return true;
  }
  return false;
}

ResponseCache::ResponseCache(ResponseCacheOptions options, prometheus::Registry* registry,
                             const runtime::Clock& clock)
    : options_(options),
      clock_(clock),
      l1_(runtime::cache::L1CacheOptions{"gateway", options.max_entries, options.max_ttl, 16},
          registry, clock) {}

std::optional<CachedResponse> ResponseCache::lookup(const runtime::Request& request,
                                                    std::string_view user) {
  bool no_store = false;
  if (request.method != runtime::Method::get || request_forbids_cache(request, no_store))
    return std::nullopt;
  const std::string shared = "GET " + request.target;
  std::optional<std::string> bytes;
  std::string key;
  if (!user.empty()) {
    key = shared + ' ' + std::string(user);
    bytes = l1_.get(key);
  }
  if (!bytes) {
    key = shared;
    bytes = l1_.get(key);
  }
  if (!bytes) return std::nullopt;

  std::string_view in(*bytes);
  std::uint64_t expires = 0, stored = 0, status = 0, count = 0;
  CachedResponse out;
  if (!get_u64(in, expires) || !get_u64(in, stored) || !get_u64(in, status) ||
      !get_str(in, out.response.content_type) || !get_str(in, out.etag) ||
      !get_str(in, out.response.body) || !get_u64(in, count))
    return std::nullopt;
  for (std::uint64_t i = 0; i < count; ++i) {
    runtime::Header h;
    if (!get_str(in, h.name) || !get_str(in, h.value)) return std::nullopt;
    out.response.headers.push_back(std::move(h));
  }
  const auto now = clock_.now().time_since_epoch();
  if (now >= runtime::Clock::duration(static_cast<std::int64_t>(expires))) {
    l1_.invalidate(key);
    return std::nullopt;
  }
  out.response.status = static_cast<int>(status);
  out.age = std::chrono::duration_cast<std::chrono::seconds>(
      now - runtime::Clock::duration(static_cast<std::int64_t>(stored)));
  return out;
}

std::string ResponseCache::store(const runtime::Request& request, std::string_view user,
                                 runtime::Response& response) {
  auto etag_header = header_of(response.headers, "ETag");
  std::string etag = etag_header ? std::string(*etag_header) : std::string();
  bool request_no_store = false;
  request_forbids_cache(request, request_no_store);
  const CacheControl cc = CacheControl::parse(header_of(response.headers, "Cache-Control").value_or(""));
  auto vary = header_of(response.headers, "Vary");
  const bool storable = request.method == runtime::Method::get && response.status == 200 &&
                        !request_no_store && !cc.no_store && !cc.is_private &&
                        !(vary && !iequals(trim(*vary), "Accept-Encoding")) &&
                        !header_of(response.headers, "Set-Cookie") &&
                        response.body.size() <= options_.max_body_bytes;
  if (!storable) return etag;
  std::chrono::milliseconds ttl = cc.s_maxage   ? std::chrono::milliseconds(*cc.s_maxage)
                                  : cc.max_age ? std::chrono::milliseconds(*cc.max_age)
                                               : options_.default_ttl;
  ttl = std::min(ttl, options_.max_ttl);
  if (ttl.count() <= 0) return etag;
  if (etag.empty()) {
    etag = strong_etag(response.body);
    response.headers.push_back({"ETag", etag});
  }
  const bool per_user = !user.empty() && !cc.is_public;
  const std::string key = "GET " + request.target + (per_user ? " " + std::string(user) : "");
  const auto now = clock_.now().time_since_epoch();
  std::string bytes;
  put_u64(bytes, static_cast<std::uint64_t>((now + ttl).count()));
  put_u64(bytes, static_cast<std::uint64_t>(now.count()));
  put_u64(bytes, static_cast<std::uint64_t>(response.status));
  put_str(bytes, response.content_type);
  put_str(bytes, etag);
  put_str(bytes, response.body);
  put_u64(bytes, response.headers.size());
  for (const auto& h : response.headers) {
    put_str(bytes, h.name);
    put_str(bytes, h.value);
  }
  l1_.put(key, std::move(bytes));
  return etag;
}

}  // namespace mambogo::gateway
