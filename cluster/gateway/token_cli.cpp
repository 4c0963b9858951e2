// mambogo-token: key sets and tokens for local use (load plans take AUTH_TOKEN from it).
//
//   mambogo-token keygen --out keys.json [--force]
//       writes a fresh key set (one HS256 and one RS256 key, signing with RS256), mode 0600
//   mambogo-token issue --keys keys.json --sub alice [--roles user,admin] [--ttl 1h] [--kid k]
//       prints one signed token on stdout
//
// Exit codes: 0 done, 1 the work failed (unreadable key file, ...), 2 bad command line.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "runtime/auth/token.h"

using namespace mambogo::runtime::auth;

namespace {

// "90s", "30m", "1h", "7d" or a bare number of seconds.
std::chrono::seconds parse_ttl(const std::string& text) {
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("--ttl must look like 90s, 30m, 1h or 7d");
  }
  const std::string unit = text.substr(used);
  const long long factor = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600
                           : unit == "d" ? 86400 : 0;
  if (factor == 0 || n <= 0) throw std::invalid_argument("--ttl must look like 90s, 30m, 1h or 7d");
  return std::chrono::seconds(n * factor);
}

std::vector<std::string> split_roles(const std::vector<std::string>& given) {
  std::vector<std::string> roles;
  for (const auto& item : given) {
    std::stringstream in(item);
    std::string role;
    while (std::getline(in, role, ','))
      if (!role.empty()) roles.push_back(role);
  }
  return roles;
}

int keygen(const std::string& out, bool force) {
  if (!force && std::filesystem::exists(out)) {
    std::cerr << "mambogo-token: " << out << " exists (use --force to replace it)\n";
    return 1;
  }
  const std::string text = KeySet::generate().to_json();
  {
    std::ofstream file(out, std::ios::trunc);
    file << text << "\n";
    if (!file) {
      std::cerr << "mambogo-token: cannot write " << out << "\n";
      return 1;
    }
  }
  ::chmod(out.c_str(), 0600);  // secrets
  std::cerr << "wrote key set to " << out << "\n";
  return 0;
}

int issue(const std::string& keys_file, const std::string& sub, const std::vector<std::string>& roles,
          const std::string& ttl, const std::string& kid) {
  TokenRequest request;
  request.subject = sub;
  request.roles = split_roles(roles);
  request.ttl = parse_ttl(ttl);
  request.kid = kid;
  TokenIssuer issuer(KeySet::load_file(keys_file));
  std::cout << issuer.issue(request) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mambogo-token: key sets and JWTs for local use"};
  app.require_subcommand(1);

  std::string out;
  bool force = false;
  auto* keygen_cmd = app.add_subcommand("keygen", "write a fresh key set (HS256 + RS256)");
  keygen_cmd->add_option("--out", out, "key file to write")->required();
  keygen_cmd->add_flag("--force", force, "replace an existing file");

  std::string keys_file, sub, ttl = "1h", kid;
  std::vector<std::string> roles{"user"};
  auto* issue_cmd = app.add_subcommand("issue", "print a signed token");
  issue_cmd->add_option("--keys", keys_file, "key file (AUTH_KEYS_FILE)")->required()->check(CLI::ExistingFile);
  issue_cmd->add_option("--sub", sub, "subject: user id or service name")->required();
  issue_cmd->add_option("--roles", roles, "roles, comma-separated (user, admin, service)")->delimiter(',');
  issue_cmd->add_option("--ttl", ttl, "lifetime: 90s, 30m, 1h, 7d");
  issue_cmd->add_option("--kid", kid, "signing key id (default: the set's signing key)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*keygen_cmd) return keygen(out, force);
    return issue(keys_file, sub, roles, ttl, kid);
  } catch (const std::exception& e) {
    std::cerr << "mambogo-token: " << e.what() << "\n";
    return 1;
  }
}
