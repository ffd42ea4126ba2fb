// common/rng.cpp — splitmix64 stream seeds and platform-independent integer draws.
#include "common/rng.h"

namespace st {

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t uniform_below(uint64_t n, std::mt19937_64& rng) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the top partial range to stay unbiased
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  seeded_shuffle(order, rng);
  return order;
}

}  // namespace st
