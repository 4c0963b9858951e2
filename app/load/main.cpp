// mambogo-load: runs Artillery/JMeter plans (or a quick wrk-like benchmark) with the load
// engine, shows a live progress line, prints a k6-like summary and writes reports.
//
// Exit codes: 0 done (thresholds passed), 99 a threshold failed (as k6), 2 the command line
// or the plan is invalid, 1 the run could not be carried out (e.g. a report not writable).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "load/engine.h"
#include "load/plan_parsers.h"
#include "load/report.h"

using namespace mambogo::load;

namespace {

constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_thresholds = 99;

// "30s", "2m", "1h", "500ms", "1.5" (seconds).
double parse_duration(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw CLI::ValidationError("duration", "'" + text + "' is not a duration (e.g. 30s, 2m, 500ms)");
  }
  std::string unit = text.substr(used);
  double scale = unit.empty() || unit == "s" ? 1
                 : unit == "ms"              ? 0.001
                 : unit == "m"               ? 60
                 : unit == "h"               ? 3600
                                             : -1;
  if (scale < 0 || v <= 0)
    throw CLI::ValidationError("duration", "'" + text + "' is not a positive duration (units: ms, s, m, h)");
  return v * scale;
}

void raise_file_limit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
  }
}

// SIGINT/SIGTERM stop the engine gracefully; a second one is not needed (the grace is bounded).
class SignalWatcher {
 public:
  explicit SignalWatcher(Engine& engine) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &engine] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (sig != SIGUSR1) engine.stop();
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

struct Outputs {
  std::string json, csv, html;
};

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) {
    std::cerr << "mambogo-load: cannot write " << path << "\n";
    return false;
  }
  return true;
}

