#include "runtime/auth/token.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "runtime/config.h"

namespace mambogo::runtime::auth {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

constexpr std::size_t kMinSecretBytes = 32;

std::string_view alg_name(KeyAlgorithm a) { return a == KeyAlgorithm::hs256 ? "HS256" : "RS256"; }

std::optional<std::string> base64url_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling 6-bit group cannot end valid base64
  return out;
}

std::string base64url_encode(const unsigned char* data, std::size_t n) {
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey read_public_pem(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

Pkey read_private_pem(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using Jwt = std::unique_ptr<jwt_t, JwtFree>;

// The key material libjwt wants for a key: the secret, or a PEM.
const std::string& verification_material(const Key& k) {
  return k.algorithm == KeyAlgorithm::hs256 ? k.secret : k.public_key_pem;
}

std::int64_t seconds_since_epoch(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

bool Identity::has_role(std::string_view role) const {
  for (const auto& r : roles)
    if (r == role) return true;
  return false;
}

std::string_view to_string(TokenError e) {
  switch (e) {
    case TokenError::missing: return "missing";
    case TokenError::malformed: return "malformed";
    case TokenError::unknown_key: return "unknown_key";
    case TokenError::algorithm_mismatch: return "algorithm_mismatch";
    case TokenError::bad_signature: return "bad_signature";
    case TokenError::expired: return "expired";
    case TokenError::not_yet_valid: return "not_yet_valid";
    case TokenError::wrong_issuer: return "wrong_issuer";
    case TokenError::wrong_audience: return "wrong_audience";
    case TokenError::missing_claim: return "missing_claim";
  }
  return "unknown";
}

// ---- KeySet -------------------------------------------------------------------------------

void KeySet::validate() const {
  if (keys.empty()) throw std::invalid_argument("key set: no keys");
  if (issuer.empty()) throw std::invalid_argument("key set: empty issuer");
  if (audience.empty()) throw std::invalid_argument("key set: empty audience");
  std::set<std::string> kids;
  for (const auto& k : keys) {
    if (k.kid.empty()) throw std::invalid_argument("key set: a key without kid");
    if (!kids.insert(k.kid).second) throw std::invalid_argument("key set: duplicate kid '" + k.kid + "'");
    if (k.algorithm == KeyAlgorithm::hs256) {
      if (k.secret.size() < kMinSecretBytes)
        throw std::invalid_argument("key set: HS256 key '" + k.kid + "' needs a secret of at least " +
                                    std::to_string(kMinSecretBytes) + " bytes");
    } else {
      if (!read_public_pem(k.public_key_pem))
        throw std::invalid_argument("key set: RS256 key '" + k.kid + "' has no readable public_key_pem");
      if (!k.private_key_pem.empty() && !read_private_pem(k.private_key_pem))
        throw std::invalid_argument("key set: RS256 key '" + k.kid + "' has an unreadable private_key_pem");
    }
  }
  if (!signing_kid.empty() && !kids.count(signing_kid))
    throw std::invalid_argument("key set: signing_kid '" + signing_kid + "' is not among the keys");
}

KeySet KeySet::from_json(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("key set: not JSON: ") + e.what());
  }
  if (!doc.is_object()) throw std::invalid_argument("key set: the document is not a JSON object");
  auto text = [](const json& obj, const char* field, bool required) -> std::string {
    const auto it = obj.find(field);
    if (it == obj.end()) {
      if (required) throw std::invalid_argument(std::string("key set: missing \"") + field + "\"");
      return {};
    }
    if (!it->is_string()) throw std::invalid_argument(std::string("key set: \"") + field + "\" is not a string");
    return it->get<std::string>();
  };
  KeySet set;
  if (doc.contains("issuer")) set.issuer = text(doc, "issuer", true);
  if (doc.contains("audience")) set.audience = text(doc, "audience", true);
  set.signing_kid = text(doc, "signing_kid", false);
  const auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) throw std::invalid_argument("key set: \"keys\" must be an array");
  for (const auto& entry : *keys) {
    if (!entry.is_object()) throw std::invalid_argument("key set: every key must be an object");
    Key k;
    k.kid = text(entry, "kid", true);
    const std::string alg = text(entry, "alg", true);
    if (alg == "HS256") {
      k.algorithm = KeyAlgorithm::hs256;
      k.secret = text(entry, "secret", true);
    } else if (alg == "RS256") {
      k.algorithm = KeyAlgorithm::rs256;
      k.public_key_pem = text(entry, "public_key_pem", true);
      k.private_key_pem = text(entry, "private_key_pem", false);
    } else {
      throw std::invalid_argument("key set: key '" + k.kid + "' has alg \"" + alg +
                                  "\"; accepted: HS256, RS256");
    }
    set.keys.push_back(std::move(k));
  }
  set.validate();
  return set;
}

KeySet KeySet::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("key set: cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return from_json(buffer.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

std::string KeySet::to_json() const {
  json doc{{"issuer", issuer}, {"audience", audience}, {"signing_kid", signing_kid}, {"keys", json::array()}};
  for (const auto& k : keys) {
    json entry{{"kid", k.kid}, {"alg", alg_name(k.algorithm)}};
    if (k.algorithm == KeyAlgorithm::hs256) {
      entry["secret"] = k.secret;
    } else {
      entry["public_key_pem"] = k.public_key_pem;
      if (!k.private_key_pem.empty()) entry["private_key_pem"] = k.private_key_pem;
    }
    doc["keys"].push_back(std::move(entry));
  }
  return doc.dump(2) + "\n";
}

KeySet KeySet::generate() {
  KeySet set;
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("key set: no randomness");
  std::array<unsigned char, 3> kid_bytes{};
  RAND_bytes(kid_bytes.data(), kid_bytes.size());
  const std::string suffix = base64url_encode(kid_bytes.data(), kid_bytes.size());

  set.keys.push_back({"hs-" + suffix, KeyAlgorithm::hs256, base64url_encode(random, sizeof random), "", ""});

  Pkey rsa(EVP_RSA_gen(2048));
  if (!rsa) throw std::runtime_error("key set: RSA key generation failed");
  Bio pub(BIO_new(BIO_s_mem())), priv(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(pub.get(), rsa.get()) ||
      !PEM_write_bio_PrivateKey(priv.get(), rsa.get(), nullptr, nullptr, 0, nullptr, nullptr))
    throw std::runtime_error("key set: cannot write the RSA key as PEM");
  set.keys.push_back({"rs-" + suffix, KeyAlgorithm::rs256, "", bio_text(pub.get()), bio_text(priv.get())});
  set.signing_kid = set.keys.back().kid;
  set.validate();
  return set;
}

// ---- TokenVerifier ------------------------------------------------------------------------

struct TokenVerifier::Impl {
  KeySet keys;
  std::chrono::seconds leeway;
  std::unordered_map<std::string, const Key*> by_kid;
  const Key* signing = nullptr;

  // Verified tokens, so a client reusing its token costs one hash lookup, not a signature
  // check. Bounded; an entry is used only while the token is within its validity.
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = 1024;
  // Transparent: a lookup hashes the request's view, no string is built. Only the token's tail
  // is hashed: it is the signature (a MAC or an RSA/EC signature), as good as random across
  // tokens, and hashing all ~600 bytes of an RS256 token on every request showed in profiles.
  // Equality still compares the whole token.
  struct TokenHash {
    using is_transparent = void;
    static constexpr std::size_t kTail = 32;
    std::size_t operator()(std::string_view token) const noexcept {
      return std::hash<std::string_view>{}(token.size() > kTail ? token.substr(token.size() - kTail) : token);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Identity, TokenHash, std::equal_to<>> entries;
  };
  mutable std::array<Shard, kShards> cache;

  VerifyResult fail(TokenError e) const { return VerifyResult{std::nullopt, e}; }
  VerifyResult verify_uncached(std::string_view token, system_clock::time_point now) const;
};

TokenVerifier::TokenVerifier(KeySet keys, std::chrono::seconds leeway) : impl_(std::make_unique<Impl>()) {
  keys.validate();
  impl_->keys = std::move(keys);
  impl_->leeway = leeway;
  for (const auto& k : impl_->keys.keys) impl_->by_kid.emplace(k.kid, &k);
  impl_->signing = impl_->keys.signing_kid.empty() ? &impl_->keys.keys.front()
                                                   : impl_->by_kid.at(impl_->keys.signing_kid);
}

TokenVerifier::~TokenVerifier() = default;

const KeySet& TokenVerifier::keys() const { return impl_->keys; }

VerifyResult TokenVerifier::verify(std::string_view token) const {
  if (token.empty()) return impl_->fail(TokenError::missing);
  const auto now = system_clock::now();
  // The shard from the hash's high bits: the map buckets by the low ones.
  auto& shard = impl_->cache[(Impl::TokenHash{}(token) >> 56) % Impl::kShards];
  {
    std::lock_guard lock(shard.mutex);
    const auto it = shard.entries.find(token);
    if (it != shard.entries.end()) {
      if (now < it->second.expires_at + impl_->leeway) return VerifyResult{it->second, TokenError::missing};
      shard.entries.erase(it);
    }
  }
  VerifyResult result = impl_->verify_uncached(token, now);
  if (result) {
    std::lock_guard lock(shard.mutex);
    if (shard.entries.size() >= Impl::kPerShard) shard.entries.clear();
    shard.entries.emplace(std::string(token), *result.identity);
  }
  return result;
}

VerifyResult TokenVerifier::Impl::verify_uncached(std::string_view token, system_clock::time_point now) const {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(TokenError::malformed);
  const auto header_text = base64url_decode(token.substr(0, dot1));
  const auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header_text || !payload_text) return fail(TokenError::malformed);
  json header, claims;
  try {
    header = json::parse(*header_text);
    claims = json::parse(*payload_text);
  } catch (const json::exception&) {
    return fail(TokenError::malformed);
  }
  if (!header.is_object() || !claims.is_object()) return fail(TokenError::malformed);

  // The key decides the algorithm; the token only names the key.
  const Key* key = signing;
  if (const auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string()) return fail(TokenError::malformed);
    const auto it = by_kid.find(kid->get<std::string>());
    if (it == by_kid.end()) return fail(TokenError::unknown_key);
    key = it->second;
  }
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != alg_name(key->algorithm))
    return fail(TokenError::algorithm_mismatch);
  if (token.size() == dot2 + 1) return fail(TokenError::bad_signature);  // no signature at all

  const std::string material = verification_material(*key);
  const std::string token_text(token);
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, token_text.c_str(), reinterpret_cast<const unsigned char*>(material.data()),
                            static_cast<int>(material.size()));
  Jwt decoded(raw);
  if (rc != 0 || !decoded) return fail(TokenError::bad_signature);
  if (jwt_get_alg(decoded.get()) != (key->algorithm == KeyAlgorithm::hs256 ? JWT_ALG_HS256 : JWT_ALG_RS256))
    return fail(TokenError::algorithm_mismatch);

  const std::int64_t now_s = seconds_since_epoch(now);
  const std::int64_t leeway_s = leeway.count();
  auto number = [&](const char* name) -> std::optional<std::int64_t> {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_number()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto exp = number("exp");
  const auto sub = claims.find("sub");
  if (!exp || sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty())
    return fail(TokenError::missing_claim);
  if (now_s >= *exp + leeway_s) return fail(TokenError::expired);
  if (const auto nbf = number("nbf"); nbf && now_s + leeway_s < *nbf) return fail(TokenError::not_yet_valid);
  if (const auto iat = number("iat"); iat && now_s + leeway_s < *iat) return fail(TokenError::not_yet_valid);

  const auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || iss->get<std::string>() != keys.issuer)
    return fail(TokenError::wrong_issuer);
  bool audience_ok = false;
  if (const auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) audience_ok = aud->get<std::string>() == keys.audience;
    if (aud->is_array())
      for (const auto& a : *aud) audience_ok = audience_ok || (a.is_string() && a.get<std::string>() == keys.audience);
  }
  if (!audience_ok) return fail(TokenError::wrong_audience);

  Identity id;
  id.subject = sub->get<std::string>();
  if (const auto roles = claims.find("roles"); roles != claims.end() && roles->is_array())
    for (const auto& r : *roles)
      if (r.is_string()) id.roles.push_back(r.get<std::string>());
  if (const auto jti = claims.find("jti"); jti != claims.end() && jti->is_string()) id.token_id = jti->get<std::string>();
  id.expires_at = system_clock::time_point(std::chrono::seconds(*exp));
  return VerifyResult{std::move(id), TokenError::missing};
}

