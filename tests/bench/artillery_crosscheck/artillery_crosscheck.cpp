// artillery-crosscheck: runs the seed's Artillery plan with Artillery and with mambogo-load
// against one mambogo-crosscheck-server and prints counts, status classes and latency
// percentiles side by side with their ratios (see crosscheck.h). A benchmark: timings never
// fail it. Exit codes: 0 ran, 77 skipped (Artillery not installed: run install-artillery.sh),
// 1 a tool could not run.
//
//   artillery-crosscheck MAMBOGO_LOAD SERVER PLAN PLUGIN_DIR [BUILD_DIR]
// Knobs (environment): CROSSCHECK_RATE_SCALE (0.2), CROSSCHECK_TIME_SCALE (0.1: the seed's 8 min
// become 48 s), CROSSCHECK_DELAY_MS (2: the server's service time), CROSSCHECK_VERBATIM=1 runs
// Artillery on the plan without the seed-functions plugin, MAMBOGO_ARTILLERY (the executable).
#include <QCoreApplication>
#include <QTemporaryDir>

#include <cstdlib>
#include <iostream>

#include "crosscheck.h"

namespace {
double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atof(v) : fallback;
}
}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc < 5) {
    std::cerr << "usage: artillery-crosscheck MAMBOGO_LOAD SERVER PLAN PLUGIN_DIR [BUILD_DIR]\n";
    return 1;
  }
  using namespace mambogo::crosscheck;
  Options o;
  o.mambogo_load = argv[1];
  o.server = argv[2];
  o.plan = argv[3];
  o.plugin_dir = argv[4];
  o.artillery = find_artillery(argc > 5 ? argv[5] : "");
  if (o.artillery.empty()) {
    std::cout << "SKIPPED: artillery is not installed (tests/bench/artillery_crosscheck/install-artillery.sh)\n";
    return 77;
  }
  o.rate_scale = env_number("CROSSCHECK_RATE_SCALE", 0.2);
  o.time_scale = env_number("CROSSCHECK_TIME_SCALE", 0.1);
  o.server_delay_ms = static_cast<int>(env_number("CROSSCHECK_DELAY_MS", 2));
  o.seed_shim = env_number("CROSSCHECK_VERBATIM", 0) == 0;
  QTemporaryDir work;
  if (!work.isValid()) {
    std::cerr << "cannot create a temporary directory\n";
    return 1;
  }
  o.work_dir = work.path().toStdString();
  std::cout << "artillery: " << o.artillery << (o.seed_shim ? " (with the seed-functions plugin)" : " (plan verbatim)")
            << "\nmambogo-load: " << o.mambogo_load << "\nserver delay: " << o.server_delay_ms
            << " ms; rate scale " << o.rate_scale << ", time scale " << o.time_scale << "\n" << std::flush;
  try {
    std::cout << format(run(o)) << "\n(timing never fails this benchmark)\n";
  } catch (const std::exception& e) {
    std::cerr << "artillery-crosscheck: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
