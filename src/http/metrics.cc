#include "http/metrics.h"

#include <sstream>

namespace scim::http {

void Metrics::Record(const std::string& method, const std::string& route, int status,
                     double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.total;
  h.sum += seconds;
}

void Metrics::AddCollector(std::function<std::string()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::vector<std::function<std::string()>> collectors;
  {
    std::lock_guard lock(mutex_);
    out << "# HELP scimd_http_requests_total HTTP requests by method, route and status.\n"
        << "# TYPE scimd_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [method, route, status] = key;
      out << "scimd_http_requests_total{method=\"" << method << "\",route=\"" << route
          << "\",status=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP scimd_http_request_duration_seconds Request latency by route.\n"
        << "# TYPE scimd_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out << "scimd_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
            << kBuckets[i] << "\"} " << h.counts[i] << "\n";
      }
      out << "scimd_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
          << h.total << "\n";
      out << "scimd_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n";
      out << "scimd_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.total
          << "\n";
    }
    collectors = collectors_;
  }
  for (const auto& collect : collectors) out << collect();
  return out.str();
}

}  // namespace scim::http
