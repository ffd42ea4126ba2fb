// data/tokenizer.cpp — the tokenizer format registry and the folder-level helpers: which format a folder
// holds, opening it, the files to copy with it, and the vocabulary's identity.
#include "data/tokenizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "common/check.h"
#include "common/sha256.h"
#include "data/hf_tokenizer.h"
#include "data/sentencepiece_tokenizer.h"

namespace st {
namespace fs = std::filesystem;

const std::vector<TokenizerFormat>& tokenizer_formats() {
  // One line per format. Order is precedence when a folder holds several: tokenizer.model first, so that a
  // Llama 2 folder shipping both keeps the vocabulary identity (and classifiers) it had before tokenizer.json
  // was read; both give the same ids there.
  static const std::vector<TokenizerFormat> formats{sentencepiece_format(), hf_tokenizer_format()};
  return formats;
}

namespace {

// "tokenizer.model" (or "tokenizer.json or tokenizer.model"): what a folder was searched for, for messages.
std::string looked_for() {
  std::vector<std::string> names;
  for (const auto& f : tokenizer_formats()) names.push_back(fmt::format("{}", fmt::join(f.files, " + ")));
  return fmt::format("{}", fmt::join(names, " or "));
}

const TokenizerFormat* format_of_folder(const fs::path& dir) {
  for (const auto& f : tokenizer_formats()) {
    bool all = true;
    for (const auto& name : f.files) all = all && fs::is_regular_file(dir / name);
    if (all) return &f;
  }
  return nullptr;
}

// A loose file is recognised by its format's file name or extension (a "spm.model" is sentencepiece).
const TokenizerFormat* format_of_file(const fs::path& file) {
  for (const auto& f : tokenizer_formats())
    if (file.filename() == f.files[0] || (!f.loose_extension.empty() && file.extension() == f.loose_extension)) return &f;
  return nullptr;
}

TokenizerSource require_tokenizer(const std::string& path) {
  auto source = find_tokenizer(path);
  if (source.format != nullptr) return source;
  if (fs::is_directory(path)) fail_input("{}: no tokenizer in this folder (looked for {})", path, looked_for());
  if (fs::exists(path)) fail_input("{}: not a tokenizer file this build reads (looked for {})", path, looked_for());
  fail_input("{}: no such tokenizer folder or file (a model folder holding {})", path, looked_for());
}

}  // namespace

TokenizerSource find_tokenizer(const std::string& path) {
  const fs::path p(path);
  const TokenizerFormat* format = nullptr;
  if (fs::is_directory(p)) {
    format = format_of_folder(p);
    if (format != nullptr) return {format, (p / format->files[0]).string()};
  } else if (fs::is_regular_file(p)) {
    format = format_of_file(p);
    if (format != nullptr) return {format, path};
  }
  return {};
}

std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path) {
  const auto source = require_tokenizer(path);
  return source.format->open(source.vocabulary_file);
}

std::vector<NamedFile> tokenizer_files(const std::string& path) {
  if (!fs::is_directory(path)) {
    const auto source = require_tokenizer(path);
    return {{source.vocabulary_file, source.format->files[0]}};
  }
  // Every file transformers' tokenizers save, whatever their class: the formats safetune reads and the
  // configuration beside them (special tokens, chat template, added tokens), so a saved folder loads there.
  std::vector<std::string> names{"tokenizer.model",         "tokenizer.json",    "tokenizer_config.json",
                                 "special_tokens_map.json", "added_tokens.json", "vocab.json",
                                 "merges.txt",              "chat_template.jinja", "chat_template.json"};
  for (const auto& f : tokenizer_formats())
    for (const auto& name : f.files)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::vector<NamedFile> present;
  for (const auto& name : names)
    if (fs::is_regular_file(fs::path(path) / name)) present.push_back({(fs::path(path) / name).string(), name});
  return present;
}

std::string vocabulary_sha256(const std::string& path) { return sha256_file(require_tokenizer(path).vocabulary_file); }

std::string tokenizer_files_sha256(const std::string& path) {
  std::string listing;
  for (const auto& file : tokenizer_files(path)) listing += file.name + " " + sha256_file(file.source) + "\n";
  return sha256_hex(listing);
}

}  // namespace st
