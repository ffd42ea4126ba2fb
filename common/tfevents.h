// common/tfevents.h — TensorBoard event files (events.out.tfevents.*): TFRecord framing (length, masked
// CRC32C, a serialized Event protobuf, masked CRC32C) around the few Event fields a training log needs,
// encoded here (scalars, text, and the session start that makes TensorBoard drop a resumed run's orphans).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace st {

// CRC-32C (Castagnoli), as TFRecord frames use it.
uint32_t crc32c(const void* data, size_t size);

class EventWriter {
 public:
  // Creates `dir` and a new events file in it (a resumed run adds a file; TensorBoard reads them in order).
  explicit EventWriter(const std::string& dir);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void scalar(const std::string& tag, double value, int64_t step);
  // A text summary (TensorBoard's Text tab renders it as Markdown).
  void text(const std::string& tag, const std::string& markdown, int64_t step);
  // SessionLog START at `step`: TensorBoard discards this run's events at steps >= step written before it,
  // which is how a resumed run hides what it wrote after its checkpoint.
  void session_start(int64_t step);
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& fields, int64_t step);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace st
