// common/files.h — file primitives every folder needs: whole-file reads with clear errors, read-only
// memory maps, and atomic writes (temp file, fsync, rename, fsync of the folder) so a crash never leaves
// a half-written file under the final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace st {

// Exit 2 naming the path unless it is a regular file (links followed). A FIFO, a device or a process
// substitution would hang or read differently each time, and safetune reads inputs more than once (hash,
// then parse; again on resume), so every input file passes this check before it is opened.
void require_regular_file(const std::string& path);

// An input file opened for binary reading, after require_regular_file; exit 2 if it cannot be opened.
std::ifstream open_input_file(const std::string& path);

// The last component of a folder's path, a trailing slash or not ("runs/judge/final/" -> "final"): how
// reports name a classifier or judge folder.
std::string folder_name(const std::string& path);

// Reads a whole file; a missing, unreadable or non-regular file is bad input (exit 2) naming the path.
std::string read_text_file(const std::string& path);

// A private copy-on-write mapping of a whole file; stays valid while any shared_ptr to it lives.
class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(data_); }
  uint8_t* mutable_data() { return static_cast<uint8_t*>(data_); }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

// Writes `path` atomically: `write` receives a FILE* for `path.tmp`; the file is flushed, fsynced and
// renamed over `path`, then the folder is fsynced. On any failure the temp file is removed.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write);
void write_text_file_atomic(const std::string& path, const std::string& text);

// fwrite that fails loudly (disk full is a runtime failure, exit 1).
void write_all(std::FILE* file, const void* data, size_t size, const std::string& path);

void fsync_directory(const std::string& dir);

// Creates an output folder (and its parents); a path that cannot be one (it crosses a file, no permission)
// is exit 2 naming `key`, the config key or option that gave it.
void create_output_folder(const std::string& dir, const std::string& key);

// A file to copy into a folder under `name` (e.g. a model's tokenizer files into a saved model folder).
struct NamedFile {
  std::string source;
  std::string name;
};

// Copies each file into `dir` under its name, each atomically; a target that already is the source (the
// folder being saved over itself) is left alone.
void copy_files_into(const std::string& dir, const std::vector<NamedFile>& files);

}  // namespace st
