// The gateway's response cache for cacheable GETs (the product routes), a shared cache in
// RFC 9111's sense, on top of the runtime's L1Cache (size-bounded LRU, TTL-bounded).
//
// What is stored: a 200 answer to a GET whose response allows it:
//   - not when the response says Cache-Control no-store or private, or has a Vary header
//     (other than Accept-Encoding), or a Set-Cookie, or a body above max_body_bytes;
//   - not when the request says Cache-Control no-store;
//   - freshness: s-maxage, else max-age, else default_ttl (0 = do not store without one),
//     always capped by max_ttl; max-age=0 is not stored.
// Keys: "GET <target>" for responses anyone may see; an answer to a request that carried an
// identity is stored under "GET <target> <user>" unless it is marked public, so one user's
// answer is never served to another. A lookup tries the user's key first, then the shared key.
// A request with Cache-Control no-cache (or Pragma no-cache) is not answered from the cache.
// ETag: the upstream's, or a strong one computed from the body. If-None-Match matching the
// stored ETag (or "*") gets 304 with the ETag and no body.
//
// Metrics: the L1Cache's (cache_gets_total{cache="gateway",...}, cache_puts_total, ...).
// Thread-safety: any thread. The clock and registry must outlive the cache.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cache/l1_cache.h"
#include "runtime/clock.h"
#include "runtime/http_message.h"

namespace mambogo::gateway {

struct CacheControl {
  bool no_store = false;
  bool no_cache = false;
  bool is_private = false;
  bool is_public = false;
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::chrono::seconds> s_maxage;
  // Directives are case-insensitive, comma-separated; unknown ones are ignored, a malformed
  // max-age is treated as absent.
  static CacheControl parse(std::string_view header);
};

struct ResponseCacheOptions {
  std::size_t max_entries = 10'000;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds max_ttl{60'000};
  std::chrono::milliseconds default_ttl{10'000};
};

struct CachedResponse {
  runtime::Response response;  // status 200, the stored headers (ETag included)
  std::string etag;
  std::chrono::seconds age{0};
};

// ETag comparison for If-None-Match (weak comparison, as RFC 9110 requires for it).
bool if_none_match_matches(std::string_view if_none_match, std::string_view etag);

class ResponseCache {
 public:
  ResponseCache(ResponseCacheOptions options, prometheus::Registry* registry,
                const runtime::Clock& clock);

  // `user` is empty for anonymous requests.
  std::optional<CachedResponse> lookup(const runtime::Request& request, std::string_view user);
  // Stores `response` if the rules above allow; returns the ETag the client should see
  // (empty when not stored and the response had none). May add an ETag header to response.
  std::string store(const runtime::Request& request, std::string_view user,
                    runtime::Response& response);

  const runtime::cache::L1Cache& entries() const { return l1_; }

 private:
  const ResponseCacheOptions options_;
  const runtime::Clock& clock_;
  runtime::cache::L1Cache l1_;
};

}  // namespace mambogo::gateway
