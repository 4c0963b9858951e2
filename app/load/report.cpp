#include "load/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace mambogo::load {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string ms(double v) {
  if (v >= 1000) return fmt("%.2fs", v / 1000);
  if (v < 1) return fmt("%.0fµs", v * 1000);
  return fmt("%.2fms", v);
}

std::string us_text(std::int64_t us) { return ms(static_cast<double>(us) / 1000.0); }

std::string bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return fmt("%.1f", b) + " " + units[u];
}

std::string dotted(const std::string& label, std::size_t width) {
  return label.size() >= width ? label + " " : label + std::string(width - label.size(), '.') + ": ";
}

std::string latency_line(const Histogram& h) {
  auto p = [&](double q) { return us_text(h.value_at_percentile(q)); };
  return "avg=" + ms(h.mean() / 1000) + " min=" + us_text(h.min()) + " med=" + p(50) +
         " max=" + us_text(h.max()) + " p(90)=" + p(90) + " p(95)=" + p(95) + " p(99)=" + p(99) +
         " p(99.9)=" + p(99.9);
}

nlohmann::json percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p95", p.p95}, {"p99", p.p99}, {"p99_9", p.p999}, {"max", p.max}};
}

nlohmann::json histogram_json(const Histogram& h) {
  return {{"count", h.total_count()},
          {"min", h.min() / 1000.0},
          {"mean", h.mean() / 1000.0},
          {"max", h.max() / 1000.0},
          {"p50", h.value_at_percentile(50) / 1000.0},
          {"p90", h.value_at_percentile(90) / 1000.0},
          {"p95", h.value_at_percentile(95) / 1000.0},
          {"p99", h.value_at_percentile(99) / 1000.0},
          {"p99_9", h.value_at_percentile(99.9) / 1000.0},
          {"p99_99", h.value_at_percentile(99.99) / 1000.0}};
}