VerifyResult TokenVerifier::verify(const Request& request) const {
  const auto header = request.header("Authorization");
  if (!header) return impl_->fail(TokenError::missing);
  std::string_view value = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || !iequals(value.substr(0, kBearer.size()), kBearer))
    return impl_->fail(TokenError::missing);
  value.remove_prefix(kBearer.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return verify(value);
}

// ---- TokenIssuer --------------------------------------------------------------------------

struct TokenIssuer::Impl {
  KeySet keys;
};

TokenIssuer::TokenIssuer(KeySet keys) : impl_(std::make_unique<Impl>()) {
  keys.validate();
  const std::string& kid = keys.signing_kid.empty() ? keys.keys.front().kid : keys.signing_kid;
  for (const auto& k : keys.keys)
    if (k.kid == kid && k.algorithm == KeyAlgorithm::rs256 && k.private_key_pem.empty())
      throw std::invalid_argument("key set: signing key '" + kid + "' has no private_key_pem");
  impl_->keys = std::move(keys);
}

TokenIssuer::~TokenIssuer() = default;

std::string TokenIssuer::issue(const TokenRequest& request) const {
  if (request.subject.empty()) throw std::invalid_argument("token: empty subject");
  const KeySet& set = impl_->keys;
  const std::string& kid = !request.kid.empty() ? request.kid
                           : set.signing_kid.empty() ? set.keys.front().kid
                                                     : set.signing_kid;
  const Key* key = nullptr;
  for (const auto& k : set.keys)
    if (k.kid == kid) key = &k;
  if (!key) throw std::invalid_argument("token: unknown kid '" + kid + "'");
  const std::string& material = key->algorithm == KeyAlgorithm::hs256 ? key->secret : key->private_key_pem;
  if (material.empty()) throw std::invalid_argument("token: key '" + kid + "' cannot sign (no private key)");

  unsigned char jti_bytes[12];
  RAND_bytes(jti_bytes, sizeof jti_bytes);
  const std::int64_t iat = seconds_since_epoch(request.now);
  json claims{{"iss", set.issuer},
              {"aud", set.audience},
              {"sub", request.subject},
              {"roles", request.roles},
              {"iat", iat},
              {"exp", iat + request.ttl.count()},
              {"jti", base64url_encode(jti_bytes, sizeof jti_bytes)}};
  if (request.not_before) claims["nbf"] = seconds_since_epoch(*request.not_before);

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("token: out of memory");
  Jwt token(raw);
  const std::string claims_text = claims.dump();
  if (jwt_add_grants_json(token.get(), claims_text.c_str()) != 0 ||
      jwt_add_header(token.get(), "kid", kid.c_str()) != 0 ||
      jwt_set_alg(token.get(), key->algorithm == KeyAlgorithm::hs256 ? JWT_ALG_HS256 : JWT_ALG_RS256,
                  reinterpret_cast<const unsigned char*>(material.data()), static_cast<int>(material.size())) != 0)
    throw std::runtime_error("token: libjwt refused the claims or the key");
  char* encoded = jwt_encode_str(token.get());
  if (!encoded) throw std::runtime_error("token: signing failed");
  std::string out(encoded);
  std::free(encoded);
  return out;
}

