#include "scim/app/main.h"

#include <malloc.h>

int main(int argc, char** argv) {
  // glibc hands the free top of a thread's arena back to the kernel (madvise) whenever it grows
  // past M_TRIM_THRESHOLD (128 KB by default): each request that freed its JSON documents
  // (RapidJSON allocates 64 KB chunks) gave the pages back and the next one faulted them in again,
  // a quarter of scimd's time for `filter=userName eq` on PostgreSQL (issue 12 profile, heap_trim
  // -> madvise from ScimHandlers::List). Setting it turns the dynamic mmap threshold off, so that
  // one is fixed too: blocks up to 1 MB come from the arenas.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  return scim::app::Main(argc, argv);
}
