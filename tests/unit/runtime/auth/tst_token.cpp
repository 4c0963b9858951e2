// What a caller of the gateway or a service notices about tokens: good ones pass with their
// subject and roles; every way a token can be forged, stale or aimed elsewhere is refused with
// its own reason; key files are checked before anything is served.
#include <QtTest>

#include <QMessageAuthenticationCode>

#include <nlohmann/json.hpp>

#include "runtime/auth/token.h"
#include "runtime/config.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::auth;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

KeySet hs_keys() {
  KeySet k;
  k.keys.push_back({"hs1", KeyAlgorithm::hs256, kSecret, "", ""});
  return k;
}

std::string b64url(const std::string& s) {
  return QByteArray::fromStdString(s)
      .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
      .toStdString();
}

json claims_for(const std::string& sub, std::int64_t exp_offset = 3600) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return {{"iss", "mambogo"}, {"aud", "mambogo-api"}, {"sub", sub}, {"roles", {"user"}},
          {"iat", now}, {"exp", now + exp_offset}};
}

// A token signed by hand with HMAC-SHA256 over `secret` (what an attacker can compute).
std::string hand_signed(const json& header, const json& claims, const std::string& secret) {
  const std::string signing_input = b64url(header.dump()) + "." + b64url(claims.dump());
  const QByteArray mac = QMessageAuthenticationCode::hash(QByteArray::fromStdString(signing_input),
                                                          QByteArray::fromStdString(secret),
                                                          QCryptographicHash::Sha256);
  return signing_input + "." +
         mac.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals).toStdString();
}

Request with_authorization(const std::string& value) {
  Request r;
  r.headers.push_back({"Authorization", value});
  return r;
}

}  // namespace

class TstToken : public QObject {
  Q_OBJECT

 private slots:
  void hs256_round_trip_carries_subject_and_roles() {
    TokenIssuer issuer(hs_keys());
    TokenVerifier verifier(hs_keys());
    TokenRequest req;
    req.subject = "alice";
    req.roles = {"user", "admin"};
    const auto result = verifier.verify(issuer.issue(req));
    QVERIFY(result);
    QCOMPARE(result.identity->subject, std::string("alice"));
    QVERIFY(result.identity->has_role("admin"));
    QVERIFY(!result.identity->has_role("service"));
    QVERIFY(!result.identity->token_id.empty());
  }

