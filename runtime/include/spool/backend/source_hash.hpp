// Source hashes of kernels whose source Spool never sees (SPIR-V handed over
// as words): "sha256:" + SHA-256 of the module's bytes, so that the autotune
// store keys them the same way as kernels built by spool_add_kernels().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace spool::backend {

// Lower-case hex SHA-256 (FIPS 180-4) of `bytes`.
std::string sha256_hex(std::span<const std::byte> bytes);

// "sha256:" + SHA-256 of the launch words followed by the persistent words
// (little-endian bytes, as SPIR-V files store them).
std::string spirv_source_hash(std::span<const std::uint32_t> launch,
                              std::span<const std::uint32_t> persistent);

}  // namespace spool::backend
