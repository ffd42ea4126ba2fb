// tests/common/sha256_test.cpp — SHA-256 against the FIPS 180-4 / NIST example vectors, in both the portable
// and the SHA-extensions code, and the two against each other.
#include <gtest/gtest.h>

#include <cstdio>

#include "common/files.h"
#include "common/sha256.h"
#include "tests/test_util.h"

namespace st {
namespace {

std::string digest(const std::string& bytes, bool hardware) {
  Sha256 h(hardware);
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

TEST(Sha256, NistVectors) {
  std::printf("[sha256] SHA extensions on this CPU: %s\n", Sha256::hardware_available() ? "yes" : "no");
  for (bool hardware : {false, true}) {
    SCOPED_TRACE(hardware ? "SHA extensions" : "portable");
    EXPECT_EQ(digest("", hardware), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(digest("abc", hardware), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hardware),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(digest(std::string(1000000, 'a'), hardware),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST(Sha256, BothImplementationsAgreeOnEveryLengthAndSplit) {
  std::string bytes;
  for (int i = 0; i < 700; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) ^ (i >> 3)));
  for (size_t n = 0; n <= bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    const std::string expected = digest(prefix, /*hardware=*/false);
    ASSERT_EQ(digest(prefix, /*hardware=*/true), expected) << n << " bytes";
    // The same bytes fed in two pieces, across block boundaries.
    Sha256 split;
    const size_t cut = (n * 37) % (n + 1);
    split.update(prefix.data(), cut);
    split.update(prefix.data() + cut, n - cut);
    ASSERT_EQ(split.hex_digest(), expected) << n << " bytes cut at " << cut;
  }
}

TEST(Sha256, FileMatchesBytesAcrossBufferBoundaries) {
  test::TempDir dir;
  std::string bytes;
  for (int i = 0; i < (1 << 20) + 77; ++i) bytes.push_back(static_cast<char>(i * 31));
  write_text_file_atomic(dir / "f", bytes);
  EXPECT_EQ(sha256_file(dir / "f"), sha256_hex(bytes));
}

}  // namespace
}  // namespace st
