// Self-signed TLS material for the API server, made with OpenSSL's C API.
//
// generate_tls(dir) writes dir/ca.crt, ca.key (a CA, EC P-256, valid 10 years) and
// dir/server.crt, server.key (signed by that CA; subjectAltName IP:127.0.0.1 and
// DNS:localhost; serverAuth; valid 1 year). When all four files exist, parse, the server
// certificate is signed by the CA, matches its key and stays valid for at least a day more,
// it leaves them alone. Keys are written with mode 0600. Creates dir when missing.
// Throws std::runtime_error naming the file or the OpenSSL step that failed.
// Thread-safety: do not run two calls on the same directory at once.
#pragma once

#include <filesystem>

namespace mambogo::sim {

void generate_tls(const std::filesystem::path& dir);

}  // namespace mambogo::sim
