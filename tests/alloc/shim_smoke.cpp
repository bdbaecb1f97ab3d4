// Run under LD_PRELOAD=libspool_malloc.so by ctest: many threads created and
// destroyed, cross-thread frees, C++ new/delete, a fork whose child allocates
// and exits, and a check that malloc really is the pool's.
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<void*> g_handoff[2];

void churn(int gen) {
  std::vector<std::string> strings;
  for (int i = 0; i < 2000; ++i) {
    strings.emplace_back(static_cast<std::size_t>(20 + (i * 13 + gen) % 900), 'x');
    void* p = std::malloc(static_cast<std::size_t>(1 + (i * 7) % 5000));
    if (i % 4 == 0) {
      g_handoff[gen % 2].push_back(p);
    } else {
      std::free(p);
    }
  }
}

}  // namespace

int main() {
  void* probe = std::malloc(100);
  // The pool rounds 100 up to its 112-byte class; glibc would report 104.
  if (malloc_usable_size(probe) != 112) {
    std::fprintf(stderr, "malloc is not the pool's (usable %zu)\n", malloc_usable_size(probe));
    return 1;
  }
  std::free(probe);
  for (int gen = 0; gen < 40; ++gen) {
    std::vector<std::thread> ts;
    // Frees of the previous generation's blocks from new threads.
    std::vector<void*> old;
    old.swap(g_handoff[(gen + 1) % 2]);
    ts.emplace_back([&old] {
      for (void* p : old) std::free(p);
    });
    ts.emplace_back(churn, gen);
    for (auto& t : ts) t.join();
    if (gen % 10 == 5) {
      const pid_t pid = fork();
      if (pid == 0) {
        std::thread([] { churn(1); }).join();
        std::vector<char*> v;
        for (int i = 0; i < 10000; ++i) v.push_back(new char[static_cast<std::size_t>(i % 600 + 1)]);
        for (char* c : v) delete[] c;
        _exit(0);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "forked child failed (status %d)\n", status);
        return 1;
      }
    }
  }
  void* a = nullptr;
  if (posix_memalign(&a, 4096, 100) != 0 || reinterpret_cast<std::uintptr_t>(a) % 4096 != 0) return 1;
  std::free(a);
  void* r = std::realloc(nullptr, 10);
  r = std::realloc(r, 100000);
  std::free(r);
  std::puts("shim smoke: ok");
  return 0;
}
