// Template strings of load plans, compiled once and rendered per request. Two syntaxes are
// understood in every string:
//   Artillery  {{ name }}  {{ $uuid }}  {{ $randomUUID() }}  {{ $randomInt(a, b) }}
//              {{ $randomNumber(a, b) }}  {{ $randomString() }} / {{ $randomString(n) }}
//              {{ $processEnvironment.X }}  {{ $env.X }}
//   JMeter     ${name}  ${__UUID}  ${__UUID()}  ${__P(name,default)}  ${__Random(a,b)}
//              ${__time}  ${__time()}
// $uuid is one UUID per virtual user; $randomUUID() and ${__UUID} are new at every use.
// ${__P(name,default)} reads a property given on the command line, then the environment.
// A missing variable renders as the empty string (as Artillery does).
//
// Errors: compile() throws TemplateError naming the unknown function or the malformed
// expression. Thread-safety: a compiled Template is immutable and may be rendered from any
// number of threads, each with its own RenderContext.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mambogo::load {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Variables = std::map<std::string, std::string, std::less<>>;
// Looks a name up in the process environment (or a test's fake one).
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Everything a render may read or draw from. Owned by one virtual user.
struct RenderContext {
  const Variables& vars;
  std::mt19937_64& rng;
  const EnvLookup& env;
  const Variables& properties;  // JMeter -J style properties
  std::string_view vu_uuid;
};

std::string random_uuid(std::mt19937_64& rng);
EnvLookup process_environment();

class Template {
 public:
  Template() = default;
  static Template compile(std::string_view text);

  std::string render(const RenderContext& ctx) const;
  bool is_constant() const;  // no expression: render() always returns the same text
  const std::string& source() const { return source_; }

  enum class Kind {
    literal,
    variable,
    env,
    vu_uuid,
    random_uuid,
    random_int,
    random_string,
    property,
    time_ms
  };
  struct Part {
    Part(Kind k = Kind::literal, std::string t = {}, std::string f = {}, std::int64_t lo = 0,
         std::int64_t hi = 0)
        : kind(k), text(std::move(t)), fallback(std::move(f)), a(lo), b(hi) {}
    Kind kind;
    std::string text;      // literal text, variable/env/property name
    std::string fallback;  // property default
    std::int64_t a, b;
  };

 private:
  std::string source_;
  std::vector<Part> parts_;
};

}  // namespace mambogo::load
