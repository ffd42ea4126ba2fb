// data/safety_pool.cpp — reading and checking the safety pool.
#include "data/safety_pool.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/check.h"
#include "common/json_file.h"

namespace st {

const std::vector<std::string>& safety_behaviors() {
  static const std::vector<std::string> names{"refusal", "safe_completion", "compliance", "over_refusal"};
  return names;
}

std::vector<SafetyRecord> read_safety_pool(const std::string& path) {
  std::vector<SafetyRecord> pool;
  std::set<std::string> ids;
  read_jsonl(path, [&](const nlohmann::json& j, int64_t line) {
    auto field = [&](const char* key, bool required) -> std::string {
      if (!j.contains(key)) {
        ST_CHECK_INPUT(!required, "{}:{}: missing \"{}\" (a pool record needs prompt, response, category, behavior)",
                       path, line, key);
        return "";
      }
      ST_CHECK_INPUT(j[key].is_string(), "{}:{}: \"{}\" must be a string, got {}", path, line, key, j[key].type_name());
      const auto value = j[key].get<std::string>();
      ST_CHECK_INPUT(!required || !value.empty(), "{}:{}: \"{}\" is empty", path, line, key);
      return value;
    };
    SafetyRecord r;
    r.prompt = field("prompt", true);
    r.response = field("response", true);
    r.category = field("category", true);
    r.behavior = field("behavior", true);
    r.source = field("source", false);
    r.id = field("id", false);
    if (r.id.empty()) r.id = fmt::format("{}:{}", path, line);
    const auto& behaviors = safety_behaviors();
    ST_CHECK_INPUT(std::find(behaviors.begin(), behaviors.end(), r.behavior) != behaviors.end(),
                   "{}:{}: \"behavior\" is \"{}\"; expected one of {}", path, line, r.behavior, fmt::join(behaviors, ", "));
    ST_CHECK_INPUT(ids.insert(r.id).second, "{}:{}: duplicate \"id\" \"{}\"", path, line, r.id);
    r.file = path;
    r.line = line;
    pool.push_back(std::move(r));
  });
  ST_CHECK_INPUT(!pool.empty(), "{}: the safety pool has no records", path);
  return pool;
}

std::map<std::string, int64_t> count_by_category(const std::vector<SafetyRecord>& pool) {
  std::map<std::string, int64_t> counts;
  for (const auto& r : pool) counts[r.category] += 1;
  return counts;
}

}  // namespace st
