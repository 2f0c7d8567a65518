#pragma once
// Request metrics in Prometheus text format (product.md: requests by route and status, latency
// histogram). Thread-safe; recording costs one mutex and a map look-up.

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace scim::http {

class Metrics {
 public:
  // `route` is the route pattern ("/scim/v2/Users/:id"), never the raw path, to bound cardinality.
  void Record(const std::string& method, const std::string& route, int status, double seconds);

  // Extra lines appended at scrape time (outbox depth, deliveries), already in Prometheus format.
  void AddCollector(std::function<std::string()> collector);

  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<long long, kBuckets.size()> counts{};
    long long total = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, long long> requests_;
  std::map<std::string, Histogram> latency_;  // by route
  std::vector<std::function<std::string()>> collectors_;
};

}  // namespace scim::http
