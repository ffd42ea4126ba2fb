// common/files.cpp — POSIX implementation of the file primitives (Linux is the supported platform).
#include "common/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/check.h"

namespace st {

namespace {
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe or process substitution)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}
}  // namespace

void require_regular_file(const std::string& path) {
  ST_CHECK_INPUT(path.find('\0') == std::string::npos, "{}: a path may not contain a NUL character", path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail_input("{}: no such file", path);
    fail_input("{}: cannot read: {}", path, std::strerror(errno));
  }
  ST_CHECK_INPUT(S_ISREG(st.st_mode), "{}: is {}; safetune reads an input file more than once (hash, parse, resume), "
                 "so it must be a regular file (write the stream to a file first)", path, file_kind(st.st_mode));
}

std::ifstream open_input_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  ST_CHECK_INPUT(in.good(), "{}: cannot open: {}", path, std::strerror(errno));
  return in;
}

std::string folder_name(const std::string& path) {
  auto p = std::filesystem::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "a/b/" normalises to "a/b/" with an empty last component
  return p.filename().string();
}

std::string read_text_file(const std::string& path) {
  std::ifstream in = open_input_file(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  require_regular_file(path);
  // O_NONBLOCK: should the path have become a FIFO since the check, open() returns instead of waiting.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  ST_CHECK_INPUT(fd >= 0, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail_input("{}: not a regular file", path);
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    // MAP_PRIVATE + PROT_WRITE: tensors viewing the map may be written in place without touching the file.
    void* p = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      fail_runtime("{}: mmap failed: {}", path, std::strerror(err));
    }
    file->data_ = p;
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

void create_output_folder(const std::string& dir, const std::string& key) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ST_CHECK_INPUT(!ec, "{} ({}): cannot create the folder: {}", key, dir, ec.message());
  ST_CHECK_INPUT(std::filesystem::is_directory(dir), "{} ({}): exists and is not a folder", key, dir);
}

void write_all(std::FILE* file, const void* data, size_t size, const std::string& path) {
  if (size == 0) return;
  ST_CHECK(std::fwrite(data, 1, size, file) == size, "{}: write failed: {}", path, std::strerror(errno));
}

void fsync_directory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ST_CHECK(fd >= 0, "{}: cannot open folder to fsync: {}", dir, std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  ST_CHECK(rc == 0, "{}: fsync failed: {}", dir, std::strerror(errno));
}

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write) {
  const std::string tmp = path + ".tmp";
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  ST_CHECK(file != nullptr, "{}: cannot create: {}", tmp, std::strerror(errno));
  try {
    write(file);
    ST_CHECK(std::fflush(file) == 0, "{}: flush failed: {}", tmp, std::strerror(errno));
    ST_CHECK(::fsync(::fileno(file)) == 0, "{}: fsync failed: {}", tmp, std::strerror(errno));
  } catch (...) {
    std::fclose(file);
    std::remove(tmp.c_str());
    throw;
  }
  ST_CHECK(std::fclose(file) == 0, "{}: close failed: {}", tmp, std::strerror(errno));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail_runtime("{}: rename from {} failed: {}", path, tmp, std::strerror(err));
  }
  fsync_directory(std::filesystem::path(path).parent_path().string());
}

void write_text_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::FILE* f) { write_all(f, text.data(), text.size(), path); });
}

void copy_files_into(const std::string& dir, const std::vector<NamedFile>& files) {
  for (const auto& file : files) {
    const auto target = std::filesystem::path(dir) / file.name;
    if (!std::filesystem::exists(target) || !std::filesystem::equivalent(file.source, target))
      write_text_file_atomic(target.string(), read_text_file(file.source));
  }
}

}  // namespace st
