// data/token_cache.cpp — the cache file: magic, a JSON header (key, counts, stats, section places), 8-byte
// aligned arrays, and the SHA-256 of everything before it as 64 hex characters at the end.
#include "data/token_cache.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/provenance.h"
#include "common/sha256.h"
#include "data/data_reader.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kMagic[8] = {'S', 'T', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr int kFormat = 1;
constexpr size_t kDigestChars = 64;

json chat_format_json(const DataOptions& o) {
  const ChatFormat& f = o.chat.name.empty() ? named_chat_format(o.chat_template) : o.chat;
  return {{"name", f.name},
          {"bos", {f.bos_at_start, f.bos_each_turn}},
          {"system", {f.system_open, f.system_close, f.system_inside_first_user, f.default_system}},
          {"user", {f.user_open, f.user_close}},
          {"response", {f.response_suffix, f.after_response, f.after_last_response, f.end_of_response}},
          {"trim", f.trim_content},
          {"controls", f.controls}};
}

// One array of the file: where it starts (from the data start) and how many elements.
struct Section {
  const char* name;
  const void* data;
  size_t count, element;
};

std::vector<Section> sections_of(const TokenizedData::Views& v) {
  return {{"offsets", v.offsets.data, v.offsets.size, sizeof(int64_t)},
          {"lines", v.lines.data, v.lines.size, sizeof(int64_t)},
          {"ids", v.ids.data, v.ids.size, sizeof(int32_t)},
          {"trained", v.trained.data, v.trained.size, sizeof(uint8_t)},
          {"files", v.files.data, v.files.size, sizeof(uint32_t)},
          {"truncated", v.truncated.data, v.truncated.size, sizeof(uint8_t)}};
}

size_t aligned8(size_t n) { return (n + 7) / 8 * 8; }

// Writes through the hash, so the digest covers exactly the bytes written.
struct HashingWriter {
  std::FILE* file;
  const std::string& path;
  Sha256 hash;
  void operator()(const void* data, size_t size) {
    write_all(file, data, size, path);
    hash.update(data, size);
  }
  void pad_to(size_t& at, size_t target) {
    static const char zeros[8] = {};
    write_all(file, zeros, target - at, path), hash.update(zeros, target - at), at = target;
  }
};

template <typename T>
bool view_section(const json& places, const char* name, const uint8_t* base, size_t room, ArrayView<T>& out, std::string& problem) {
  const auto place = places.at(name).get<std::vector<uint64_t>>();
  if (place.size() != 2 || place[0] % alignof(T) != 0 || place[1] > room / sizeof(T) || place[0] > room - place[1] * sizeof(T)) {
    problem = fmt::format("section {} lies outside the file", name);
    return false;
  }
  out = {reinterpret_cast<const T*>(base + place[0]), static_cast<size_t>(place[1])};
  return true;
}

// Every bound the readers rely on: row offsets rising from 0 to the token count, file indices in range.
bool consistent(const TokenizedData::Views& v, size_t files, std::string& problem) {
  const size_t n = v.lines.size;
  bool ok = v.offsets.size == n + 1 && v.files.size == n && v.truncated.size == n && v.ids.size == v.trained.size &&
            v.offsets[0] == 0 && static_cast<size_t>(v.offsets[n]) == v.ids.size;
  for (size_t i = 0; ok && i < n; ++i) ok = v.offsets[i] <= v.offsets[i + 1] && v.files[i] < files;
  if (!ok) problem = "its arrays do not agree with each other";
  return ok;
}

std::optional<TokenizedData> parse_cache(std::shared_ptr<MappedFile> map, const std::string& key,
                                         const std::vector<std::string>& files, std::string& problem) {
  const uint8_t* p = map->data();
  const size_t size = static_cast<size_t>(map->size());
  uint64_t header_len = 0;
  if (size < 16 + kDigestChars || std::memcmp(p, kMagic, 8) != 0) return problem = "not a token cache file", std::nullopt;
  std::memcpy(&header_len, p + 8, 8);
  if (header_len > size - 16 - kDigestChars) return problem = "its header is cut short", std::nullopt;
  if (sha256_file(map->path(), size - kDigestChars) != std::string(reinterpret_cast<const char*>(p) + size - kDigestChars, kDigestChars))
    return problem = "its checksum does not match (damaged or cut short)", std::nullopt;
  const json header = json::parse(p + 16, p + 16 + header_len);
  if (header.at("format") != kFormat || header.at("key") != key) return problem = "it was written for another key", std::nullopt;
  if (header.at("files").size() != files.size()) return problem = "it lists another number of files", std::nullopt;
  const size_t data_start = aligned8(16 + header_len);
  if (data_start > size - kDigestChars) return problem = "its header is cut short", std::nullopt;
  const json& places = header.at("sections");
  const size_t room = size - kDigestChars - data_start;
  TokenizedData::Views v;
  const uint8_t* base = p + data_start;
  if (!view_section(places, "offsets", base, room, v.offsets, problem) || !view_section(places, "lines", base, room, v.lines, problem) ||
      !view_section(places, "ids", base, room, v.ids, problem) || !view_section(places, "trained", base, room, v.trained, problem) ||
      !view_section(places, "files", base, room, v.files, problem) ||
      !view_section(places, "truncated", base, room, v.truncated, problem) || !consistent(v, files.size(), problem))
    return std::nullopt;
  return TokenizedData(std::move(map), v, files, stats_from_json(header.at("stats")));
}

}  // namespace

