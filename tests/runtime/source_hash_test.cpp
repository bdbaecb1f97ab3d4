// SHA-256 of SPIR-V words handed over without a source (Device::load_spirv):
// FIPS 180-4 test vectors, including the two-block padding case.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spool/backend/source_hash.hpp"

namespace {

std::string sha(const std::string& s) {
  return spool::backend::sha256_hex(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()));
}

TEST(SourceHash, MatchesTheFipsVectors) {
  EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(SourceHash, OfSpirvWordsIsPrefixedAndCoversBothVariants) {
  const std::vector<std::uint32_t> launch = {0x07230203u, 1, 2}, persistent = {3};
  const std::string h = spool::backend::spirv_source_hash(launch, persistent);
  EXPECT_EQ(h.rfind("sha256:", 0), 0u);
  EXPECT_EQ(h.size(), 7u + 64u);
  EXPECT_NE(h, spool::backend::spirv_source_hash(launch, {}));
  // Little-endian bytes of the words, as a .spv file holds them.
  const std::string bytes("\x03\x02\x23\x07\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00", 16);
  EXPECT_EQ(h, "sha256:" + sha(bytes));
}

}  // namespace
