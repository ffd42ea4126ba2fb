// cmake/pch.h — the one precompiled header shared by every target: LibTorch, fmt and nlohmann/json are
// most of each translation unit's parse time. Sources still include what they use.
#pragma once
#include <torch/torch.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