std::string token_cache_key(const std::vector<std::string>& file_sha256, const std::string& tokenizer_identity,
                            const DataOptions& o) {
  const json key = {{"format", kFormat},
                    {"source_version", source_version()},
                    {"data", file_sha256},
                    {"tokenizer", tokenizer_identity},
                    {"chat", chat_format_json(o)},
                    {"record_format", o.format},
                    {"system_prompt", o.system_prompt},
                    {"max_seq_len", o.max_seq_len},
                    {"truncation", static_cast<int>(o.truncation)},
                    {"on_bad_line", static_cast<int>(o.on_bad_line)}};
  return sha256_hex(key.dump());
}

std::string token_cache_path(const std::string& dir, const std::string& key) {
  return (fs::path(dir) / (key + ".tokens")).string();
}

std::string token_cache_dir(const std::string& setting) {
  if (setting == "off") return "";
  if (setting != "auto") return setting;
  if (const char* dir = std::getenv("SAFETUNE_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "safetune" / "tokens").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "safetune" / "tokens").string();
  return "";
}

std::optional<TokenizedData> load_token_cache(const std::string& path, const std::string& key,
                                              const std::vector<std::string>& files, std::string& problem) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    return parse_cache(MappedFile::open(path), key, files, problem);
  } catch (const std::exception& e) {  // unreadable, or a header that is not the JSON we write
    problem = e.what();
    return std::nullopt;
  }
}

void save_token_cache(const std::string& path, const std::string& key, const TokenizedData& data) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  ST_CHECK(!ec, "{}: cannot create the folder: {}", fs::path(path).parent_path().string(), ec.message());
  const auto sections = sections_of(data.views());
  json places = json::object();
  size_t at = 0;
  for (const auto& s : sections) {
    places[s.name] = {at, s.count};
    at = aligned8(at + s.count * s.element);
  }
  const std::string header = json{{"format", kFormat}, {"key", key}, {"files", data.files()}, {"examples", data.size()},
                                   {"tokens", data.tokens()}, {"stats", stats_to_json(data.stats())}, {"sections", places}}.dump();
  // A private name per process: two runs filling the same cache never write one file.
  const std::string part = fmt::format("{}.{}.part", path, ::getpid());
  write_file_atomic(part, [&](std::FILE* f) {
    HashingWriter out{f, part, Sha256()};
    const uint64_t header_len = header.size();
    out(kMagic, 8), out(&header_len, 8), out(header.data(), header.size());
    size_t written = 16 + header.size();
    const size_t data_start = aligned8(written);
    out.pad_to(written, data_start);
    for (const auto& s : sections) {
      out(s.data, s.count * s.element);
      written += s.count * s.element;
      out.pad_to(written, data_start + aligned8(written - data_start));
    }
    write_all(f, out.hash.hex_digest().data(), kDigestChars, part);
  });
  if (std::rename(part.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(part.c_str());
    fail_runtime("{}: rename from {} failed: {}", path, part, std::strerror(err));
  }
}

void mark_token_cache_used(const std::string& path) {
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
}

std::vector<std::string> evict_token_caches(const std::string& dir, uint64_t max_bytes, const std::string& keep) {
  struct CacheFile {
    fs::file_time_type used;
    std::string path;
    uint64_t bytes;
  };
  std::vector<CacheFile> files;
  uint64_t total = 0;
  std::error_code ec;
  // Only finished cache files count: another process's *.part is still being written.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    CacheFile f{it->last_write_time(entry_ec), it->path().string(), it->file_size(entry_ec)};
    if (entry_ec || it->path().extension() != ".tokens") continue;
    total += f.bytes;
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const CacheFile& a, const CacheFile& b) {
    return a.used != b.used ? a.used < b.used : a.path < b.path;  // oldest use first; ties in name order
  });
  std::vector<std::string> removed;
  for (const auto& f : files) {
    if (max_bytes == 0 || total <= max_bytes) break;
    if (f.path == keep || !fs::remove(f.path, ec)) continue;
    total -= f.bytes;
    removed.push_back(f.path);
  }
  return removed;
}

}  // namespace st
