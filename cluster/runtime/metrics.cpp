#include "runtime/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace mambogo::runtime {

namespace {
prometheus::MetricFamily single(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family{name, help, type, {}};
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

int count_open_fds() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') ++n;
    closedir(dir);
    --n;  // the descriptor opendir itself holds
  }
  return n;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}
}  // namespace

// Reads /proc/self at each scrape; nothing is sampled in between.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    // Fields after the parenthesised command name (which may contain spaces).
    auto close = stat.rfind(')');
    if (close == std::string::npos) return out;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    // f[0] is field 3 (state): utime=14, stime=15, num_threads=20, starttime=22, vsize=23, rss=24.
    auto field = [&](int n) { return n - 3 < static_cast<int>(f.size()) ? std::stod(f[n - 3]) : 0.0; };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    using prometheus::MetricType;
    out.push_back(single("process_cpu_seconds_total", "Total user and system CPU time in seconds.",
                         MetricType::Counter, (field(14) + field(15)) / ticks));
    out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, field(24) * page));
    out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, field(23)));
    out.push_back(single("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::Gauge, boot_time_ + field(22) / ticks));
    out.push_back(single("process_threads", "Number of OS threads in the process.",
                         MetricType::Gauge, field(20)));
    out.push_back(single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                         count_open_fds()));
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    out.push_back(single("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(lim.rlim_cur)));
    return out;
  }

 private:
  const double boot_time_ = boot_time_seconds();
};

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_unique<ProcessCollector>()) {}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::add_collectable(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(collectables_mutex_);
  collectables_.push_back(std::move(collectable));
}

std::string MetricsRegistry::serialize() const {
  auto families = registry_->Collect();
  {
    std::lock_guard lock(collectables_mutex_);
    std::erase_if(collectables_, [](const auto& w) { return w.expired(); });
    for (const auto& weak : collectables_)
      if (auto c = weak.lock()) {
        auto more = c->Collect();
        families.insert(families.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
      }
  }
  auto process = process_->Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace mambogo::runtime