// ---- configuration and handler helpers -----------------------------------------------------

KeySet read_key_set(Config& config) {
  const std::string file = config.string("AUTH_KEYS_FILE", "", "JSON key set (mambogo-token keygen writes one)");
  const std::string secret = config.string("AUTH_HS256_SECRET", "", "one HS256 secret (>= 32 bytes), kid \"default\"");
  const std::string issuer = config.string("AUTH_ISSUER", "", "expected `iss` (overrides the key file's)");
  const std::string audience = config.string("AUTH_AUDIENCE", "", "expected `aud` (overrides the key file's)");
  KeySet set;
  try {
    if (!file.empty()) {
      set = KeySet::load_file(file);
    } else if (!secret.empty()) {
      set.keys.push_back({"default", KeyAlgorithm::hs256, secret, "", ""});
    } else {
      config.report_invalid("AUTH_KEYS_FILE", "", "a key file, or AUTH_HS256_SECRET: tokens cannot be checked without keys");
      return set;
    }
    if (!issuer.empty()) set.issuer = issuer;
    if (!audience.empty()) set.audience = audience;
    set.validate();
  } catch (const std::invalid_argument& e) {
    config.report_invalid(file.empty() ? "AUTH_HS256_SECRET" : "AUTH_KEYS_FILE", file.empty() ? "(hidden)" : file, e.what());
    set.keys.clear();
  }
  return set;
}

