// common/rng.h — the one home of safetune's randomness: every random choice draws from a named stream of
// the run seed, so streams never overlap and a resumed run draws the same numbers. Integer draws and
// shuffles use mt19937_64 with rejection sampling and Fisher-Yates, which give the same sequence on every
// standard library (std::uniform_int_distribution and std::shuffle do not).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace st {

// The streams, by purpose. The numbers are part of the bit-exact contract: changing one changes runs.
enum class RngStream : uint64_t {
  SafetySelection = 101,  // safety-subset selection (random order; stratified: + 1 + stratum index)
  SafetyMixer = 202,      // the mixer's per-group order (+ group index), reshuffled each pass
  SafetyCentroid = 303,   // the task sample whose embeddings form the `similar` centroid
  SafetyMixDraws = 404,   // the mixer itself
  LoraInit = 505,         // the LoRA A matrices' initial values
  TorchGlobal = 606,      // LibTorch's default generators (LoRA dropout), seeded at a fresh start
  SampledPenalty = 1000,  // the sampled estimator's continuations (+ step)
};

// One seed per purpose from a run seed and a stream number (splitmix64).
uint64_t derive_seed(uint64_t seed, uint64_t stream);
inline uint64_t rng_seed(uint64_t seed, RngStream stream, uint64_t index = 0) {
  return derive_seed(seed, static_cast<uint64_t>(stream) + index);
}
inline uint64_t rng_seed(int64_t seed, RngStream stream, uint64_t index = 0) {
  return rng_seed(static_cast<uint64_t>(seed), stream, index);
}

// The seed of the task data's shuffle in `epoch` (kept from the first release: batches depend on it).
inline uint64_t batch_order_seed(uint64_t seed, int64_t epoch) {
  return seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1;
}
// train-classifier: the train/validation split, and each epoch's shuffle.
inline uint64_t classifier_split_seed(uint64_t seed) { return seed * 0x9E3779B97F4A7C15ull + 17; }
inline uint64_t classifier_epoch_seed(uint64_t seed, int64_t epoch) {
  return seed + 1000003ull * static_cast<uint64_t>(epoch);
}

// Uniform integer in [0, n) by rejection: unbiased and the same on every standard library.
uint64_t uniform_below(uint64_t n, std::mt19937_64& rng);
// Fisher-Yates shuffle in place.
template <typename T>
void seeded_shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(i, rng)]);
}
// 0 .. n-1 in a Fisher-Yates order drawn from mt19937_64(seed).
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);

}  // namespace st
