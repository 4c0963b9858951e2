// A load plan as the engine runs it, whatever file it came from (Artillery YAML, JMeter JMX,
// or built from command-line flags): scenarios of steps, the variables and CSV payloads they
// draw from, and either an open workload (arrival phases) or a closed one (groups of virtual
// users). Parsers produce it; the transforms below adapt it to command-line overrides.
//
// Ownership: plain values; a Plan owns everything it refers to. Thread-safety: the engine
// reads a Plan from many threads and never modifies it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "load/json_path.h"
#include "load/text_template.h"
#include "load/threshold.h"

namespace mambogo::load {

// A plan that cannot run: names the file, the line (0 if unknown) and the element.
class PlanError : public std::runtime_error {
 public:
  PlanError(const std::string& file, int line, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

// A JSON body whose string leaves are templates.
class JsonTemplate {
 public:
  static JsonTemplate compile(const nlohmann::json& body);  // throws TemplateError
  std::string render(const RenderContext& ctx) const;

 private:
  nlohmann::json skeleton_;
  std::vector<std::pair<nlohmann::json::json_pointer, Template>> holes_;
};

struct HeaderTemplate {
  std::string name;
  Template value;
};

struct Capture {
  JsonPath path;
  std::string as;
};

// JMeter's ResponseAssertion.
struct Assertion {
  enum class Field { status, body };
  enum class Match { contains, equals, substring, regex };
  Field field = Field::status;
  Match match = Match::substring;
  bool negate = false;
  bool any = false;  // OR of the patterns instead of AND
  std::vector<std::string> patterns;
};

// A JMeter sampler argument (HTTPArgument); jmeter_http.h says how it is sent.
struct SamplerArgument {
  std::string name;
  Template value;
  bool always_encode = false;
  std::string metadata = "=";
};

struct RequestStep {
  std::string name;    // the statistics label: Artillery "POST /api/orders", JMeter testname
  std::string method;  // upper case
  Template base;       // scheme://host:port prefix; empty means the plan's target
  Template url;        // path (and query), or an absolute URL
  std::vector<HeaderTemplate> headers;
  std::optional<JsonTemplate> json;                    // sent with Content-Type: application/json
  std::optional<Template> body;                        // raw body
  std::vector<SamplerArgument> arguments;              // JMeter: sent as JMeter sends them
  bool post_body_raw = false;                          // JMeter: HTTPSampler.postBodyRaw
  std::vector<Capture> captures;
  std::vector<Assertion> assertions;
};

struct Step {
  enum class Kind { request, think, loop };
  Kind kind = Kind::request;
  RequestStep request;
  double think_min_s = 0, think_max_s = 0;  // uniform in [min, max]
  std::int64_t loop_count = 1;
  std::vector<Step> loop_steps;
};

struct Scenario {
  std::string name;
  double weight = 1;
  std::vector<Step> steps;
};

// One value per virtual user: a random pick among the choices, rendered in declaration order
// (so a value may use the variables declared before it).
struct VariableDef {
  std::string name;
  std::vector<Template> choices;
};

struct Payload {
  std::string path;
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> rows;
  bool sequential = false;  // false: a random row per virtual user
};

struct ArrivalPhase {
  std::string name;
  double duration_s = 0;
  double rate = 0;                            // arrivals per second at the start
  std::optional<double> ramp_to;              // linear ramp to this rate by the end
  std::optional<std::int64_t> arrival_count;  // evenly spaced over the duration instead
  bool pause = false;
  std::optional<int> max_vusers;  // concurrent virtual users; more are dropped
};

struct VuGroup {
  std::string name;
  int vus = 1;
  double ramp_up_s = 0;
  std::int64_t loops = 1;  // -1: until the duration ends
  std::optional<double> duration_s;
  double delay_s = 0;
  std::optional<std::size_t> scenario;  // none: a weighted pick per iteration
};

struct Plan {
  std::string file;
  std::string format;  // "artillery", "jmeter", "cli"
  std::string target;  // default scheme://host:port
  std::vector<HeaderTemplate> default_headers;
  std::vector<VariableDef> variables;
  std::vector<Payload> payloads;
  std::vector<Scenario> scenarios;
  std::vector<ArrivalPhase> phases;  // open model; exactly one of phases/groups is non-empty
  std::vector<VuGroup> groups;       // closed model
  std::vector<Threshold> thresholds;
  std::vector<std::string> warnings;  // unsupported elements skipped under --lenient

  bool open_model() const { return !phases.empty(); }
  // The phases' sum, or when the last group's duration ends; 0 when a group has no duration
  // (it runs until its loops are done).
  double nominal_duration_s() const;
};

// Replaces the workload with a constant arrival rate for `duration_s` (k6 constant-arrival-rate).
void use_constant_rate(Plan& plan, double rate, double duration_s);
// Replaces the workload with `vus` looping virtual users for `duration_s` (k6 constant-vus).
void use_constant_vus(Plan& plan, int vus, double duration_s);
// Multiplies arrival rates, arrival counts, max_vusers and virtual-user counts by rate_scale
// (never below one user or a rate of zero), and phase durations, ramp-ups, delays and think
// times by time_scale. Both must be > 0.
void scale(Plan& plan, double rate_scale, double time_scale);
// Reads a CSV file (comma-separated, optional double quotes). Throws PlanError.
std::vector<std::vector<std::string>> read_csv(const std::string& path, char delimiter,
                                               const std::string& referenced_from);

}  // namespace mambogo::load
