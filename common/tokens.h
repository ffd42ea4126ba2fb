// common/tokens.h — the label value that takes a position out of every loss. Shared by data/ (which
// builds labels) and losses/ (which skips them); same value as transformers and PyTorch's default.
#pragma once

#include <cstdint>

namespace st {
constexpr int64_t kIgnoreIndex = -100;
}
