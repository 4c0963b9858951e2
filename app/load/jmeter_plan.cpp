// JMeter JMX → Plan. A JMX file is a tree where every element is followed by a <hashTree>
// holding its children; config elements, timers and assertions apply to every sampler in
// their scope (their own level and below), which walk() reproduces with a Scope per level.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <random>
#include <set>
#include <sstream>

#include "load/plan_parsers.h"

namespace mambogo::load {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// The elements that only observe a run (listeners): skipped with a warning, never an error.
const std::set<std::string> listeners = {"ResultCollector", "Summariser", "BackendListener"};

struct Scope {
  std::vector<HeaderTemplate> headers;
  std::vector<Step> timers;  // think steps run before each sampler
  std::vector<Assertion> assertions;
};

class Reader {
 public:
  Reader(std::string file, std::string text, const ParseOptions& options, Plan& plan)
      : file_(std::move(file)), text_(std::move(text)), options_(options), plan_(plan) {}

  int line_of(const pugi::xml_node& n) const {
    auto offset = n.offset_debug();
    if (offset < 0) return 0;
    return 1 +
           static_cast<int>(std::count(
               text_.begin(),
               text_.begin() + std::min<std::ptrdiff_t>(offset, static_cast<std::ptrdiff_t>(text_.size())),
               '\n'));
  }

  [[noreturn]] void fail(const pugi::xml_node& n, const std::string& message) const {
    throw PlanError(file_, line_of(n), message);
  }

  void unsupported(const pugi::xml_node& n, const std::string& what) {
    std::string message = "unsupported JMeter element '" + what + "'";
    if (listeners.count(n.name())) {
      plan_.warnings.push_back(at(n) + "listener '" + std::string(n.name()) +
                               "' ignored (results go to mambogo-load's own reports)");
      return;
    }
    if (!options_.lenient) fail(n, message);
    plan_.warnings.push_back(at(n) + message + " (skipped)");
  }

  std::string at(const pugi::xml_node& n) const { return file_ + ":" + std::to_string(line_of(n)) + ": "; }

  // A direct *Prop child by name (JMeter spellings vary in case between versions and tools).
  static pugi::xml_node prop_node(const pugi::xml_node& e, std::string_view name) {
    for (auto c : e.children())
      if (iequal(c.attribute("name").value(), name)) return c;
    return {};
  }
  static std::string prop(const pugi::xml_node& e, std::string_view name, std::string fallback = {}) {
    auto n = prop_node(e, name);
    std::string v = n ? n.text().get() : "";
    return v.empty() ? fallback : v;
  }

  Template tpl(const pugi::xml_node& at, const std::string& text, const std::string& what) const {
    try {
      return Template::compile(text);
    } catch (const TemplateError& e) {
      fail(at, what + ": " + e.what());
    }
  }

  // Thread-group numbers may be ${__P(...)} expressions: rendered now.
  double number(const pugi::xml_node& e, std::string_view name, double fallback) {
    std::string raw = prop(e, name);
    if (raw.empty()) return fallback;
    static const Variables none;
    std::mt19937_64 rng(0);
    RenderContext ctx{none, rng, options_.env, options_.properties, {}};
    std::string v = tpl(prop_node(e, name), raw, std::string(name)).render(ctx);
    if (v.empty()) return fallback;
    try {
      std::size_t used = 0;
      double d = std::stod(v, &used);
      if (used == v.size()) return d;
    } catch (const std::exception&) {
    }
    fail(prop_node(e, name), std::string(name) + " is not a number: '" + v + "'");
  }

  const std::string& file() const { return file_; }
  Plan& plan() { return plan_; }

