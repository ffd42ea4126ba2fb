// common/sha256.h — SHA-256 (FIPS 180-4) for checkpoint checksums and the run manifest's input hashes.
// Written here because none of the project's dependencies provides a hash; tested on the NIST vectors.
// Uses the x86 SHA extensions where the CPU has them (about 10x the portable code: a checkpoint of a 1B
// model with its AdamW state is 13 GB to hash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace st {

class Sha256 {
 public:
  // hardware = false forces the portable code (tests compare the two).
  explicit Sha256(bool hardware = true);
  void update(const void* data, size_t size);
  std::string hex_digest();  // finishes the hash; call once
  static bool hardware_available();  // this CPU has the SHA extensions (and SSE4.1)

 private:
  void blocks(const uint8_t* p, size_t count);  // count 64-byte blocks
  bool hardware_;
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string sha256_hex(const std::string& bytes);
// Streams the file (its first `length` bytes); exit 2 if unreadable. Reading, not mapping, keeps the bytes out
// of the process's resident memory.
std::string sha256_file(const std::string& path, uint64_t length = UINT64_MAX);

}  // namespace st