Response unauthorized(const VerifyResult& refused, const Request& request) {
  const std::string_view why = to_string(refused.error);
  Response denied = Response::error(401, "unauthorized",
                                    refused.error == TokenError::missing
                                        ? "a bearer token is required"
                                        : "the bearer token is not valid: " + std::string(why),
                                    request.request_id);
  denied.headers.push_back({"WWW-Authenticate", refused.error == TokenError::missing
                                                    ? std::string("Bearer realm=\"mambogo\"")
                                                    : "Bearer realm=\"mambogo\", error=\"invalid_token\", error_description=\"" +
                                                          std::string(why) + "\""});
  return denied;
}

Response forbidden(std::string_view role, const Request& request) {
  return Response::error(403, "forbidden", "this needs the " + std::string(role) + " role", request.request_id);
}

std::optional<Identity> authenticate(const TokenVerifier& verifier, const Request& request, Response& denied) {
  VerifyResult result = verifier.verify(request);
  if (result) return std::move(result.identity);
  denied = unauthorized(result, request);
  return std::nullopt;
}

std::optional<Identity> require_role(const TokenVerifier& verifier, const Request& request, std::string_view role,
                                     Response& denied) {
  auto identity = authenticate(verifier, request, denied);
  if (!identity) return std::nullopt;
  if (!identity->has_role(role)) {
    denied = forbidden(role, request);
    return std::nullopt;
  }
  return identity;
}

std::function<std::optional<Response>(const Request&, std::string& actor)> admin_guard(const TokenVerifier& verifier) {
  return [&verifier](const Request& request, std::string& actor) -> std::optional<Response> {
    Response denied;
    const auto identity = require_role(verifier, request, kRoleAdmin, denied);
    if (!identity) return denied;
    actor = identity->subject;
    return std::nullopt;
  };
}

}  // namespace mambogo::runtime::auth