 private:
  std::string file_;
  std::string text_;
  const ParseOptions& options_;
  Plan& plan_;
};

bool enabled(const pugi::xml_node& e) {
  return std::string_view(e.attribute("enabled").as_string("true")) != "false";
}

// Pairs each element of a hashTree with the hashTree of its children.
template <typename F>
void each_element(Reader& r, const pugi::xml_node& tree, F f) {
  for (auto e = tree.first_child(); e; e = e.next_sibling()) {
    if (e.type() != pugi::node_element) continue;
    if (std::string_view(e.name()) == "hashTree") r.fail(e, "hashTree without an element before it");
    auto children = e.next_sibling();
    while (children && children.type() != pugi::node_element) children = children.next_sibling();
    if (!children || std::string_view(children.name()) != "hashTree")
      r.fail(e, std::string("element '") + e.name() + "' is not followed by its <hashTree>");
    if (enabled(e)) f(e, children);
    e = children;
  }
}

void read_arguments(Reader& r, const pugi::xml_node& args, std::vector<VariableDef>& out) {
  auto coll = Reader::prop_node(args, "Arguments.arguments");
  for (auto a : coll.children("elementProp")) {
    std::string name = Reader::prop(a, "Argument.name");
    if (name.empty()) r.fail(a, "user-defined variable without a name");
    out.push_back({name, {r.tpl(a, Reader::prop(a, "Argument.value"), "variable " + name)}});
  }
}

void read_headers(Reader& r, const pugi::xml_node& e, std::vector<HeaderTemplate>& headers) {
  for (auto h : Reader::prop_node(e, "HeaderManager.headers").children("elementProp")) {
    std::string name = Reader::prop(h, "Header.name");
    if (name.empty()) r.fail(h, "HeaderManager: header without a name");
    std::erase_if(headers, [&](const HeaderTemplate& x) { return iequal(x.name, name); });
    headers.push_back({name, r.tpl(h, Reader::prop(h, "Header.value"), "header " + name)});
  }
}

Step read_timer(Reader& r, const pugi::xml_node& e) {
  Step s;
  s.kind = Step::Kind::think;
  double delay = r.number(e, "ConstantTimer.delay", 300) / 1000.0;
  double range =
      std::string_view(e.name()) == "UniformRandomTimer" ? r.number(e, "RandomTimer.range", 100) / 1000.0 : 0;
  if (delay < 0 || range < 0 || delay + range > 86'400)
    r.fail(e, std::string(e.name()) + ": delay and range must be within 0..86400000 ms");
  s.think_min_s = delay;
  s.think_max_s = delay + range;
  return s;
}

Assertion read_assertion(Reader& r, const pugi::xml_node& e) {
  Assertion a;
  std::string field = Reader::prop(e, "Assertion.test_field");
  if (field == "Assertion.response_code")
    a.field = Assertion::Field::status;
  else if (field == "Assertion.response_data" || field.empty())
    a.field = Assertion::Field::body;
  else
    r.fail(e,
           "ResponseAssertion: test field '" + field + "' is not supported (response_code, response_data)");
  int type = static_cast<int>(r.number(e, "Assertion.test_type", 16));
  a.negate = type & 4;
  a.any = type & 32;
  if (type & 1)
    a.match = Assertion::Match::regex;
  else if (type & 2)
    a.match = Assertion::Match::contains;
  else if (type & 8)
    a.match = Assertion::Match::equals;
  else
    a.match = Assertion::Match::substring;
  auto strings = Reader::prop_node(e, "Asserion.test_strings");  // JMeter's own spelling
  if (!strings) strings = Reader::prop_node(e, "Assertion.test_strings");
  for (auto s : strings.children()) a.patterns.push_back(s.text().get());
  return a;
}

void read_csv_dataset(Reader& r, const pugi::xml_node& e) {
  Payload p;
  p.path = Reader::prop(e, "filename");
  if (p.path.empty()) r.fail(e, "CSVDataSet has no filename");
  std::filesystem::path csv = p.path;
  if (csv.is_relative()) csv = std::filesystem::path(r.file()).parent_path() / csv;
  std::string delimiter = Reader::prop(e, "delimiter", ",");
  if (delimiter == "\\t") delimiter = "\t";
  if (delimiter.size() != 1) r.fail(e, "CSVDataSet: delimiter must be one character");
  p.rows = read_csv(csv.string(), delimiter[0], r.file());
  std::string names = Reader::prop(e, "variableNames");
  bool ignore_first = Reader::prop(e, "ignoreFirstLine") == "true";
  if (names.empty() && !p.rows.empty()) {
    p.fields = p.rows.front();
    ignore_first = true;
  } else {
    std::stringstream ss(names);
    for (std::string f; std::getline(ss, f, ',');) p.fields.push_back(f);
  }
  if (ignore_first && !p.rows.empty()) p.rows.erase(p.rows.begin());
  if (p.rows.empty()) r.fail(e, "CSVDataSet: '" + csv.string() + "' has no data rows");
  p.sequential = true;  // JMeter reads CSV lines in order
  r.plan().payloads.push_back(std::move(p));
}

// JMeter reads a sampler's properties by their exact names (HTTPSamplerBaseSchema: HTTPSampler.*,
// but HTTPsampler.Arguments and HTTPsampler.Files) and ignores every XML attribute but guiclass,
// testclass, testname and enabled (ConversionHelp.restoreSpecialProperties). Plans written by
// hand or by generators (the seed's among them) spell them otherwise; mambogo-load reads those
// spellings too, and says in a warning that JMeter would not.
class SamplerFields {
 public:
  SamplerFields(Reader& r, const pugi::xml_node& e) : r_(r), e_(e) {}

  // The property `exact`, else one whose name differs only in case (noted).
  pugi::xml_node node(std::string_view exact) {
    for (auto c : e_.children())
      if (exact == c.attribute("name").value()) return c;
    auto n = Reader::prop_node(e_, exact);
    if (n && !std::string_view(n.text().get()).empty()) note(n.attribute("name").value());
    return n;
  }
  std::string property(std::string_view exact) { return node(exact).text().get(); }
  // The element's XML attribute (noted when used).
  std::string attribute(const char* name) {
    std::string v = e_.attribute(name).as_string();
    if (!v.empty()) note(std::string(name) + "=\"" + v + "\" attribute");
    return v;
  }

  void warn_if_jmeter_differs(const std::string& sampler) {
    if (ignored_.empty()) return;
    std::string list;
    bool domain = false;
    for (const auto& i : ignored_) {
      list += (list.empty() ? "" : ", ") + i;
      domain |= i.find("domain") != std::string::npos;
    }
    r_.plan().warnings.push_back(r_.at(e_) + "HTTPSamplerProxy '" + sampler + "': JMeter ignores " + list +
                                 " (it reads only HTTPSampler.* properties, spelled exactly), so JMeter "
                                 "itself would send " +
                                 (domain ? "no request for this sampler (no host)" : "this sampler without them") +
                                 "; mambogo-load uses them");
  }

 private:
  void note(std::string what) {
    if (std::find(ignored_.begin(), ignored_.end(), what) == ignored_.end()) ignored_.push_back(std::move(what));
  }
  Reader& r_;
  pugi::xml_node e_;
  std::vector<std::string> ignored_;
};

RequestStep read_sampler(Reader& r, const pugi::xml_node& e) {
  RequestStep req;
  req.name = e.attribute("testname").as_string("HTTP Request");
  SamplerFields f(r, e);
  std::string domain = f.property("HTTPSampler.domain");
  // With a domain among the properties, port and protocol come from the properties alone (the
  // seed's domain is ${BASE_URL}, which carries them; its port attribute would repeat the port).
  const bool from_props = !domain.empty();
  if (domain.empty()) domain = f.attribute("domain");
  std::string port = f.property("HTTPSampler.port"), protocol = f.property("HTTPSampler.protocol");
  if (!from_props && port.empty()) port = f.attribute("port");
  if (!from_props && protocol.empty()) protocol = f.attribute("protocol");
  std::string path = f.property("HTTPSampler.path"), method = f.property("HTTPSampler.method");
  if (path.empty()) path = f.attribute("path");
  if (method.empty()) method = f.attribute("method");
  if (method.empty()) method = "GET";  // JMeter 5.6's default
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::set<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  if (!methods.count(method))
    r.fail(e, "HTTPSamplerProxy '" + req.name + "': method '" + method + "' is not supported");
  if (protocol == "https") r.fail(e, "HTTPSamplerProxy '" + req.name + "': https is not supported");
  std::string encoding = f.property("HTTPSampler.contentEncoding");
  if (!encoding.empty() && !iequal(encoding, "UTF-8") && !iequal(encoding, "UTF8"))
    r.unsupported(e, "HTTPSamplerProxy '" + req.name + "' contentEncoding '" + encoding + "' (only UTF-8)");
  req.method = method;
  std::string base;
  if (!domain.empty())
    base = (protocol.empty() ? std::string() : protocol + "://") + domain + (port.empty() ? "" : ":" + port);
  req.base = r.tpl(e, base, "HTTPSamplerProxy '" + req.name + "' domain");
  req.url = r.tpl(e, path.empty() ? "/" : path, "HTTPSamplerProxy '" + req.name + "' path");

  req.post_body_raw = f.property("HTTPSampler.postBodyRaw") == "true";
  auto args = f.node("HTTPsampler.Arguments");
  for (auto a : Reader::prop_node(args, "Arguments.arguments").children("elementProp")) {
    SamplerArgument arg;
    arg.name = Reader::prop(a, "Argument.name");
    arg.value = r.tpl(a, Reader::prop(a, "Argument.value"),
                      "HTTPSamplerProxy '" + req.name + "' argument '" + arg.name + "'");
    arg.always_encode = Reader::prop(a, "HTTPArgument.always_encode") == "true";
    if (auto m = Reader::prop_node(a, "Argument.metadata")) arg.metadata = m.text().get();
    req.arguments.push_back(std::move(arg));
  }
  for (auto files : Reader::prop_node(f.node("HTTPsampler.Files"), "HTTPFileArgs.files").children())
    r.unsupported(files, "HTTPSamplerProxy file upload");
  f.warn_if_jmeter_differs(req.name);
  return req;
}

// Builds the steps of one level, with the scope inherited from above.
std::vector<Step> walk(Reader& r, const pugi::xml_node& tree, Scope scope, int depth) {
  if (depth > 16) r.fail(tree, "controllers nested more than 16 deep");
  // First pass: what applies to this whole level.
  each_element(r, tree, [&](const pugi::xml_node& e, const pugi::xml_node&) {
    std::string_view kind = e.name();
    if (kind == "HeaderManager")
      read_headers(r, e, scope.headers);
    else if (kind == "ConstantTimer" || kind == "UniformRandomTimer")
      scope.timers.push_back(read_timer(r, e));
    else if (kind == "ResponseAssertion")
      scope.assertions.push_back(read_assertion(r, e));
    else if (kind == "CSVDataSet")
      read_csv_dataset(r, e);
    else if (kind == "Arguments")
      read_arguments(r, e, r.plan().variables);
  });
  std::vector<Step> steps;
  each_element(r, tree, [&](const pugi::xml_node& e, const pugi::xml_node& children) {
    std::string_view kind = e.name();
    if (kind == "HTTPSamplerProxy") {
      Step s;
      s.request = read_sampler(r, e);
      Scope own = scope;
      // The sampler's children apply to it alone; the level's scope wraps around them.
      auto nested = walk(r, children, Scope{}, depth + 1);
      if (!nested.empty()) r.fail(children, "a sampler cannot contain samplers or controllers");
      each_element(r, children, [&](const pugi::xml_node& c, const pugi::xml_node&) {
        std::string_view ck = c.name();
        if (ck == "HeaderManager")
          read_headers(r, c, own.headers);
        else if (ck == "ConstantTimer" || ck == "UniformRandomTimer")
          own.timers.push_back(read_timer(r, c));
        else if (ck == "ResponseAssertion")
          own.assertions.push_back(read_assertion(r, c));
      });
      for (const auto& t : own.timers) steps.push_back(t);
      s.request.headers = own.headers;
      s.request.assertions = own.assertions;
      steps.push_back(std::move(s));
    } else if (kind == "LoopController" || kind == "GenericController") {
      Step loop;
      loop.kind = Step::Kind::loop;
      loop.loop_count =
          kind == "LoopController" ? static_cast<std::int64_t>(r.number(e, "LoopController.loops", 1)) : 1;
      if (loop.loop_count < 0 || loop.loop_count > 1'000'000)
        r.fail(e, "LoopController.loops must be within 0..1000000 inside a thread group");
      loop.loop_steps = walk(r, children, scope, depth + 1);
      steps.push_back(std::move(loop));
    } else if (kind != "HeaderManager" && kind != "ConstantTimer" && kind != "UniformRandomTimer" &&
               kind != "ResponseAssertion" && kind != "CSVDataSet" && kind != "Arguments") {
      r.unsupported(e, std::string(kind) + " '" + e.attribute("testname").as_string() + "'");
    }
  });
  return steps;
}

void read_thread_group(Reader& r, const pugi::xml_node& e, const pugi::xml_node& children,
                       const Scope& plan_scope) {
  Plan& plan = r.plan();
  VuGroup g;
  g.name = e.attribute("testname").as_string("Thread Group");
  g.vus = static_cast<int>(r.number(e, "ThreadGroup.num_threads", 1));
  g.ramp_up_s = r.number(e, "ThreadGroup.ramp_time", 1);
  auto controller = Reader::prop_node(e, "ThreadGroup.main_controller");
  g.loops = static_cast<std::int64_t>(r.number(controller, "LoopController.loops", 1));
  if (Reader::prop(controller, "LoopController.continue_forever") == "true" && g.loops < 0) g.loops = -1;
  if (Reader::prop(e, "ThreadGroup.scheduler") == "true") {
    double duration = r.number(e, "ThreadGroup.duration", 0);
    if (duration > 0) g.duration_s = duration;
    g.delay_s = r.number(e, "ThreadGroup.delay", 0);
  }
  if (g.vus < 1 || g.vus > 1'000'000) r.fail(e, "ThreadGroup.num_threads must be within 1..1000000");
  if (g.ramp_up_s < 0 || g.delay_s < 0) r.fail(e, "ThreadGroup ramp_time and delay must not be negative");
  if (g.loops == 0 || g.loops < -1) r.fail(e, "LoopController.loops must be positive or -1 (forever)");
  if (g.loops < 0 && !g.duration_s)
    r.fail(e, "ThreadGroup '" + g.name + "' loops forever without a scheduler duration");
  Scenario s;
  s.name = g.name;
  s.steps = walk(r, children, plan_scope, 0);
  if (s.steps.empty()) r.fail(e, "ThreadGroup '" + g.name + "' has no HTTP samplers");
  g.scenario = plan.scenarios.size();
  plan.scenarios.push_back(std::move(s));
  plan.groups.push_back(std::move(g));
}

}  // namespace

Plan parse_jmeter(const std::string& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PlanError(path, 0, "cannot read the file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 64 * 1024 * 1024) throw PlanError(path, 0, "file larger than 64 MiB");
  pugi::xml_document doc;
  auto result = doc.load_buffer(text.data(), text.size());
  if (!result) {
    int line =
        1 +
        static_cast<int>(std::count(
            text.begin(),
            text.begin() + std::min<std::ptrdiff_t>(result.offset, static_cast<std::ptrdiff_t>(text.size())),
            '\n'));
    throw PlanError(path, line, std::string("invalid XML: ") + result.description());
  }
  Plan plan;
  plan.file = path;
  plan.format = "jmeter";
  Reader r(path, text, options, plan);
  auto root = doc.child("jmeterTestPlan");
  if (!root) throw PlanError(path, 1, "not a JMeter test plan (no <jmeterTestPlan> root)");
  auto top = root.child("hashTree");
  auto test_plan = top.child("TestPlan");
  if (!test_plan) throw PlanError(path, r.line_of(root), "no <TestPlan> element");
  read_arguments(r, Reader::prop_node(test_plan, "TestPlan.arguments"), plan.variables);
  auto plan_tree = test_plan.next_sibling("hashTree");
  if (!plan_tree) r.fail(test_plan, "TestPlan is not followed by its <hashTree>");

  Scope scope;
  each_element(r, plan_tree, [&](const pugi::xml_node& e, const pugi::xml_node&) {
    std::string_view kind = e.name();
    if (kind == "HeaderManager")
      read_headers(r, e, scope.headers);
    else if (kind == "ConstantTimer" || kind == "UniformRandomTimer")
      scope.timers.push_back(read_timer(r, e));
    else if (kind == "ResponseAssertion")
      scope.assertions.push_back(read_assertion(r, e));
    else if (kind == "CSVDataSet")
      read_csv_dataset(r, e);
    else if (kind == "Arguments")
      read_arguments(r, e, plan.variables);
  });
  each_element(r, plan_tree, [&](const pugi::xml_node& e, const pugi::xml_node& children) {
    std::string_view kind = e.name();
    if (kind == "ThreadGroup")
      read_thread_group(r, e, children, scope);
    else if (kind != "HeaderManager" && kind != "ConstantTimer" && kind != "UniformRandomTimer" &&
             kind != "ResponseAssertion" && kind != "CSVDataSet" && kind != "Arguments")
      r.unsupported(e, std::string(kind) + " '" + e.attribute("testname").as_string() + "'");
  });
  if (plan.groups.empty()) throw PlanError(path, r.line_of(test_plan), "no enabled ThreadGroup");
  return plan;
}

Plan parse_plan(const std::string& path, const ParseOptions& options) {
  auto ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".yml" || ext == ".yaml") return parse_artillery(path, options);
  if (ext == ".jmx") return parse_jmeter(path, options);
  throw PlanError(path, 0, "unknown plan format (expected .yml, .yaml or .jmx)");
}

}  // namespace mambogo::load
