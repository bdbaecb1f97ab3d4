// Tiny functions that only call the inlined fast paths; hotpath.sh
// disassembles them and counts the instructions of the non-empty-list path.
#include "spool/alloc/alloc.hpp"

extern "C" {
// Size known at compile time (what PoolAllocator<T> and most `new T` see).
void* spool_hotpath_alloc48() { return spool::alloc::allocate(48); }
// Size known only at run time.
void* spool_hotpath_alloc(std::size_t n) { return spool::alloc::allocate(n); }
// free with p known non-null (the list push itself).
void spool_hotpath_free_nonnull(void* p) { spool::alloc::detail::free_fast(p); }
// deallocate(p): adds the nullptr test.
void spool_hotpath_free(void* p) { spool::alloc::deallocate(p); }
}
