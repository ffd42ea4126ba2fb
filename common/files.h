// common/files.h — file primitives every folder needs: whole-file reads with clear errors, read-only
// memory maps, and atomic writes (temp file, fsync, rename, fsync of the folder) so a crash never leaves
// a half-written file under the final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace st {

// Reads a whole file; a missing or unreadable file is bad input (exit 2) naming the path.
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

// A file to copy into a folder under `name` (e.g. a model's tokenizer files into a saved model folder).
struct NamedFile {
  std::string source;
  std::string name;
};

// Copies each file into `dir` under its name, each atomically; a target that already is the source (the
// folder being saved over itself) is left alone.
void copy_files_into(const std::string& dir, const std::vector<NamedFile>& files);

}  // namespace st
