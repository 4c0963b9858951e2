#include "objects/selector.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace mambogo::sim {

namespace {

using Json = nlohmann::json;
using Op = LabelSelector::Op;

std::string label_value(const Json& labels, const std::string& key, bool& present) {
  present = false;
  if (!labels.is_object()) return {};
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return {};
  present = true;
  return it->get<std::string>();
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  std::vector<LabelSelector::Requirement> parse() {
    std::vector<LabelSelector::Requirement> out;
    skip_spaces();
    if (at_end()) return out;
    while (true) {
      out.push_back(requirement());
      skip_spaces();
      if (at_end()) break;
      expect(',');
    }
    return out;
  }

 private:
  LabelSelector::Requirement requirement() {
    skip_spaces();
    if (peek() == '!') {
      ++pos_;
      return {word("a label key"), Op::does_not_exist, {}};
    }
    std::string key = word("a label key");
    skip_spaces();
    if (at_end() || peek() == ',') return {key, Op::exists, {}};
    if (consume("==") || consume("=")) return {key, Op::equals, {value()}};
    if (consume("!=")) return {key, Op::not_equals, {value()}};
    std::string op = word("an operator (=, ==, !=, in, notin)");
    if (op != "in" && op != "notin") fail("unknown operator \"" + op + "\"");
    skip_spaces();
    expect('(');
    std::vector<std::string> values;
    while (true) {
      skip_spaces();
      values.push_back(word("a value"));
      skip_spaces();
      if (peek() == ')') break;
      expect(',');
    }
    expect(')');
    return {key, op == "in" ? Op::in : Op::not_in, values};
  }

  std::string value() {
    skip_spaces();
    const std::size_t start = pos_;
    while (!at_end() && is_word_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);  // an empty value is allowed ("a=")
  }

  std::string word(const char* what) {
    skip_spaces();
    const std::size_t start = pos_;
    while (!at_end() && is_word_char(peek())) ++pos_;
    if (pos_ == start) fail(std::string("expected ") + what);
    return text_.substr(start, pos_ - start);
  }

  static bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  }
  bool consume(const char* token) {
    const std::string t(token);
    if (text_.compare(pos_, t.size(), t) != 0) return false;
    pos_ += t.size();
    return true;
  }
  void expect(char c) {
    skip_spaces();
    if (at_end() || peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void skip_spaces() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument("label selector \"" + text_ + "\" at " + std::to_string(pos_) + ": " + why);
  }
  char peek() const { return text_[pos_]; }
  bool at_end() const { return pos_ >= text_.size(); }

  const std::string& text_;
  std::size_t pos_ = 0;
};

}  // namespace

LabelSelector LabelSelector::from_map(const Json& labels) {
  LabelSelector s;
  if (labels.is_null()) return s;
  if (!labels.is_object()) throw std::invalid_argument("selector must be a map of label names to values");
  for (const auto& [key, value] : labels.items()) {
    if (!value.is_string()) throw std::invalid_argument("selector label \"" + key + "\" must have a string value");
    s.requirements_.push_back({key, Op::equals, {value.get<std::string>()}});
  }
  return s;
}

LabelSelector LabelSelector::from_json(const Json& selector) {
  LabelSelector s;
  if (selector.is_null()) return s;
  if (!selector.is_object()) throw std::invalid_argument("selector must be an object with matchLabels/matchExpressions");
  if (selector.contains("matchLabels")) s = from_map(selector["matchLabels"]);
  for (const auto& e : selector.value("matchExpressions", Json::array())) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("operator"))
      throw std::invalid_argument("matchExpressions entries need key and operator");
    const std::string op = e["operator"].is_string() ? e["operator"].get<std::string>() : "";
    std::vector<std::string> values;
    for (const auto& v : e.value("values", Json::array())) {
      if (!v.is_string()) throw std::invalid_argument("matchExpressions values must be strings");
      values.push_back(v.get<std::string>());
    }
    Op kind;
    if (op == "In") kind = Op::in;
    else if (op == "NotIn") kind = Op::not_in;
    else if (op == "Exists") kind = Op::exists;
    else if (op == "DoesNotExist") kind = Op::does_not_exist;
    else throw std::invalid_argument("matchExpressions operator \"" + op + "\" is not In, NotIn, Exists or DoesNotExist");
    if ((kind == Op::in || kind == Op::not_in) && values.empty())
      throw std::invalid_argument("matchExpressions " + op + " needs values");
    if ((kind == Op::exists || kind == Op::does_not_exist) && !values.empty())
      throw std::invalid_argument("matchExpressions " + op + " takes no values");
    s.requirements_.push_back({e["key"].get<std::string>(), kind, std::move(values)});
  }
  return s;
}

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector s;
  s.requirements_ = Parser(text).parse();
  return s;
}

bool LabelSelector::matches(const Json& labels) const {
  for (const auto& r : requirements_) {
    bool present = false;
    const std::string value = label_value(labels, r.key, present);
    const bool listed = std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    switch (r.op) {
      case Op::equals:
      case Op::in:
        if (!present || !listed) return false;
        break;
      case Op::not_equals:
      case Op::not_in:
        if (present && listed) return false;
        break;
      case Op::exists:
        if (!present) return false;
        break;
      case Op::does_not_exist:
        if (present) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ',';
    auto joined = [&] {
      std::string j;
      for (const auto& v : r.values) j += (j.empty() ? "" : ",") + v;
      return j;
    };
    switch (r.op) {
      case Op::equals: out += r.key + "=" + r.values.at(0); break;
      case Op::not_equals: out += r.key + "!=" + r.values.at(0); break;
      case Op::in: out += r.key + " in (" + joined() + ")"; break;
      case Op::not_in: out += r.key + " notin (" + joined() + ")"; break;
      case Op::exists: out += r.key; break;
      case Op::does_not_exist: out += "!" + r.key; break;
    }
  }
  return out;
}

int resolve_int_or_percent(const Json& value, int total, bool round_up) {
  if (value.is_number_integer()) return value.get<int>();
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (!text.empty() && text.back() == '%') {
      try {
        std::size_t used = 0;
        const int percent = std::stoi(text.substr(0, text.size() - 1), &used);
        if (used == text.size() - 1 && percent >= 0) {
          const double exact = static_cast<double>(percent) * total / 100.0;
          return static_cast<int>(round_up ? std::ceil(exact) : std::floor(exact));
        }
      } catch (const std::exception&) {
      }
    }
    throw std::invalid_argument("\"" + text + "\" is not an integer or a percentage (\"25%\")");
  }
  throw std::invalid_argument(value.dump() + " is not an integer or a percentage");
}

}  // namespace mambogo::sim
