// common/nearest.h — "did you mean" for every name a user types: config keys, options, subcommands.
#pragma once

#include <string>
#include <vector>

namespace st {

// Levenshtein distance.
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word`, or "" when none is close enough to be a useful guess.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace st