int run_engine(Plan plan, EngineOptions options, const std::vector<std::string>& extra_thresholds,
               const Outputs& outputs, bool quiet, bool wrk_style) {
  for (const auto& t : extra_thresholds) plan.thresholds.push_back(parse_threshold(t));
  for (const auto& w : plan.warnings) std::cerr << "warning: " << w << "\n";
  auto thresholds = plan.thresholds;
  double planned = plan.nominal_duration_s();
  if (options.max_duration_s && (planned <= 0 || *options.max_duration_s < planned))
    planned = *options.max_duration_s;
  std::string title = plan.file.empty() ? "mambogo-load" : "mambogo-load: " + plan.file;
  Engine engine(std::move(plan), options);
  SignalWatcher watcher(engine);
  bool tty = isatty(STDERR_FILENO);
  int ticks = 0;
  Summary summary = engine.run([&](const Snapshot& s) {
    if (quiet) return;
    if (tty)
      std::cerr << "\r" << progress_line(s, planned) << "\033[K" << std::flush;
    else if (++ticks % 5 == 0)
      std::cerr << progress_line(s, planned) << "\n";
  });
  if (tty && !quiet) std::cerr << "\n";
  std::vector<ThresholdResult> results;
  bool passed = true;
  for (const auto& t : thresholds) {
    results.push_back(evaluate(t, summary));
    passed &= results.back().passed;
  }
  if (wrk_style) std::cout << latency_report(summary);
  std::cout << "\n" << text_summary(summary, results);
  if (wrk_style) {
    std::printf("Requests/sec: %10.2f\n",
                summary.duration_s > 0 ? summary.overall.count / summary.duration_s : 0.0);
    std::printf("Transfer/sec: %10.2fKB\n",
                summary.duration_s > 0 ? summary.overall.bytes_received / summary.duration_s / 1024 : 0.0);
  }
  bool written = true;
  if (!outputs.json.empty())
    written &= write_file(outputs.json, results_json(summary, results).dump(2) + "\n");
  if (!outputs.csv.empty()) written &= write_file(outputs.csv, timeline_csv(summary));
  if (!outputs.html.empty()) written &= write_file(outputs.html, html_report(summary, results, title));
  if (!passed) {
    std::cerr << "mambogo-load: some thresholds have failed\n";
    return exit_thresholds;
  }
  return written ? exit_ok : exit_failure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mambogo-load: HTTP load generator for Artillery and JMeter plans, without coordinated omission"};
  app.require_subcommand(1);

  std::string plan_path, target, out_json, out_csv, out_html, rate_text, duration_text, timeout_text = "30s";
  std::vector<std::string> thresholds, properties;
  double rate = 0, rate_scale = 1, time_scale = 1;
  int vus = 0, threads = 1;
  std::int64_t max_in_flight = 2000, max_queued = 100'000;
  bool lenient = false, quiet = false;

  auto* run = app.add_subcommand("run", "run a plan (.yml Artillery, .jmx JMeter)");
  run->add_option("plan", plan_path, "the plan file")->required();
  run->add_option("--target", target, "replace scheme://host:port of every request (http only)");
  auto* rate_opt =
      run->add_option("--rate", rate, "constant arrival rate per second instead of the plan's workload")
          ->check(CLI::PositiveNumber);
  run->add_option("--vus", vus, "constant virtual users instead of the plan's workload")
      ->check(CLI::PositiveNumber)
      ->excludes(rate_opt);
  run->add_option("--duration", duration_text,
                  "with --rate/--vus: how long (default 30s); alone: stop after this long");
  run->add_option("--rate-scale", rate_scale, "multiply arrival rates, counts and thread counts")
      ->check(CLI::PositiveNumber);
  run->add_option("--time-scale", time_scale, "multiply phase durations, ramp-ups, delays and think times")
      ->check(CLI::PositiveNumber);
  run->add_option("--threshold", thresholds,
                  "pass/fail criterion, e.g. 'p(95)<500' or 'http_req_failed:rate<0.01' (repeatable)");
  run->add_option("--out", out_json, "write results JSON");
  run->add_option("--csv", out_csv, "write the per-second timeline as CSV");
  run->add_option("--html", out_html, "write a self-contained HTML report");
  run->add_flag("--lenient", lenient, "skip unsupported plan elements with a warning");
  run->add_option("-J,--property", properties,
                  "JMeter property name=value for ${__P(name,default)} (repeatable)");

  std::string bench_url;
  int connections = 32;
  double bench_rate = 0;
  auto* bench = app.add_subcommand("bench", "a quick wrk-like run against one URL (GET)");
  bench->add_option("url", bench_url, "http://host:port/path")->required();
  bench
      ->add_option("-c,--connections", connections, "connections (closed model) or the in-flight cap with -R")
      ->check(CLI::PositiveNumber);
  bench->add_option("-d,--duration", duration_text, "duration (default 10s)");
  bench->add_option("-R,--rate", bench_rate, "open model: requests per second (wrk2)")
      ->check(CLI::PositiveNumber);

  auto* check = app.add_subcommand("check", "parse a plan and report what would run");
  check->add_option("plan", plan_path, "the plan file")->required();
  check->add_flag("--lenient", lenient, "skip unsupported plan elements with a warning");

  for (auto* sub : {run, bench}) {
    sub->add_option("-t,--threads", threads, "worker threads")->check(CLI::Range(1, 256));
    sub->add_option("--max-in-flight", max_in_flight,
                    "open model: concurrent iterations; later arrivals queue (latency still counted from "
                    "their intended time)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--max-queued", max_queued,
                    "open model: arrivals that may wait for a free slot before further ones are dropped")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--timeout", timeout_text, "request timeout (default 30s)");
    sub->add_flag("-q,--quiet", quiet, "no progress line");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  raise_file_limit();

  try {
    EngineOptions options;
    options.threads = threads;
    options.max_in_flight = max_in_flight;
    options.max_queued = max_queued;
    options.request_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(parse_duration(timeout_text) * 1000));
    options.target = target;
    for (const auto& p : properties) {
      auto eq = p.find('=');
      if (eq == std::string::npos || eq == 0)
        throw CLI::ValidationError("--property", "'" + p + "' is not name=value");
      options.properties[p.substr(0, eq)] = p.substr(eq + 1);
    }

    if (*bench) {
      Plan plan;
      plan.format = "cli";
      plan.target = bench_url;
      Scenario s;
      s.name = "bench";
      Step step;
      step.request.name = "GET " + bench_url;
      step.request.method = "GET";
      step.request.url = Template::compile(bench_url);
      s.steps.push_back(std::move(step));
      plan.scenarios.push_back(std::move(s));
      double d = duration_text.empty() ? 10 : parse_duration(duration_text);
      if (bench_rate > 0) {
        use_constant_rate(plan, bench_rate, d);
        options.max_in_flight = connections;
      } else {
        use_constant_vus(plan, connections, d);
      }
      options.grace = std::chrono::milliseconds(2000);
      std::cout << "Running " << d << "s test @ " << bench_url << "\n  " << threads << " threads and "
                << connections << " connections"
                << (bench_rate > 0 ? ", " + std::to_string(bench_rate) + " requests/s" : std::string())
                << "\n";
      return run_engine(std::move(plan), options, {}, {}, quiet, true);
    }

    ParseOptions parse_options;
    parse_options.lenient = lenient;
    parse_options.properties = options.properties;
    Plan plan = parse_plan(plan_path, parse_options);
    if (*check) {
      for (const auto& w : plan.warnings) std::cerr << "warning: " << w << "\n";
      std::cout << plan_path << ": " << plan.format << " plan, " << plan.scenarios.size() << " scenario(s), "
                << (plan.open_model() ? std::to_string(plan.phases.size()) + " arrival phase(s)"
                                      : std::to_string(plan.groups.size()) + " thread group(s)")
                << ", " << plan.thresholds.size() << " threshold(s), "
                << (plan.nominal_duration_s() > 0
                        ? "duration " + std::to_string(plan.nominal_duration_s()) + " s"
                        : std::string("until the loops are done"))
                << "\n";
      for (const auto& s : plan.scenarios)
        std::cout << "  scenario '" << s.name << "' weight " << s.weight << ", " << s.steps.size()
                  << " step(s)\n";
      return exit_ok;
    }
    std::optional<double> duration;
    if (!duration_text.empty()) duration = parse_duration(duration_text);
    if (rate > 0)
      use_constant_rate(plan, rate, duration.value_or(30));
    else if (vus > 0)
      use_constant_vus(plan, vus, duration.value_or(30));
    else if (duration)
      options.max_duration_s = duration;
    scale(plan, rate_scale, time_scale);
    return run_engine(std::move(plan), options, thresholds, {out_json, out_csv, out_html}, quiet, false);
  } catch (const PlanError& e) {
    std::cerr << "mambogo-load: " << e.what() << "\n";
    return exit_usage;
  } catch (const CLI::ValidationError& e) {
    std::cerr << "mambogo-load: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "mambogo-load: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "mambogo-load: " << e.what() << "\n";
    return exit_failure;
  }
}
