// Helpers shared by the allocator tests.
#pragma once

#include "learner_api.hpp"
#include "spool/alloc/options.hpp"

namespace spool::alloc::test {

// Sets an option for the lifetime of the object and restores the previous
// value afterwards, so that every test binary passes when run whole.
class ScopedOption {
 public:
  ScopedOption(Option o, long v) : o_(o), old_(option(o)) { set_option(o, v); }
  ~ScopedOption() { set_option(o_, old_); }
  ScopedOption(const ScopedOption&) = delete;
  ScopedOption& operator=(const ScopedOption&) = delete;

 private:
  Option o_;
  long old_;
};

// While alive, no learner thread runs and nothing is learned or published
// but what the test feeds through detail::learner_drain(); afterwards the
// learner is reset and may start again (every test gets a learner that can).
class LearnerHeld {
 public:
  LearnerHeld() {
    detail::learner_allow_start(false);
    detail::learner_reset();
  }
  ~LearnerHeld() {
    detail::learner_reset();
    detail::learner_allow_start(true);
  }
  LearnerHeld(const LearnerHeld&) = delete;
  LearnerHeld& operator=(const LearnerHeld&) = delete;
};

}  // namespace spool::alloc::test