  // The verifier remembers tokens it has checked. A forged token that reuses a good one's
  // signature (the part the cache hashes) with other claims must still be checked in full.
  void cached_token_does_not_vouch_for_a_forgery_with_its_signature() {
    TokenVerifier verifier(hs_keys());
    const json header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "hs1"}};
    const std::string good = hand_signed(header, claims_for("alice"), kSecret);
    QVERIFY(verifier.verify(good));
    QVERIFY(verifier.verify(good));  // now from the cache

    json forged_claims = claims_for("mallory");
    forged_claims["roles"] = {"admin"};
    const std::string signature = good.substr(good.rfind('.'));
    const std::string forged =
        b64url(header.dump()) + "." + b64url(forged_claims.dump()) + signature;
    const auto refused = verifier.verify(forged);
    QVERIFY(!refused);
    QCOMPARE(refused.error, TokenError::bad_signature);
    const auto again = verifier.verify(good);  // and the good one is still known as itself
    QVERIFY(again);
    QCOMPARE(again.identity->subject, std::string("alice"));
  }

  void rs256_round_trip_and_rotation_by_kid() {
    const KeySet generated = KeySet::generate();
    TokenIssuer issuer(generated);
    TokenVerifier verifier(generated);
    TokenRequest req;
    req.subject = "bob";
    QVERIFY(verifier.verify(issuer.issue(req)));  // signed with the RS256 signing key
    req.kid = generated.keys.front().kid;        // the HS256 key of the same set
    QVERIFY(verifier.verify(issuer.issue(req)));

    // Rotation: a verifier that no longer has the old key refuses its tokens by name.
    KeySet rotated = generated;
    rotated.keys.erase(rotated.keys.begin());
    TokenVerifier after_rotation(rotated);
    const auto refused = after_rotation.verify(issuer.issue(req));
    QVERIFY(!refused);
    QCOMPARE(refused.error, TokenError::unknown_key);
  }

  void verifier_needs_only_the_public_key() {
    KeySet full = KeySet::generate();
    TokenIssuer issuer(full);
    KeySet public_only = full;
    for (auto& k : public_only.keys) k.private_key_pem.clear();
    TokenVerifier verifier(public_only);
    TokenRequest req;
    req.subject = "carol";
    QVERIFY(verifier.verify(issuer.issue(req)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, TokenIssuer{public_only});
  }

  void alg_none_is_refused() {
    TokenVerifier verifier(hs_keys());
    const std::string token = b64url(json{{"alg", "none"}, {"typ", "JWT"}}.dump()) + "." +
                              b64url(claims_for("mallory").dump()) + ".";
    const auto result = verifier.verify(token);
    QVERIFY(!result);
    QCOMPARE(result.error, TokenError::algorithm_mismatch);
  }

  void hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic confusion: the attacker knows the public key and signs HS256 with it.
    const KeySet keys = KeySet::generate();
    const Key& rsa = keys.keys.back();
    QCOMPARE(rsa.algorithm, KeyAlgorithm::rs256);
    TokenVerifier verifier(keys);
    const std::string forged =
        hand_signed({{"alg", "HS256"}, {"kid", rsa.kid}}, claims_for("mallory"), rsa.public_key_pem);
    const auto result = verifier.verify(forged);
    QVERIFY(!result);
    QCOMPARE(result.error, TokenError::algorithm_mismatch);
  }

  void hand_signed_with_the_right_secret_passes_with_the_wrong_one_fails() {
    TokenVerifier verifier(hs_keys());
    QVERIFY(verifier.verify(hand_signed({{"alg", "HS256"}, {"kid", "hs1"}}, claims_for("dave"), kSecret)));
    const auto bad = verifier.verify(
        hand_signed({{"alg", "HS256"}, {"kid", "hs1"}}, claims_for("dave"), kSecret + "x"));
    QVERIFY(!bad);
    QCOMPARE(bad.error, TokenError::bad_signature);
  }

  void claims_are_checked() {
    TokenVerifier verifier(hs_keys(), 30s);
    const json header{{"alg", "HS256"}, {"kid", "hs1"}};
    auto expect = [&](json claims, TokenError error) {
      const auto r = verifier.verify(hand_signed(header, claims, kSecret));
      QVERIFY2(!r, claims.dump().c_str());
      QCOMPARE(to_string(r.error), to_string(error));
    };
    expect(claims_for("erin", -60), TokenError::expired);          // beyond the 30 s leeway
    json c = claims_for("erin");
    c["nbf"] = c["iat"].get<std::int64_t>() + 600;
    expect(c, TokenError::not_yet_valid);
    c = claims_for("erin");
    c["iss"] = "someone-else";
    expect(c, TokenError::wrong_issuer);
    c = claims_for("erin");
    c["aud"] = "another-api";
    expect(c, TokenError::wrong_audience);
    c = claims_for("erin");
    c.erase("exp");
    expect(c, TokenError::missing_claim);
    c = claims_for("erin");
    c["sub"] = "";
    expect(c, TokenError::missing_claim);

    // Within the leeway, and an audience array containing ours: accepted.
    c = claims_for("erin", -10);
    c["aud"] = {"x", "mambogo-api"};
    QVERIFY(verifier.verify(hand_signed(header, c, kSecret)));
  }

  void malformed_tokens_are_refused_not_crashed_on() {
    TokenVerifier verifier(hs_keys());
    for (const std::string& t : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", "bnVsbA.bnVsbA.x",
                                std::string(5000, 'A') + "." + std::string(10, 'B') + ".C"}) {
      const auto r = verifier.verify(t);
      QVERIFY2(!r, t.substr(0, 40).c_str());
    }
    QCOMPARE(verifier.verify("a.b").error, TokenError::malformed);
  }

  void authorization_header_forms() {
    TokenIssuer issuer(hs_keys());
    TokenVerifier verifier(hs_keys());
    TokenRequest req;
    req.subject = "frank";
    const std::string token = issuer.issue(req);
    QVERIFY(verifier.verify(with_authorization("Bearer " + token)));
    QVERIFY(verifier.verify(with_authorization("bearer " + token)));
    QCOMPARE(verifier.verify(with_authorization("Basic " + token)).error, TokenError::missing);
    QCOMPARE(verifier.verify(Request{}).error, TokenError::missing);
  }

  void authenticate_answers_401_with_www_authenticate_and_403_for_a_missing_role() {
    TokenIssuer issuer(hs_keys());
    TokenVerifier verifier(hs_keys());
    Response denied;
    QVERIFY(!authenticate(verifier, with_authorization("Bearer x.y.z"), denied));
    QCOMPARE(denied.status, 401);
    bool has_challenge = false;
    for (const auto& h : denied.headers)
      has_challenge |= h.name == "WWW-Authenticate" && h.value.find("invalid_token") != std::string::npos;
    QVERIFY(has_challenge);

    TokenRequest req;
    req.subject = "gina";
    const Request user = with_authorization("Bearer " + issuer.issue(req));
    QVERIFY(!require_role(verifier, user, kRoleAdmin, denied));
    QCOMPARE(denied.status, 403);
    std::string actor;
    const auto guard = admin_guard(verifier);
    QVERIFY(guard(user, actor).has_value());
    req.roles = {"admin"};
    QVERIFY(!guard(with_authorization("Bearer " + issuer.issue(req)), actor).has_value());
    QCOMPARE(actor, std::string("gina"));
  }

  void key_files_are_validated_with_clear_messages() {
    const KeySet generated = KeySet::generate();
    const KeySet reloaded = KeySet::from_json(generated.to_json());
    QCOMPARE(reloaded.signing_kid, generated.signing_kid);
    QCOMPARE(reloaded.keys.size(), generated.keys.size());

    auto refused = [](const std::string& text, const std::string& expected_part) {
      try {
        KeySet::from_json(text);
      } catch (const std::invalid_argument& e) {
        return std::string(e.what()).find(expected_part) != std::string::npos;
      }
      return false;
    };
    QVERIFY(refused("{", "not JSON"));
    QVERIFY(refused("[]", "not a JSON object"));
    QVERIFY(refused(R"({"keys": 3})", "\"keys\" must be an array"));
    QVERIFY(refused(R"({"keys": [{"kid": "a", "alg": "HS256", "secret": "short"}]})", "at least 32"));
    QVERIFY(refused(R"({"keys": [{"kid": "a", "alg": "none"}]})", "accepted: HS256, RS256"));
    QVERIFY(refused(R"({"keys": [{"kid": "a", "alg": "RS256", "public_key_pem": "junk"}]})", "public_key_pem"));
    QVERIFY(refused(R"({"signing_kid": "zz", "keys": [{"kid": "a", "alg": "HS256", "secret": "0123456789abcdef0123456789abcdef"}]})",
                    "signing_kid"));
    QVERIFY(refused(R"({"keys": [{"kid": "a", "alg": "HS256", "secret": "0123456789abcdef0123456789abcdef"},
                                  {"kid": "a", "alg": "HS256", "secret": "0123456789abcdef0123456789abcdef"}]})",
                    "duplicate kid"));
  }

  void configuration_reports_missing_or_bad_keys() {
    {
      Config config({}, {});
      const KeySet keys = read_key_set(config);
      QVERIFY(keys.keys.empty());
      QVERIFY_THROWS_EXCEPTION(ConfigError, config.finish());
    }
    {
      Config config({"AUTH_HS256_SECRET=short"}, {});
      read_key_set(config);
      QVERIFY_THROWS_EXCEPTION(ConfigError, config.finish());
    }
    {
      Config config({"AUTH_HS256_SECRET=" + kSecret, "AUTH_AUDIENCE=shop"}, {});
      const KeySet keys = read_key_set(config);
      config.finish();
      QCOMPARE(keys.audience, std::string("shop"));
      QCOMPARE(keys.keys.front().kid, std::string("default"));
    }
  }
};

QTEST_GUILESS_MAIN(TstToken)
#include "tst_token.moc"
