// common/sha256.h — SHA-256 (FIPS 180-4) for checkpoint checksums and the run manifest's input hashes.
// Written here because none of the project's dependencies provides a hash; tested on the NIST vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace st {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string sha256_hex(const std::string& bytes);
std::string sha256_file(const std::string& path);  // streams the file; exit 2 if unreadable

}  // namespace st
