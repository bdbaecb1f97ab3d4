/* C API of the Spool pool allocator. Same semantics as the C standard
 * functions: failure returns NULL with errno = ENOMEM; spool_free(NULL) is a
 * no-op; spool_malloc(0) returns a unique minimum-size block;
 * spool_aligned_alloc needs a power-of-two alignment <= 1 MiB (else NULL,
 * errno = EINVAL). Blocks may be freed by any thread. */
#ifndef SPOOL_ALLOC_SPOOL_MALLOC_H
#define SPOOL_ALLOC_SPOOL_MALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* spool_malloc(size_t size);
void spool_free(void* p);
void* spool_calloc(size_t count, size_t size);
void* spool_realloc(void* p, size_t size);
void* spool_aligned_alloc(size_t alignment, size_t size);
size_t spool_malloc_usable_size(const void* p);

#ifdef __cplusplus
}
#endif

#endif /* SPOOL_ALLOC_SPOOL_MALLOC_H */
