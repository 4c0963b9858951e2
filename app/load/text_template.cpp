#include "load/text_template.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>

namespace mambogo::load {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "name(a, b)" into name and trimmed arguments; no parentheses gives no arguments.
struct Call {
  std::string_view name;
  std::vector<std::string_view> args;
  bool has_parens = false;
};

Call parse_call(std::string_view expr) {
  Call c;
  auto open = expr.find('(');
  if (open == std::string_view::npos) {
    c.name = trim(expr);
    return c;
  }
  if (expr.back() != ')')
    throw TemplateError("malformed expression '" + std::string(expr) + "': missing ')'");
  c.has_parens = true;
  c.name = trim(expr.substr(0, open));
  std::string_view inner = expr.substr(open + 1, expr.size() - open - 2);
  if (trim(inner).empty()) return c;
  std::size_t start = 0;
  for (;;) {
    auto comma = inner.find(',', start);
    c.args.push_back(
        trim(inner.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return c;
}

std::int64_t to_int(std::string_view s, std::string_view expr) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    throw TemplateError("'" + std::string(s) + "' is not an integer in '" + std::string(expr) + "'");
  return v;
}

Template::Part range_part(Template::Kind kind, const Call& c, std::string_view expr, std::int64_t def_a,
                          std::int64_t def_b) {
  Template::Part p{kind, {}, {}, def_a, def_b};
  if (c.args.size() >= 2) {
    p.a = to_int(c.args[0], expr);
    p.b = to_int(c.args[1], expr);
  } else if (!c.args.empty()) {
    throw TemplateError("'" + std::string(expr) + "' needs two arguments (min, max)");
  }
  if (p.a > p.b) throw TemplateError("'" + std::string(expr) + "': min is above max");
  return p;
}

Template::Part artillery_part(std::string_view expr) {
  using K = Template::Kind;
  if (expr.empty()) throw TemplateError("empty expression '{{ }}'");
  if (expr.front() != '$') return {K::variable, std::string(expr)};
  for (std::string_view prefix : {"$processEnvironment.", "$env."})
    if (expr.starts_with(prefix)) return {K::env, std::string(expr.substr(prefix.size()))};
  Call c = parse_call(expr);
  if (c.name == "$uuid" && !c.has_parens) return {K::vu_uuid};
  if (c.name == "$randomUUID") return {K::random_uuid};
  if (c.name == "$randomInt" || c.name == "$randomNumber")
    return range_part(K::random_int, c, expr, 0, 10'000'000);
  if (c.name == "$randomString") {
    Template::Part p{K::random_string, {}, {}, 10, 0};
    if (!c.args.empty()) p.a = to_int(c.args[0], expr);
    if (p.a < 0 || p.a > 1'000'000) throw TemplateError("'" + std::string(expr) + "': length out of range");
    return p;
  }
  throw TemplateError("unsupported template function '" + std::string(c.name) + "' in '{{ " +
                      std::string(expr) + " }}'");
}

Template::Part jmeter_part(std::string_view expr) {
  using K = Template::Kind;
  if (expr.empty()) throw TemplateError("empty expression '${}'");
  if (!expr.starts_with("__")) return {K::variable, std::string(expr)};
  Call c = parse_call(expr);
  if (c.name == "__UUID") return {K::random_uuid};
  if (c.name == "__time") return {K::time_ms};
  if (c.name == "__Random") return range_part(K::random_int, c, expr, 0, 0);
  if (c.name == "__P" || c.name == "__property") {
    if (c.args.empty() || c.args[0].empty())
      throw TemplateError("'${" + std::string(expr) + "}' needs a property name");
    return {K::property, std::string(c.args[0]), c.args.size() > 1 ? std::string(c.args[1]) : std::string()};
  }
  throw TemplateError("unsupported JMeter function '" + std::string(c.name) + "' in '${" + std::string(expr) +
                      "}'");
}

}  // namespace

std::string random_uuid(std::mt19937_64& rng) {
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    std::uint64_t word = i < 16 ? hi : lo;
    out.push_back(hex[(word >> (60 - 4 * (i % 16))) & 0xf]);
  }
  return out;
}

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Template Template::compile(std::string_view text) {
  Template t;
  t.source_ = std::string(text);
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    bool artillery = text.compare(i, 2, "{{") == 0;
    bool jmeter = text.compare(i, 2, "${") == 0;
    if (!artillery && !jmeter) {
      literal.push_back(text[i++]);
      continue;
    }
    std::string_view close = artillery ? "}}" : "}";
    auto end = text.find(close, i + 2);
    if (end == std::string_view::npos)
      throw TemplateError("unterminated '" + std::string(artillery ? "{{" : "${") + "' in '" +
                          std::string(text) + "'");
    if (!literal.empty()) t.parts_.push_back({Kind::literal, std::move(literal)});
    literal.clear();
    std::string_view expr = trim(text.substr(i + 2, end - i - 2));
    t.parts_.push_back(artillery ? artillery_part(expr) : jmeter_part(expr));
    i = end + close.size();
  }
  if (!literal.empty()) t.parts_.push_back({Kind::literal, std::move(literal)});
  return t;
}

bool Template::is_constant() const {
  for (const auto& p : parts_)
    if (p.kind != Kind::literal) return false;
  return true;
}

std::string Template::render(const RenderContext& ctx) const {
  std::string out;
  for (const auto& p : parts_) {
    switch (p.kind) {
      case Kind::literal:
        out += p.text;
        break;
      case Kind::variable:
        if (auto it = ctx.vars.find(p.text); it != ctx.vars.end()) out += it->second;
        break;
      case Kind::env:
        if (auto v = ctx.env(p.text)) out += *v;
        break;
      case Kind::vu_uuid:
        out += ctx.vu_uuid;
        break;
      case Kind::random_uuid:
        out += random_uuid(ctx.rng);
        break;
      case Kind::random_int:
        out += std::to_string(std::uniform_int_distribution<std::int64_t>(p.a, p.b)(ctx.rng));
        break;
      case Kind::random_string: {
        static constexpr char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::uniform_int_distribution<int> pick(0, 61);
        for (std::int64_t k = 0; k < p.a; ++k) out.push_back(alnum[pick(ctx.rng)]);
        break;
      }
      case Kind::property:
        if (auto it = ctx.properties.find(p.text); it != ctx.properties.end())
          out += it->second;
        else if (auto v = ctx.env(p.text))
          out += *v;
        else
          out += p.fallback;
        break;
      case Kind::time_ms:
        out += std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
        break;
    }
  }
  return out;
}

}  // namespace mambogo::load
