#pragma once
// What the benches measure with: the median of repeated timings, and the process's peak RSS.
#include <chrono>
#include <vector>

namespace vista {

double median(std::vector<double> values);
double seconds_since(std::chrono::steady_clock::time_point start);
double peak_rss_mb();  // the process's peak resident set so far, MB

}  // namespace vista
