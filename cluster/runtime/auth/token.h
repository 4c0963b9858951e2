// Who is calling: JSON Web Tokens (RFC 7519) signed with the cluster's keys, verified the same
// way by the gateway and by every service (a service trusts nothing it has not checked).
//
// Keys: a key set with one or more keys, each with a `kid`; a token names its key in the
// header's `kid` (a token without `kid` is tried against the signing key only). Rotation is
// adding a key, moving `signing_kid` to it, and removing the old one once its tokens expired.
//   HS256: a shared secret (at least 32 bytes).
//   RS256: a PEM public key (verification), plus the PEM private key where tokens are issued.
// The algorithm comes from the key, never from the token: a token whose header `alg` differs
// from its key's algorithm is refused (no "none", no HS256-signed-with-the-RSA-public-key).
//
// Claims checked: signature, `exp` (required), `nbf` and `iat` when present (with leeway),
// `iss` and `aud` (string or array) against the configuration, `sub` non-empty. Roles come from
// the `roles` claim (array of strings): "user", "admin", "service".
//
// Key file (AUTH_KEYS_FILE), JSON:
//   {"issuer": "mambogo", "audience": "mambogo-api", "signing_kid": "k2",
//    "keys": [{"kid": "k1", "alg": "HS256", "secret": "<at least 32 characters>"},
//             {"kid": "k2", "alg": "RS256", "public_key_pem": "...", "private_key_pem": "..."}]}
// `mambogo-token keygen` writes one; the local cluster generates one at first start.
//
// Thread-safety: a TokenVerifier / TokenIssuer is immutable after construction; verify() and
// issue() may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http_message.h"

namespace mambogo::runtime {
class Config;
}

namespace mambogo::runtime::auth {

inline constexpr std::string_view kRoleUser = "user";
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleService = "service";

struct Identity {
  std::string subject;             // `sub`: a user id, or a service name for service tokens
  std::vector<std::string> roles;  // `roles`
  std::string token_id;            // `jti`, may be empty
  std::chrono::system_clock::time_point expires_at;

  bool has_role(std::string_view role) const;
};

enum class KeyAlgorithm { hs256, rs256 };

struct Key {
  std::string kid;
  KeyAlgorithm algorithm = KeyAlgorithm::hs256;
  std::string secret;           // HS256
  std::string public_key_pem;   // RS256
  std::string private_key_pem;  // RS256, optional (only where tokens are issued)
};

struct KeySet {
  std::string issuer = "mambogo";
  std::string audience = "mambogo-api";
  std::string signing_kid;  // empty: the first key
  std::vector<Key> keys;

  // Throws std::invalid_argument naming the problem (unknown signing kid, short secret,
  // unparsable PEM, duplicate kid, ...).
  void validate() const;
  // Parses the key-file JSON above; throws std::invalid_argument with a clear message.
  static KeySet from_json(std::string_view json_text);
  static KeySet load_file(const std::string& path);
  std::string to_json() const;
  // A fresh set: one HS256 key and one RS256 key pair (2048 bit), signing with the RS256 one.
  static KeySet generate();
};

// Why a token was refused. The gateway answers 401 for every one of these; the code goes
// into WWW-Authenticate's error_description and into metrics (bounded set of values).
enum class TokenError {
  missing,            // no Authorization header, or not "Bearer <token>"
  malformed,          // not three base64url parts of JSON
  unknown_key,        // `kid` not in the key set
  algorithm_mismatch, // header `alg` is not the key's algorithm (including "none")
  bad_signature,
  expired,
  not_yet_valid,      // nbf / iat in the future beyond leeway
  wrong_issuer,
  wrong_audience,
  missing_claim,      // no exp, no sub
};
std::string_view to_string(TokenError e);

struct VerifyResult {
  std::optional<Identity> identity;  // set on success
  TokenError error = TokenError::missing;
  explicit operator bool() const { return identity.has_value(); }
};

class TokenVerifier {
 public:
  // Throws std::invalid_argument when the key set is invalid.
  explicit TokenVerifier(KeySet keys, std::chrono::seconds leeway = std::chrono::seconds(30));
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  VerifyResult verify(std::string_view token) const;
  // Reads "Authorization: Bearer <token>" from the request.
  VerifyResult verify(const Request& request) const;

  const KeySet& keys() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct TokenRequest {
  std::string subject;
  std::vector<std::string> roles{std::string(kRoleUser)};
  std::chrono::seconds ttl{3600};
  std::string kid;  // empty: the key set's signing key
  std::optional<std::chrono::system_clock::time_point> not_before;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

class TokenIssuer {
 public:
  // Throws std::invalid_argument when the key set is invalid or the signing key has no
  // private material.
  explicit TokenIssuer(KeySet keys);
  ~TokenIssuer();
  TokenIssuer(const TokenIssuer&) = delete;
  TokenIssuer& operator=(const TokenIssuer&) = delete;

  // Throws std::invalid_argument for an empty subject or an unknown kid.
  std::string issue(const TokenRequest& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Configuration every service and the gateway share: AUTH_KEYS_FILE (the key file above) or
// AUTH_HS256_SECRET (one HS256 key, kid "default"), AUTH_ISSUER, AUTH_AUDIENCE,
// AUTH_LEEWAY. Problems are left in config for Config::finish(); with neither key variable
// set the returned set is empty and a problem is recorded.
KeySet read_key_set(Config& config);

// Handler helpers: the caller's identity, or a 401 response (with WWW-Authenticate: Bearer
// error="invalid_token", error_description=...) / 403 response (role missing) in `denied`.
std::optional<Identity> authenticate(const TokenVerifier& verifier, const Request& request,
                                     Response& denied);
// The two answers themselves, for a caller that verifies on its own (the gateway: no Response
// is built on the path of a request that passes).
Response unauthorized(const VerifyResult& refused, const Request& request);
Response forbidden(std::string_view role, const Request& request);
std::optional<Identity> require_role(const TokenVerifier& verifier, const Request& request,
                                     std::string_view role, Response& denied);

// The guard RuntimeSettings::install_routes() wants: admin role required; actor = subject.
// The verifier must outlive the guard.
std::function<std::optional<Response>(const Request&, std::string& actor)> admin_guard(
    const TokenVerifier& verifier);

}  // namespace mambogo::runtime::auth
