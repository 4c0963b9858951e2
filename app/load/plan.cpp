#include "load/plan.h"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace mambogo::load {
namespace {

std::string locate(const std::string& file, int line) {
  if (file.empty()) return {};
  return line > 0 ? file + ":" + std::to_string(line) + ": " : file + ": ";
}

void collect_holes(const nlohmann::json& node, const nlohmann::json::json_pointer& at,
                   std::vector<std::pair<nlohmann::json::json_pointer, Template>>& holes) {
  if (node.is_string()) {
    Template t = Template::compile(node.get_ref<const std::string&>());
    if (!t.is_constant()) holes.emplace_back(at, std::move(t));
  } else if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) collect_holes(it.value(), at / it.key(), holes);
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) collect_holes(node[i], at / i, holes);
  }
}

void scale_steps(std::vector<Step>& steps, double time_scale) {
  for (auto& s : steps) {
    s.think_min_s *= time_scale;
    s.think_max_s *= time_scale;
    scale_steps(s.loop_steps, time_scale);
  }
}

}  // namespace

PlanError::PlanError(const std::string& file, int line, const std::string& message)
    : std::runtime_error(locate(file, line) + message), file_(file), line_(line) {}

JsonTemplate JsonTemplate::compile(const nlohmann::json& body) {
  JsonTemplate t;
  t.skeleton_ = body;
  collect_holes(body, nlohmann::json::json_pointer{}, t.holes_);
  return t;
}

std::string JsonTemplate::render(const RenderContext& ctx) const {
  if (holes_.empty()) return skeleton_.dump();
  nlohmann::json out = skeleton_;
  for (const auto& [at, tpl] : holes_) out[at] = tpl.render(ctx);
  return out.dump();
}

double Plan::nominal_duration_s() const {
  double total = 0;
  for (const auto& p : phases) total += p.duration_s;
  for (const auto& g : groups) {
    if (!g.duration_s) return 0;  // runs until its loops are done
    total = std::max(total, g.delay_s + *g.duration_s);
  }
  return total;
}

void use_constant_rate(Plan& plan, double rate, double duration_s) {
  plan.groups.clear();
  ArrivalPhase p;
  p.name = "constant rate";
  p.duration_s = duration_s;
  p.rate = rate;
  plan.phases = {p};
}

void use_constant_vus(Plan& plan, int vus, double duration_s) {
  plan.phases.clear();
  VuGroup g;
  g.name = "constant vus";
  g.vus = vus;
  g.loops = -1;
  g.duration_s = duration_s;
  plan.groups = {g};
}

void scale(Plan& plan, double rate_scale, double time_scale) {
  for (auto& p : plan.phases) {
    p.rate *= rate_scale;
    if (p.ramp_to) *p.ramp_to *= rate_scale;
    if (p.arrival_count)
      *p.arrival_count =
          std::max<std::int64_t>(1, std::llround(static_cast<double>(*p.arrival_count) * rate_scale));
    if (p.max_vusers) *p.max_vusers = std::max(1, static_cast<int>(std::lround(*p.max_vusers * rate_scale)));
    p.duration_s *= time_scale;
  }
  for (auto& g : plan.groups) {
    g.vus = std::max(1, static_cast<int>(std::lround(g.vus * rate_scale)));
    g.ramp_up_s *= time_scale;
    g.delay_s *= time_scale;
    if (g.duration_s) *g.duration_s *= time_scale;
  }
  for (auto& s : plan.scenarios) scale_steps(s.steps, time_scale);
}

std::vector<std::vector<std::string>> read_csv(const std::string& path, char delimiter,
                                               const std::string& referenced_from) {
  std::ifstream in(path);
  if (!in) throw PlanError(referenced_from, 0, "cannot read CSV file '" + path + "'");
  std::vector<std::vector<std::string>> rows;
  std::string line;
  for (int n = 0; std::getline(in, line) && n < 10'000'000; ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> row(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
        row.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == delimiter && !quoted) {
        row.emplace_back();
      } else {
        row.back().push_back(c);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mambogo::load
