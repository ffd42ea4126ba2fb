// data/token_cache.h — the token cache: a reader's result in one binary file named by a key over everything
// that changes tokens, memory-mapped on later use, and checked whole (SHA-256, bounds) before it is trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/tokenized_data.h"

namespace st {

// The key: the data files' hashes in order, the tokenizer's identity, every data option that changes tokens,
// the resolved chat template, and the source version (a build from other code tokenizes again).
std::string token_cache_key(const std::vector<std::string>& file_sha256, const std::string& tokenizer_identity,
                            const DataOptions& options);
std::string token_cache_path(const std::string& dir, const std::string& key);

// data.cache "auto": $SAFETUNE_CACHE_DIR, else $XDG_CACHE_HOME/safetune/tokens, else ~/.cache/safetune/tokens
// ("" when none of them is set); "off": ""; anything else is the folder itself.
std::string token_cache_dir(const std::string& setting);

// The cached data for `key` with `files` as its provenance names; nullopt when there is no such file, or when
// the file is damaged or another key's (then `problem` says what, and the caller tokenizes again).
std::optional<TokenizedData> load_token_cache(const std::string& path, const std::string& key,
                                              const std::vector<std::string>& files, std::string& problem);

// Written under a temporary name and renamed, so a reader sees a whole file or none. Exit 1 on I/O failure.
void save_token_cache(const std::string& path, const std::string& key, const TokenizedData& data);

// A hit sets the file's modification time to now, so that time is its last use (best effort: a read-only
// folder keeps the old time).
void mark_token_cache_used(const std::string& path);

// Removes the least recently used cache files of `dir` (never `keep`) until the folder's cache files total at
// most max_bytes; 0 = no limit. Returns the files removed. A run that had mapped one keeps its mapping (POSIX
// unlink), and a run that wanted one tokenizes again: eviction costs time, never data.
std::vector<std::string> evict_token_caches(const std::string& dir, uint64_t max_bytes, const std::string& keep);

}  // namespace st
