// Contract D: the boxes only meet through their declared interfaces. Box 1
// (tls_cache.hpp) includes neither the refill engine nor the learner; Box 3
// (learner_api.hpp, event_ring.hpp, learner.cpp) includes neither Box 1 nor
// Box 2; the hot path takes no lock and does no atomic read-modify-write.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string slurp(const std::string& rel) {
  std::ifstream f(std::string(SPOOL_ALLOC_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(f.good()) << rel;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> includes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#include", 0) == 0) out.push_back(line);
  }
  return out;
}

void expect_no_include(const std::string& file, const std::vector<std::string>& banned) {
  for (const auto& inc : includes(slurp(file))) {
    for (const auto& b : banned) {
      EXPECT_EQ(inc.find(b), std::string::npos) << file << " must not include " << b;
    }
  }
}

TEST(Boundaries, BoxOneIncludesNoRefillOrLearnerCode) {
  expect_no_include("include/spool/alloc/detail/tls_cache.hpp",
                    {"refill", "learner", "event_ring", "backend", "stats", "options", "mutex"});
}

TEST(Boundaries, BoxThreeIncludesNothingOfBoxOneOrTwo) {
  for (const char* f : {"src/learner.cpp", "src/learner_api.hpp", "src/event_ring.hpp"}) {
    expect_no_include(f, {"tls_cache", "refill.hpp", "backend", "slow_path", "block.hpp",
                          "thread_state", "spinlock", "retention", "os.hpp"});
  }
}

TEST(Boundaries, HotPathHasNoLocksAndNoAtomicReadModifyWrite) {
  const std::string box1 = slurp("include/spool/alloc/detail/tls_cache.hpp");
  for (const char* banned : {"fetch_add", "fetch_sub", "exchange", "compare_exchange", ".lock(",
                             " lock(", "mutex", "learner", "push_event", "SpinLock"}) {
    EXPECT_EQ(box1.find(banned), std::string::npos) << banned;
  }
}

TEST(Boundaries, EventsAreCopiedFromTheStackNeverAllocated) {
  const std::string box2 = slurp("src/refill.cpp");
  EXPECT_NE(box2.find("RefillEvent ev{}"), std::string::npos);
  for (const char* banned : {"new RefillEvent", "malloc(", "allocate("}) {
    EXPECT_EQ(box2.find(banned), std::string::npos) << banned;
  }
}

}  // namespace
