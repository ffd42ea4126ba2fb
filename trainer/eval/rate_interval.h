// trainer/eval/rate_interval.h — how sure a measured rate is: the Wilson score interval of k hits in n
// prompts. On the few dozen prompts an evaluation has, a refusal rate of 75% may be anywhere from about 47%
// to 92%; the interval says so beside every headline rate.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace st {

struct RateInterval {
  double low, high;
};

// The 95% interval (z = 1.96) by default. n = 0 gives [0, 1]: nothing was measured.
RateInterval wilson_interval(int64_t hits, int64_t n, double z = 1.959963984540054);

// [low, high] as JSON, for reports.
nlohmann::json interval_json(const RateInterval& interval);

}  // namespace st
