// Several processes share one store file (WAL + busy timeout + BEGIN IMMEDIATE).
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

constexpr int kPerProcess = 200;

// Child body: waits for the start signal (EOF on `gate`), then adds kPerProcess observations.
[[noreturn]] void writer(const std::string& path, int gate, int id) {
  char c = 0;
  while (::read(gate, &c, 1) > 0) {
  }
  int rc = 0;
  try {
    auto s = Store::open(path);
    for (int i = 0; i < kPerProcess; ++i) {
      s->add_observation(lavapipe(), saxpy(), {}, "wg=64", 100.0 + id);
      if (i % 50 == 0) s->set_winner(lavapipe(), saxpy(), {}, "wg=" + std::to_string(id));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer %d: %s\n", id, e.what());
    rc = 1;
  }
  std::fflush(stderr);
  ::_exit(rc);
}

void run_writers(const std::string& path, int processes) {
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  std::vector<pid_t> children;
  for (int id = 0; id < processes; ++id) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(gate[1]);
      writer(path, gate[0], id);
    }
    children.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);  // start them all at once
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "writer " << pid << " did not exit normally";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "writer " << pid << " failed (see its stderr)";
  }
}

TEST(Concurrency, CountsEveryObservationWhenTwoProcessesWriteOneFile) {
  TempDir dir;
  const std::string path = dir.file("shared.sqlite");
  {
    auto s = Store::open(path);  // create it first: the writers only add
  }
  run_writers(path, 2);
  auto s = Store::open(path);
  const auto o = s->observation(lavapipe(), saxpy(), {}, "wg=64");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->count, 2u * kPerProcess);
  EXPECT_NEAR(o->mean_ns, 100.5, 1e-9);  // the interleaving changes the rounding
  EXPECT_NEAR(o->variance(), 0.25 * (2.0 * kPerProcess) / (2.0 * kPerProcess - 1), 1e-9);
  const auto w = s->winner(lavapipe(), saxpy(), {});
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(*w == "wg=0" || *w == "wg=1") << *w;
}

TEST(Concurrency, CreatesTheStoreOnceWhenProcessesOpenANewFileTogether) {
  TempDir dir;
  const std::string path = dir.file("fresh.sqlite");
  run_writers(path, 3);
  auto s = Store::open(path);
  EXPECT_EQ(s->schema_version(), Store::kSchemaVersion);
  EXPECT_EQ(s->observation(lavapipe(), saxpy(), {}, "wg=64")->count, 3u * kPerProcess);
}

}  // namespace
