// OS seam of the backend (part of Box 2): every system call the allocator
// makes goes through these few functions.
//
//   map_aligned(len)   len bytes of fresh zero memory starting on a 4 MiB
//                      boundary (nullptr when the OS refuses)
//   unmap(p, len)      gives a mapping back
//   release(p, len)    keeps the address range but drops its pages
//                      (MADV_DONTNEED: the next touch faults in zero pages)
//   now_ms()           coarse monotonic milliseconds (a few ns per call)
//
// The segment registry (one bit per 4 MiB of address space) answers "did this
// allocator map the segment p lies in" for checked frees.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::alloc::detail {

char* map_aligned(std::size_t length) noexcept;
// length bytes of fresh zero memory, page aligned (the backend's own tables).
void* map_pages(std::size_t length) noexcept;
void unmap(void* p, std::size_t length) noexcept;
void release(void* p, std::size_t length) noexcept;
std::size_t page_size() noexcept;
std::uint64_t now_ms() noexcept;

// Writes a segment header (class byte, magic, lengths) and registers it.
void init_header(char* base, unsigned cls, std::size_t length, std::size_t offset) noexcept;
void unregister_segment(const void* base) noexcept;

}  // namespace spool::alloc::detail
