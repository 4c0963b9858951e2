// Reads load plans from files. Supported subsets:
//
// Artillery YAML: config.target, config.phases (duration, arrivalRate, rampTo, arrivalCount,
//   pause, maxVusers, name), config.defaults.headers, config.variables (a value or a list to
//   pick from), config.payload (path, fields, order random|sequence, skipHeader, delimiter),
//   config.plugins.ensure, config.ensure (thresholds of http.response_time.{min,max,median,
//   p50,p75,p90,p95,p99,p999,mean}, maxErrorRate, and the legacy p95/p99/max/median keys);
//   scenarios (name, weight, flow) with get/post/put/patch/delete/head/options (url, json,
//   body, headers, capture json/as), think (seconds) and loop (+count).
// JMeter JMX: TestPlan user-defined variables, ThreadGroup (num_threads, ramp_time,
//   LoopController.loops, scheduler, duration, delay), HTTPSamplerProxy (domain, port,
//   protocol, path, method, arguments, postBodyRaw), HeaderManager, CSVDataSet (filename,
//   variableNames, delimiter, ignoreFirstLine, shareMode), ConstantTimer,
//   UniformRandomTimer, ResponseAssertion (response code or data; contains, matches,
//   equals, substring; not; or). Elements with enabled="false" are skipped.
//
// Anything else is an error naming the element, the file and the line (PlanError); with
// `lenient` it is skipped and a warning with the same text is added to Plan::warnings.
// Malformed files (bad YAML or XML, wrong types, bad templates) are PlanErrors too; parsing
// never crashes and never reads anything but the plan and the CSV files it names.
//
// Thread-safety: the functions share no state.
#pragma once

#include <string>

#include "load/plan.h"

namespace mambogo::load {

struct ParseOptions {
  bool lenient = false;
  // JMeter thread-group fields may use ${__P(name,default)}: rendered at parse time with
  // these properties, then the environment.
  Variables properties;
  EnvLookup env = process_environment();
};

Plan parse_artillery(const std::string& path, const ParseOptions& options = {});
Plan parse_jmeter(const std::string& path, const ParseOptions& options = {});
// By extension: .yml/.yaml → Artillery, .jmx → JMeter; anything else is a PlanError.
Plan parse_plan(const std::string& path, const ParseOptions& options = {});

}  // namespace mambogo::load
