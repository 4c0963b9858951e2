// Artillery YAML → Plan. Every node is checked for its type and every key against the
// supported subset, so that a misspelt key is reported instead of silently ignored.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "load/plan_parsers.h"

namespace mambogo::load {
namespace {

class Reader {
 public:
  Reader(std::string file, const ParseOptions& options, Plan& plan)
      : file_(std::move(file)), options_(options), plan_(plan) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    throw PlanError(file_, at.Mark().line >= 0 ? at.Mark().line + 1 : 0, message);
  }

  // An element we do not run: an error, or a warning under --lenient.
  void unsupported(const YAML::Node& at, const std::string& what) {
    std::string message = "unsupported Artillery element '" + what + "'";
    if (!options_.lenient) fail(at, message);
    plan_.warnings.push_back(file_ + ":" + std::to_string(at.Mark().line + 1) + ": " + message +
                             " (skipped)");
  }

  void expect(const YAML::Node& n, YAML::NodeType::value type, const std::string& what) const {
    if (n.Type() == type) return;
    static const char* names[] = {"undefined", "null", "a scalar", "a list", "a map"};
    fail(n, "'" + what + "' must be " + names[type]);
  }

  template <typename T>
  T scalar(const YAML::Node& n, const std::string& what) const {
    expect(n, YAML::NodeType::Scalar, what);
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      fail(n, "'" + what + "' has an invalid value '" + n.Scalar() + "'");
    }
  }

  Template tpl(const YAML::Node& n, const std::string& what) const {
    try {
      return Template::compile(scalar<std::string>(n, what));
    } catch (const TemplateError& e) {
      fail(n, what + ": " + e.what());
    }
  }

  // Calls f(key, value) for the keys in `known`, reports the others.
  template <typename F>
  void each_key(const YAML::Node& map, const std::string& where, const std::set<std::string>& known, F f) {
    expect(map, YAML::NodeType::Map, where);
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies of the handles: the nodes `it->` points to live in a proxy temporary, and
      // AddressSanitizer caught a use of one after its scope.
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      std::string key = scalar<std::string>(key_node, where + " key");
      if (known.count(key))
        f(key, value);
      else
        unsupported(key_node, where.empty() ? key : where + "." + key);
    }
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  const ParseOptions& options_;
  Plan& plan_;
};

const std::set<std::string> methods = {"get", "post", "put", "patch", "delete", "head", "options"};