nlohmann::json stats_json(const RequestStats& r, double duration_s) {
  return {{"requests", r.count},
          {"failed", r.failed},
          {"rps", duration_s > 0 ? r.count / duration_s : 0},
          {"bytes_sent", r.bytes_sent},
          {"bytes_received", r.bytes_received},
          {"status_classes",
           {{"1xx", r.classes.c1xx},
            {"2xx", r.classes.c2xx},
            {"3xx", r.classes.c3xx},
            {"4xx", r.classes.c4xx},
            {"5xx", r.classes.c5xx},
            {"transport", r.classes.transport}}},
          {"errors", r.errors},
          {"latency_ms", histogram_json(r.corrected)},
          {"service_time_ms", histogram_json(r.service)}};
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct Series {
  std::string name;
  std::string color;
  std::vector<double> values;
};

// A line chart as inline SVG: x is the snapshot's elapsed seconds.
std::string svg_chart(const std::string& title, const std::string& unit, const std::vector<double>& x,
                      const std::vector<Series>& series) {
  const double w = 860, h = 240, left = 60, right = 20, top = 30, bottom = 30;
  double xmax = x.empty() ? 1 : std::max(1.0, x.back()), ymax = 0;
  for (const auto& s : series)
    for (double v : s.values) ymax = std::max(ymax, v);
  ymax = ymax <= 0 ? 1 : ymax * 1.1;
  auto px = [&](double v) { return left + v / xmax * (w - left - right); };
  auto py = [&](double v) { return top + (1 - v / ymax) * (h - top - bottom); };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
    << "' role='img' aria-label='" << escape(title) << "'>";
  o << "<text x='" << left << "' y='18' font-weight='bold'>" << escape(title) << " (" << escape(unit)
    << ")</text>";
  for (int i = 0; i <= 4; ++i) {
    double v = ymax * i / 4;
    o << "<line x1='" << left << "' x2='" << w - right << "' y1='" << py(v) << "' y2='" << py(v)
      << "' stroke='#ddd'/>";
    o << "<text x='" << left - 6 << "' y='" << py(v) + 4 << "' text-anchor='end' font-size='11'>"
      << fmt("%.4g", v) << "</text>";
  }
  for (int i = 0; i <= 5; ++i) {
    double v = xmax * i / 5;
    o << "<text x='" << px(v) << "' y='" << h - 10 << "' text-anchor='middle' font-size='11'>"
      << fmt("%.0fs", v) << "</text>";
  }
  double legend_x = left + 10;
  for (const auto& s : series) {
    o << "<polyline fill='none' stroke='" << s.color << "' stroke-width='1.5' points='";
    for (std::size_t i = 0; i < s.values.size() && i < x.size(); ++i)
      o << px(x[i]) << "," << py(s.values[i]) << " ";
    o << "'/>";
    o << "<rect x='" << legend_x << "' y='" << top - 2 << "' width='10' height='10' fill='" << s.color
      << "'/>";
    o << "<text x='" << legend_x + 14 << "' y='" << top + 7 << "' font-size='11'>" << escape(s.name)
      << "</text>";
    legend_x += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

std::string progress_line(const Snapshot& s, double planned_s) {
  std::string line = "[" + s.phase + "] " + fmt("%.0fs", s.elapsed_s);
  if (planned_s > 0) line += "/" + fmt("%.0fs", planned_s);
  line +=
      "  rps " + fmt("%.1f", s.rps) + "  p99 " + ms(s.latency.p99) + " (service " + ms(s.service.p99) + ")";
  line += "  errors " + std::to_string(s.failed) + "  in-flight " + std::to_string(s.in_flight) +
          "  queued " + std::to_string(s.queued) + "  dropped " + std::to_string(s.dropped);
  return line;
}

std::string text_summary(const Summary& s, const std::vector<ThresholdResult>& thresholds) {
  std::ostringstream o;
  const auto& r = s.overall;
  if (!thresholds.empty()) {
    o << "  █ THRESHOLDS\n\n";
    std::string last_metric;
    for (const auto& t : thresholds) {
      std::string metric(metric_name(t.threshold.metric));
      if (metric != last_metric) o << "    " << metric << "\n";
      last_metric = metric;
      o << "    " << (t.passed ? "✓" : "✗") << " '" << t.threshold.text << "' " << t.observed_text << "\n";
    }
    o << "\n";
  }
  const std::size_t w = 34;
  o << "  █ TOTAL RESULTS\n\n";
  o << "    HTTP\n";
  o << "    " << dotted("http_req_duration", w) << latency_line(r.corrected) << "\n";
  o << "    " << dotted("  (service time, uncorrected)", w) << latency_line(r.service) << "\n";
  double failed_rate = r.count ? 100.0 * static_cast<double>(r.failed) / static_cast<double>(r.count) : 0;
  o << "    " << dotted("http_req_failed", w) << fmt("%.2f%%", failed_rate) << " " << r.failed << " out of "
    << r.count << "\n";
  o << "    " << dotted("http_reqs", w) << r.count << "   "
    << fmt("%.2f/s", s.duration_s > 0 ? r.count / s.duration_s : 0) << "\n";
  o << "    " << dotted("status", w) << "2xx=" << r.classes.c2xx << " 3xx=" << r.classes.c3xx
    << " 4xx=" << r.classes.c4xx << " 5xx=" << r.classes.c5xx << " no-response=" << r.classes.transport
    << "\n";
  for (const auto& [reason, count] : r.errors) o << "    " << dotted("  " + reason, w) << count << "\n";
  o << "\n    EXECUTION\n";
  o << "    " << dotted("iterations", w) << s.iterations_started << " started, " << s.iterations_completed
    << " completed\n";
  o << "    " << dotted("dropped_iterations", w) << s.dropped << "\n";
  o << "    " << dotted("vus_max", w) << s.vus_max << "\n";
  for (const auto& [name, count] : s.scenarios)
    o << "    " << dotted("  scenario " + name, w) << count << "\n";
  o << "\n    NETWORK\n";
  o << "    " << dotted("data_received", w) << bytes(static_cast<double>(r.bytes_received)) << "\n";
  o << "    " << dotted("data_sent", w) << bytes(static_cast<double>(r.bytes_sent)) << "\n";
  if (s.requests.size() > 1 || (s.requests.size() == 1 && s.requests[0].stats.count != r.count)) {
    o << "\n    REQUESTS (latency corrected)\n";
    for (const auto& n : s.requests) {
      o << "    " << n.name << "\n      count=" << n.stats.count << " failed=" << n.stats.failed << " "
        << latency_line(n.stats.corrected) << "\n";
    }
  }
  o << "\n  running " << fmt("%.1fs", s.duration_s) << (s.stopped_early ? " (stopped early)" : "") << "\n";
  return o.str();
}

std::string latency_report(const Summary& s) {
  std::ostringstream o;
  auto block = [&](const char* title, const Histogram& h) {
    o << "  Latency Distribution (HdrHistogram - " << title << ")\n";
    for (double p : {50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0})
      o << fmt("%8.3f%%", p) << "  " << us_text(h.value_at_percentile(p)) << "\n";
    o << "\n  Detailed Percentile spectrum:\n       Value   Percentile   TotalCount 1/(1-Percentile)\n\n";
    // Five ticks per halving of the distance to 100 %, as wrk2 prints.
    std::int64_t total = h.total_count();
    for (int half = 0; half < 40 && total > 0; ++half) {
      for (int tick = 0; tick < 5; ++tick) {
        double remaining = std::pow(0.5, half) * (1 - tick / 5.0 * 0.5);
        double p = 100.0 * (1 - remaining);
        std::int64_t v = h.value_at_percentile(p);
        auto count = static_cast<std::int64_t>(std::llround(p / 100.0 * static_cast<double>(total)));
        o << fmt("%12.3f", static_cast<double>(v) / 1000.0) << fmt("%13.6f", p / 100.0)
          << fmt("%13.0f", static_cast<double>(count)) << fmt("%15.2f", 1 / remaining) << "\n";
        if (count >= total) break;
      }
      if (std::pow(0.5, half) * static_cast<double>(total) < 1) break;
    }
    o << fmt("%12.3f", static_cast<double>(h.max()) / 1000.0) << fmt("%13.6f", 1.0)
      << fmt("%13.0f", static_cast<double>(total)) << "\n";
    o << "#[Mean    = " << fmt("%12.3f", h.mean() / 1000.0)
      << ", StdDeviation   = " << fmt("%12.3f", h.stddev() / 1000.0) << "]\n";
    o << "#[Max     = " << fmt("%12.3f", static_cast<double>(h.max()) / 1000.0)
      << ", Total count    = " << fmt("%12.0f", static_cast<double>(total)) << "]\n";
    o << "#[Buckets = " << fmt("%12.0f", 22) << ", SubBuckets     = " << fmt("%12.0f", 2048) << "]\n\n";
  };
  block("Recorded Latency", s.overall.corrected);
  block("Uncorrected Latency (measured without taking delayed starts into account)", s.overall.service);
  return o.str();
}

nlohmann::json results_json(const Summary& s, const std::vector<ThresholdResult>& thresholds) {
  nlohmann::json j;
  j["target"] = s.target;
  j["duration_s"] = s.duration_s;
  j["stopped_early"] = s.stopped_early;
  j["overall"] = stats_json(s.overall, s.duration_s);
  j["requests"] = nlohmann::json::object();
  for (const auto& n : s.requests) j["requests"][n.name] = stats_json(n.stats, s.duration_s);
  j["scenarios"] = s.scenarios;
  j["iterations"] = {{"started", s.iterations_started},
                     {"completed", s.iterations_completed},
                     {"dropped", s.dropped},
                     {"vus_max", s.vus_max}};
  j["thresholds"] = nlohmann::json::array();
  for (const auto& t : thresholds)
    j["thresholds"].push_back({{"threshold", t.threshold.text},
                               {"metric", metric_name(t.threshold.metric)},
                               {"observed", t.observed},
                               {"passed", t.passed}});
  j["timeline"] = nlohmann::json::array();
  for (const auto& p : s.timeline)
    j["timeline"].push_back({{"elapsed_s", p.elapsed_s},
                             {"phase", p.phase},
                             {"rps", p.rps},
                             {"requests", p.requests},
                             {"failed", p.failed},
                             {"status_classes",
                              {{"2xx", p.classes.c2xx},
                               {"3xx", p.classes.c3xx},
                               {"4xx", p.classes.c4xx},
                               {"5xx", p.classes.c5xx},
                               {"transport", p.classes.transport}}},
                             {"latency_ms", percentiles_json(p.latency)},
                             {"service_time_ms", percentiles_json(p.service)},
                             {"in_flight", p.in_flight},
                             {"queued", p.queued},
                             {"dropped", p.dropped}});
  return j;
}

std::string timeline_csv(const Summary& s) {
  std::ostringstream o;
  o << "elapsed_s,phase,rps,requests,failed,c2xx,c3xx,c4xx,c5xx,transport,p50_ms,p90_ms,p95_ms,p99_ms,p999_"
       "ms,max_ms,"
       "service_p50_ms,service_p99_ms,in_flight,queued,dropped\n";
  for (const auto& p : s.timeline) {
    std::string phase = p.phase;
    std::replace(phase.begin(), phase.end(), '"', '\'');
    o << fmt("%.3f", p.elapsed_s) << ",\"" << phase << "\"," << fmt("%.2f", p.rps) << "," << p.requests << ","
      << p.failed << "," << p.classes.c2xx << "," << p.classes.c3xx << "," << p.classes.c4xx << ","
      << p.classes.c5xx << "," << p.classes.transport << "," << fmt("%.3f", p.latency.p50) << ","
      << fmt("%.3f", p.latency.p90) << "," << fmt("%.3f", p.latency.p95) << "," << fmt("%.3f", p.latency.p99)
      << "," << fmt("%.3f", p.latency.p999) << "," << fmt("%.3f", p.latency.max) << ","
      << fmt("%.3f", p.service.p50) << "," << fmt("%.3f", p.service.p99) << "," << p.in_flight << ","
      << p.queued << "," << p.dropped << "\n";
  }
  return o.str();
}

std::string html_report(const Summary& s, const std::vector<ThresholdResult>& thresholds,
                        const std::string& title) {
  std::vector<double> x, rps, p50, p95, p99, sp99, ok, c4, c5, tr;
  for (const auto& p : s.timeline) {
    x.push_back(p.elapsed_s);
    rps.push_back(p.rps);
    p50.push_back(p.latency.p50);
    p95.push_back(p.latency.p95);
    p99.push_back(p.latency.p99);
    sp99.push_back(p.service.p99);
    ok.push_back(static_cast<double>(p.classes.c2xx + p.classes.c3xx));
    c4.push_back(static_cast<double>(p.classes.c4xx));
    c5.push_back(static_cast<double>(p.classes.c5xx));
    tr.push_back(static_cast<double>(p.classes.transport));
  }
  std::ostringstream o;
  o << "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" << escape(title)
    << "</title><style>"
    << "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}"
    << "td,th{border:1px solid #ccc;padding:4px "
       "8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}"
    << ".pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}svg{display:block;margin:16px "
       "0}</style></head><body>";
  o << "<h1>" << escape(title) << "</h1><p>Target " << escape(s.target) << ", " << fmt("%.1f", s.duration_s)
    << " s, " << s.overall.count << " requests ("
    << fmt("%.1f", s.duration_s > 0 ? s.overall.count / s.duration_s : 0) << "/s), " << s.overall.failed
    << " failed, " << s.dropped << " dropped iterations.</p>";
  if (!thresholds.empty()) {
    o << "<h2>Thresholds</h2><table><tr><th>threshold</th><th>metric</th><th>observed</th><th>result</th></"
         "tr>";
    for (const auto& t : thresholds)
      o << "<tr><td>" << escape(t.threshold.text) << "</td><td>" << metric_name(t.threshold.metric)
        << "</td><td>" << escape(t.observed_text) << "</td><td class='"
        << (t.passed ? "pass'>passed" : "fail'>FAILED") << "</td></tr>";
    o << "</table>";
  }
  o << "<h2>Over time</h2>";
  o << svg_chart("Requests per second", "req/s", x, {{"rps", "#0969da", rps}});
  o << svg_chart("Latency percentiles (corrected for coordinated omission)", "ms", x,
                 {{"p50", "#1a7f37", p50},
                  {"p95", "#bf8700", p95},
                  {"p99", "#cf222e", p99},
                  {"p99 service time (uncorrected)", "#8250df", sp99}});
  o << svg_chart("Responses by class", "per interval", x,
                 {{"2xx/3xx", "#1a7f37", ok},
                  {"4xx", "#bf8700", c4},
                  {"5xx", "#cf222e", c5},
                  {"no response", "#57606a", tr}});
  o << "<h2>Requests</h2><table><tr><th>request</th><th>count</th><th>failed</th><th>p50 ms</th><th>p90 "
       "ms</th><th>p95 ms</th>"
    << "<th>p99 ms</th><th>max ms</th><th>p99 service ms</th></tr>";
  auto row = [&](const std::string& name, const RequestStats& r) {
    const auto& h = r.corrected;
    o << "<tr><td>" << escape(name) << "</td><td>" << r.count << "</td><td>" << r.failed << "</td>";
    for (double p : {50.0, 90.0, 95.0, 99.0})
      o << "<td>" << fmt("%.2f", h.value_at_percentile(p) / 1000.0) << "</td>";
    o << "<td>" << fmt("%.2f", h.max() / 1000.0) << "</td><td>"
      << fmt("%.2f", r.service.value_at_percentile(99) / 1000.0) << "</td></tr>";
  };
  for (const auto& n : s.requests) row(n.name, n.stats);
  row("all requests", s.overall);
  o << "</table>";
  if (!s.overall.errors.empty()) {
    o << "<h2>Errors</h2><table><tr><th>error</th><th>count</th></tr>";
    for (const auto& [reason, count] : s.overall.errors)
      o << "<tr><td>" << escape(reason) << "</td><td>" << count << "</td></tr>";
    o << "</table>";
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace mambogo::load
