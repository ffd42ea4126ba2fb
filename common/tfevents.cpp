// common/tfevents.cpp — the protobuf wire format for Event, Summary and SessionLog (tensorflow/core/util/
// event.proto, summary.proto, tensor.proto), and TFRecord framing.
#include "common/tfevents.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"

namespace st {
namespace {

std::array<uint32_t, 256> crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reversed Castagnoli polynomial
    table[i] = c;
  }
  return table;
}

uint32_t masked_crc(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

// Protobuf wire format: a field key is (number << 3) | wire type.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void key(std::string& out, int field, int wire) { varint(out, static_cast<uint64_t>(field << 3 | wire)); }
template <typename T>
void fixed(std::string& out, int field, T value) {  // double (wire 1) or float (wire 5), little-endian
  key(out, field, sizeof(T) == 8 ? 1 : 5);
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
void bytes(std::string& out, int field, const std::string& value) {
  key(out, field, 2);
  varint(out, value.size());
  out += value;
}
void integer(std::string& out, int field, int64_t value) {
  key(out, field, 0);
  varint(out, static_cast<uint64_t>(value));
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const auto table = crc32c_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

EventWriter::EventWriter(const std::string& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  // TensorBoard reads a run's files in name order, so a resumed process's file must sort after the one
  // before it even within the same second: the microseconds follow the seconds, zero-padded.
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  path_ = (std::filesystem::path(dir) / fmt::format("events.out.tfevents.{}.{}.{:06d}.{}", micros / 1000000, host,
                                                    micros % 1000000, ::getpid())).string();
  file_ = std::fopen(path_.c_str(), "ab");
  ST_CHECK(file_ != nullptr, "{}: cannot create the TensorBoard event file", path_);
  std::string fields;
  bytes(fields, /*file_version=*/3, "brain.Event:2");
  write_event(fields, 0);
}

EventWriter::~EventWriter() { std::fclose(file_); }

void EventWriter::scalar(const std::string& tag, double value, int64_t step) {
  std::string v, summary, fields;
  bytes(v, /*tag=*/1, tag);
  fixed(v, /*simple_value=*/2, static_cast<float>(value));
  bytes(summary, /*value=*/1, v);
  bytes(fields, /*summary=*/5, summary);
  write_event(fields, step);
}

void EventWriter::text(const std::string& tag, const std::string& markdown, int64_t step) {
  std::string plugin, metadata, tensor, v, summary, fields;
  bytes(plugin, /*plugin_name=*/1, "text");
  bytes(metadata, /*plugin_data=*/1, plugin);
  integer(tensor, /*dtype=*/1, /*DT_STRING=*/7);
  bytes(tensor, /*tensor_shape=*/2, "");  // a scalar
  bytes(tensor, /*string_val=*/8, markdown);
  bytes(v, /*tag=*/1, tag);
  bytes(v, /*tensor=*/8, tensor);
  bytes(v, /*metadata=*/9, metadata);
  bytes(summary, /*value=*/1, v);
  bytes(fields, /*summary=*/5, summary);
  write_event(fields, step);
}

void EventWriter::session_start(int64_t step) {
  std::string log, fields;
  integer(log, /*status=*/1, /*START=*/1);
  bytes(fields, /*session_log=*/7, log);
  write_event(fields, step);
}

void EventWriter::write_event(const std::string& fields, int64_t step) {
  std::string event;
  fixed(event, /*wall_time=*/1, now_seconds());
  integer(event, /*step=*/2, step);
  event += fields;
  const uint64_t length = event.size();
  const uint32_t length_crc = masked_crc(&length, sizeof length), data_crc = masked_crc(event.data(), event.size());
  std::string frame(reinterpret_cast<const char*>(&length), sizeof length);
  frame.append(reinterpret_cast<const char*>(&length_crc), sizeof length_crc);
  frame += event;
  frame.append(reinterpret_cast<const char*>(&data_crc), sizeof data_crc);
  write_all(file_, frame.data(), frame.size(), path_);
  std::fflush(file_);
}

}  // namespace st
