// trainer/eval/rate_interval.cpp — the Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001 show
// it keeps close to its nominal coverage at small n, where the normal "p ± z·se" interval does not).
#include "trainer/eval/rate_interval.h"

#include <algorithm>
#include <cmath>

namespace st {

RateInterval wilson_interval(int64_t hits, int64_t n, double z) {
  if (n <= 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n), p = static_cast<double>(hits) / nn, z2 = z * z;
  const double center = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  // At 0 or n hits the bound is exactly 0 or 1; the formula leaves a rounding residue there.
  return {hits == 0 ? 0.0 : std::max(0.0, center - half), hits == n ? 1.0 : std::min(1.0, center + half)};
}

nlohmann::json interval_json(const RateInterval& interval) { return {interval.low, interval.high}; }

}  // namespace st
