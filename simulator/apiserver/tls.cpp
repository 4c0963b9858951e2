#include "apiserver/tls.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/stat.h>

namespace mambogo::sim {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using File = std::unique_ptr<FILE, Free>;

constexpr long kDay = 24 * 60 * 60;

void check(bool ok, const std::string& step) {
  if (!ok) throw std::runtime_error("generate_tls: OpenSSL failed to " + step);
}

Key new_key() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "generate an EC P-256 key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  check(ext != nullptr, std::string("make the extension ") + value);
  check(X509_add_ext(cert, ext.get(), -1) == 1, std::string("add the extension ") + value);
}

// issuer null: self-signed (the CA).
Cert make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* signing_key, long days) {
  Cert cert(X509_new());
  check(cert != nullptr, "allocate a certificate");
  check(X509_set_version(cert.get(), 2) == 1, "set the certificate version");
  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "make a serial number");
  serial_bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, Free> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  check(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr, "set the serial number");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "set notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * kDay) != nullptr, "set notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "set the public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mambogo"), -1, -1, 0) == 1,
        "set the organization");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                   0) == 1,
        "set the common name");
  X509* signer = issuer ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "set the issuer");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  }
  check(X509_sign(cert.get(), signing_key, EVP_sha256()) > 0, "sign the certificate");
  return cert;
}

File open_file(const std::filesystem::path& path, const char* mode) {
  File f(std::fopen(path.c_str(), mode));
  if (!f) throw std::runtime_error("generate_tls: cannot open " + path.string());
  return f;
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  const auto temporary = path.string() + ".tmp";
  {
    File f = open_file(temporary, "w");
    ::chmod(temporary.c_str(), 0600);
    check(PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write " + path.string());
  }
  std::filesystem::rename(temporary, path);
}

void write_cert(const std::filesystem::path& path, X509* cert) {
  const auto temporary = path.string() + ".tmp";
  {
    File f = open_file(temporary, "w");
    check(PEM_write_X509(f.get(), cert) == 1, "write " + path.string());
  }
  std::filesystem::rename(temporary, path);
}

Key read_key(const std::filesystem::path& path) {
  File f(std::fopen(path.c_str(), "r"));
  if (!f) return nullptr;
  return Key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
}

Cert read_cert(const std::filesystem::path& path) {
  File f(std::fopen(path.c_str(), "r"));
  if (!f) return nullptr;
  return Cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

// The existing files are usable: they parse, the server certificate is the CA's, matches its
// key and is valid for at least another day.
bool existing_valid(const std::filesystem::path& dir) {
  Key ca_key = read_key(dir / "ca.key"), server_key = read_key(dir / "server.key");
  Cert ca = read_cert(dir / "ca.crt"), server = read_cert(dir / "server.crt");
  if (!ca_key || !server_key || !ca || !server) return false;
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) return false;
  if (X509_check_private_key(server.get(), server_key.get()) != 1) return false;
  if (X509_verify(server.get(), X509_get0_pubkey(ca.get())) != 1) return false;
  std::time_t tomorrow = std::time(nullptr) + kDay;
  return X509_cmp_time(X509_get0_notAfter(server.get()), &tomorrow) > 0 &&
         X509_cmp_time(X509_get0_notAfter(ca.get()), &tomorrow) > 0;
}

}  // namespace

void generate_tls(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("generate_tls: cannot create " + dir.string() + ": " + ec.message());
  if (existing_valid(dir)) return;
  Key ca_key = new_key();
  Cert ca = make_cert(ca_key.get(), "mambogo-cluster-ca", nullptr, ca_key.get(), 3650);
  Key server_key = new_key();
  Cert server = make_cert(server_key.get(), "mambogo-apiserver", ca.get(), ca_key.get(), 365);
  write_key(dir / "ca.key", ca_key.get());
  write_cert(dir / "ca.crt", ca.get());
  write_key(dir / "server.key", server_key.get());
  write_cert(dir / "server.crt", server.get());
}

}  // namespace mambogo::sim