nlohmann::json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it) o[it->first.Scalar()] = to_json(it->second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(to_json(e));
      return a;
    }
    case YAML::NodeType::Scalar: {
      // Quoted scalars stay strings; plain ones become numbers or booleans when they look so.
      if (n.Tag() == "!") return n.Scalar();
      const std::string& s = n.Scalar();
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      try {
        std::size_t used = 0;
        if (s.find_first_of(".eE") == std::string::npos) {
          long long v = std::stoll(s, &used);
          if (used == s.size()) return v;
        } else {
          double v = std::stod(s, &used);
          if (used == s.size()) return v;
        }
      } catch (const std::exception&) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

RequestStep parse_request(Reader& r, const std::string& method, const YAML::Node& n,
                          const std::string& where) {
  RequestStep req;
  req.method = method;
  for (auto& c : req.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool has_url = false;
  r.each_key(n, where, {"url", "json", "body", "headers", "capture", "name"},
             [&](const std::string& key, const YAML::Node& v) {
               if (key == "url") {
                 req.url = r.tpl(v, where + ".url");
                 has_url = true;
               } else if (key == "name") {
                 req.name = r.scalar<std::string>(v, where + ".name");
               } else if (key == "json") {
                 try {
                   req.json = JsonTemplate::compile(to_json(v));
                 } catch (const TemplateError& e) {
                   r.fail(v, where + ".json: " + e.what());
                 }
               } else if (key == "body") {
                 req.body = r.tpl(v, where + ".body");
               } else if (key == "headers") {
                 r.expect(v, YAML::NodeType::Map, where + ".headers");
                 for (auto it = v.begin(); it != v.end(); ++it)
                   req.headers.push_back(
                       {it->first.Scalar(), r.tpl(it->second, where + ".headers." + it->first.Scalar())});
               } else if (key == "capture") {
                 // One capture or a list of them. (A yaml-cpp Node assignment would rewrite v itself,
                 // hence the vector.)
                 std::vector<YAML::Node> list;
                 if (v.IsMap())
                   list.push_back(v);
                 else {
                   r.expect(v, YAML::NodeType::Sequence, where + ".capture");
                   for (const auto& c : v) list.push_back(c);
                 }
                 for (const auto& c : list) {
                   std::string json_path, as;
                   r.each_key(c, where + ".capture", {"json", "as"},
                              [&](const std::string& ck, const YAML::Node& cv) {
                                (ck == "json" ? json_path : as) =
                                    r.scalar<std::string>(cv, where + ".capture." + ck);
                              });
                   if (json_path.empty() || as.empty())
                     r.fail(c, where + ".capture needs both 'json' and 'as'");
                   try {
                     req.captures.push_back({JsonPath::compile(json_path), as});
                   } catch (const std::invalid_argument& e) {
                     r.fail(c, e.what());
                   }
                 }
               }
             });
  if (!has_url) r.fail(n, where + " has no 'url'");
  if (req.name.empty()) req.name = req.method + " " + req.url.source();
  return req;
}

std::vector<Step> parse_flow(Reader& r, const YAML::Node& flow, const std::string& where, int depth) {
  if (depth > 16) r.fail(flow, "loops nested more than 16 deep");
  r.expect(flow, YAML::NodeType::Sequence, where);
  std::vector<Step> steps;
  for (const auto& item : flow) {
    r.expect(item, YAML::NodeType::Map, where + " step");
    Step step;
    bool known = false;
    if (item["loop"]) {
      step.kind = Step::Kind::loop;
      step.loop_steps = parse_flow(r, item["loop"], where + ".loop", depth + 1);
      step.loop_count = item["count"] ? r.scalar<std::int64_t>(item["count"], where + ".loop.count") : 1;
      if (step.loop_count < 0 || step.loop_count > 1'000'000)
        r.fail(item, where + ".loop.count must be within 0..1000000");
      for (auto it = item.begin(); it != item.end(); ++it)
        if (it->first.Scalar() != "loop" && it->first.Scalar() != "count")
          r.unsupported(it->first, where + ".loop." + it->first.Scalar());
      steps.push_back(std::move(step));
      continue;
    }
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::string key = it->first.Scalar();
      if (methods.count(key)) {
        step.kind = Step::Kind::request;
        step.request = parse_request(r, key, it->second, where + "." + key);
        known = true;
      } else if (key == "think") {
        step.kind = Step::Kind::think;
        step.think_min_s = step.think_max_s = r.scalar<double>(it->second, where + ".think");
        if (step.think_min_s < 0 || step.think_min_s > 86'400)
          r.fail(it->second, where + ".think must be within 0..86400 seconds");
        known = true;
      } else {
        r.unsupported(it->first, where + "." + key);
      }
    }
    if (known) steps.push_back(std::move(step));
  }
  return steps;
}

ArrivalPhase parse_phase(Reader& r, const YAML::Node& n, std::size_t index) {
  ArrivalPhase p;
  std::string where = "config.phases[" + std::to_string(index) + "]";
  bool has_duration = false;
  r.each_key(n, where, {"duration", "arrivalRate", "rampTo", "arrivalCount", "pause", "maxVusers", "name"},
             [&](const std::string& key, const YAML::Node& v) {
               if (key == "name")
                 p.name = r.scalar<std::string>(v, where + ".name");
               else if (key == "duration") {
                 p.duration_s = r.scalar<double>(v, where + ".duration");
                 has_duration = true;
               } else if (key == "arrivalRate")
                 p.rate = r.scalar<double>(v, where + ".arrivalRate");
               else if (key == "rampTo")
                 p.ramp_to = r.scalar<double>(v, where + ".rampTo");
               else if (key == "arrivalCount")
                 p.arrival_count = r.scalar<std::int64_t>(v, where + ".arrivalCount");
               else if (key == "maxVusers")
                 p.max_vusers = r.scalar<int>(v, where + ".maxVusers");
               else if (key == "pause") {
                 p.pause = true;
                 p.duration_s = r.scalar<double>(v, where + ".pause");
                 has_duration = true;
               }
             });
  if (!has_duration) r.fail(n, where + " needs 'duration' (or 'pause')");
  if (p.duration_s <= 0 || p.duration_s > 7 * 86'400)
    r.fail(n, where + ".duration must be within (0, 604800] seconds");
  if (p.rate < 0 || (p.ramp_to && *p.ramp_to < 0) || (p.arrival_count && *p.arrival_count < 0) ||
      (p.max_vusers && *p.max_vusers < 1))
    r.fail(n, where + ": rates, counts and maxVusers must not be negative");
  if (!p.pause && p.rate == 0 && !p.ramp_to && !p.arrival_count)
    r.fail(n, where + " needs arrivalRate, rampTo or arrivalCount");
  if (p.name.empty()) p.name = "phase " + std::to_string(index + 1);
  return p;
}

void parse_ensure(Reader& r, const YAML::Node& n, Plan& plan) {
  static const std::map<std::string, std::string> legacy = {
      {"p95", "p(95)"}, {"p99", "p(99)"}, {"max", "max"}, {"median", "med"}, {"min", "min"}};
  static const std::map<std::string, std::string> response_time = {
      {"min", "min"},   {"max", "max"},   {"median", "med"}, {"mean", "avg"},  {"p50", "p(50)"},
      {"p75", "p(75)"}, {"p90", "p(90)"}, {"p95", "p(95)"},  {"p99", "p(99)"}, {"p999", "p(99.9)"}};
  auto add = [&](const YAML::Node& at, const std::string& expr, const std::string& text) {
    try {
      Threshold t = parse_threshold(expr);
      t.text = text;
      plan.thresholds.push_back(t);
    } catch (const std::invalid_argument& e) {
      r.fail(at, e.what());
    }
  };
  r.each_key(
      n, "config.ensure", {"thresholds", "maxErrorRate", "p95", "p99", "max", "median", "min"},
      [&](const std::string& key, const YAML::Node& v) {
        if (key == "maxErrorRate") {
          double pct = r.scalar<double>(v, "config.ensure.maxErrorRate");
          add(v, "http_req_failed:rate<=" + std::to_string(pct / 100.0), "maxErrorRate: " + v.Scalar());
        } else if (key != "thresholds") {
          add(v, legacy.at(key) + "<=" + v.Scalar(), key + ": " + v.Scalar());
        } else {
          r.expect(v, YAML::NodeType::Sequence, "config.ensure.thresholds");
          for (const auto& item : v) {
            r.expect(item, YAML::NodeType::Map, "config.ensure.thresholds item");
            for (auto it = item.begin(); it != item.end(); ++it) {
              std::string metric = it->first.Scalar();
              std::string prefix = "http.response_time.";
              auto agg = metric.starts_with(prefix) ? response_time.find(metric.substr(prefix.size()))
                                                    : response_time.end();
              if (agg == response_time.end()) {
                r.unsupported(it->first, "config.ensure.thresholds." + metric);
                continue;
              }
              r.scalar<double>(it->second, metric);
              add(it->second, agg->second + "<=" + it->second.Scalar(), metric + ": " + it->second.Scalar());
            }
          }
        }
      });
}

void parse_payload(Reader& r, const YAML::Node& n, const std::string& plan_dir, Plan& plan) {
  Payload p;
  bool skip_header = false;
  std::string delimiter = ",";
  r.each_key(n, "config.payload", {"path", "fields", "order", "skipHeader", "delimiter"},
             [&](const std::string& key, const YAML::Node& v) {
               if (key == "path")
                 p.path = r.scalar<std::string>(v, "config.payload.path");
               else if (key == "fields") {
                 r.expect(v, YAML::NodeType::Sequence, "config.payload.fields");
                 for (const auto& f : v)
                   p.fields.push_back(r.scalar<std::string>(f, "config.payload.fields"));
               } else if (key == "order") {
                 std::string order = r.scalar<std::string>(v, "config.payload.order");
                 if (order != "random" && order != "sequence")
                   r.fail(v, "config.payload.order must be random or sequence");
                 p.sequential = order == "sequence";
               } else if (key == "skipHeader")
                 skip_header = r.scalar<bool>(v, "config.payload.skipHeader");
               else if (key == "delimiter") {
                 delimiter = r.scalar<std::string>(v, "config.payload.delimiter");
                 if (delimiter.size() != 1) r.fail(v, "config.payload.delimiter must be one character");
               }
             });
  if (p.path.empty() || p.fields.empty()) r.fail(n, "config.payload needs 'path' and 'fields'");
  std::filesystem::path csv = p.path;
  if (csv.is_relative()) csv = std::filesystem::path(plan_dir) / csv;
  p.rows = read_csv(csv.string(), delimiter[0], r.file());
  if (skip_header && !p.rows.empty()) p.rows.erase(p.rows.begin());
  if (p.rows.empty()) r.fail(n, "config.payload: '" + csv.string() + "' has no rows");
  plan.payloads.push_back(std::move(p));
}

void parse_config(Reader& r, const YAML::Node& config, const std::string& plan_dir, Plan& plan) {
  r.each_key(
      config, "config", {"target", "phases", "defaults", "variables", "payload", "ensure", "plugins"},
      [&](const std::string& key, const YAML::Node& v) {
        if (key == "target")
          plan.target = r.scalar<std::string>(v, "config.target");
        else if (key == "phases") {
          r.expect(v, YAML::NodeType::Sequence, "config.phases");
          for (std::size_t i = 0; i < v.size(); ++i) plan.phases.push_back(parse_phase(r, v[i], i));
        } else if (key == "defaults") {
          r.each_key(v, "config.defaults", {"headers"}, [&](const std::string&, const YAML::Node& h) {
            r.expect(h, YAML::NodeType::Map, "config.defaults.headers");
            for (auto it = h.begin(); it != h.end(); ++it)
              plan.default_headers.push_back(
                  {it->first.Scalar(), r.tpl(it->second, "config.defaults.headers." + it->first.Scalar())});
          });
        } else if (key == "variables") {
          r.expect(v, YAML::NodeType::Map, "config.variables");
          for (auto it = v.begin(); it != v.end(); ++it) {
            VariableDef def{it->first.Scalar(), {}};
            std::string where = "config.variables." + def.name;
            const YAML::Node value = it->second;  // a copy: `it->` points into a temporary
            if (value.IsSequence())
              for (const auto& c : value) def.choices.push_back(r.tpl(c, where));
            else
              def.choices.push_back(r.tpl(value, where));
            if (def.choices.empty()) r.fail(value, where + " is an empty list");
            plan.variables.push_back(std::move(def));
          }
        } else if (key == "payload") {
          if (v.IsSequence())
            for (const auto& p : v) parse_payload(r, p, plan_dir, plan);
          else
            parse_payload(r, v, plan_dir, plan);
        } else if (key == "ensure") {
          parse_ensure(r, v, plan);
        } else if (key == "plugins") {
          r.each_key(v, "config.plugins", {"ensure"}, [](const std::string&, const YAML::Node&) {});
        }
      });
}

Scenario parse_scenario(Reader& r, const YAML::Node& n, std::size_t index) {
  Scenario s;
  std::string where = "scenarios[" + std::to_string(index) + "]";
  bool has_flow = false;
  r.each_key(n, where, {"name", "weight", "flow", "engine"},
             [&](const std::string& key, const YAML::Node& v) {
               if (key == "name")
                 s.name = r.scalar<std::string>(v, where + ".name");
               else if (key == "weight")
                 s.weight = r.scalar<double>(v, where + ".weight");
               else if (key == "engine" && r.scalar<std::string>(v, where + ".engine") != "http")
                 r.unsupported(v, where + ".engine: " + v.Scalar());
               else if (key == "flow") {
                 s.steps = parse_flow(r, v, where + ".flow", 0);
                 has_flow = true;
               }
             });
  if (!has_flow) r.fail(n, where + " has no 'flow'");
  if (s.weight < 0 || s.weight > 1e9) r.fail(n, where + ".weight must be within 0..1e9");
  if (s.name.empty()) s.name = "scenario " + std::to_string(index + 1);
  return s;
}

}  // namespace

Plan parse_artillery(const std::string& path, const ParseOptions& options) {
  Plan plan;
  plan.file = path;
  plan.format = "artillery";
  Reader r(path, options, plan);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw PlanError(path, 0, "cannot read the file");
  } catch (const YAML::ParserException& e) {
    throw PlanError(path, e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  try {
    std::string dir = std::filesystem::path(path).parent_path().string();
    r.each_key(root, "", {"config", "scenarios"}, [&](const std::string& key, const YAML::Node& v) {
      if (key == "config") {
        parse_config(r, v, dir, plan);
      } else {
        r.expect(v, YAML::NodeType::Sequence, "scenarios");
        for (std::size_t i = 0; i < v.size(); ++i) plan.scenarios.push_back(parse_scenario(r, v[i], i));
      }
    });
  } catch (const YAML::Exception& e) {
    throw PlanError(path, e.mark.line + 1, std::string("malformed plan: ") + e.what());
  }
  if (plan.scenarios.empty()) throw PlanError(path, 0, "no scenarios");
  double weights = 0;
  for (const auto& s : plan.scenarios) weights += s.weight;
  if (weights <= 0) throw PlanError(path, 0, "every scenario has weight 0");
  return plan;
}

}  // namespace mambogo::load
