// Releasing memory while a persistent kernel may be resident
// (cu_deferred_free.hpp): releases run at once when no kernel is resident,
// are kept while one is, run when it has stopped (drain or the drainer
// thread), and a launch waits for releases in progress.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "cu_deferred_free.hpp"

namespace {

using spool::cuda::DeferredFrees;

TEST(CudaDeferredFrees, ReleaseRunsAtOnceWhenNoKernelIsResident) {
  DeferredFrees f;
  int freed = 0;
  f.release([&] { ++freed; });
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(f.deferred(), 0u);
  EXPECT_FALSE(f.resident());
}

TEST(CudaDeferredFrees, ReleasesWhileResidentWaitForTheKernelToStop) {
  DeferredFrees f;
  std::vector<int> freed;
  f.launching();
  EXPECT_TRUE(f.resident());
  f.release([&] { freed.push_back(1); });
  f.release([&] { freed.push_back(2); });
  EXPECT_TRUE(freed.empty());
  EXPECT_EQ(f.deferred(), 2u);
  EXPECT_EQ(f.drain(), 0u);  // still resident: nothing runs
  f.stopped();
  EXPECT_EQ(f.drain(), 2u);
  EXPECT_EQ(freed, (std::vector<int>{1, 2}));
  EXPECT_EQ(f.drain(), 0u);
}

TEST(CudaDeferredFrees, AReleaseAfterTheStopAlsoRunsTheDeferredOnes) {
  DeferredFrees f;
  std::vector<int> freed;
  f.launching();
  f.release([&] { freed.push_back(1); });
  f.stopped();
  f.release([&] { freed.push_back(2); });
  EXPECT_EQ(freed, (std::vector<int>{1, 2}));
  EXPECT_EQ(f.deferred(), 0u);
}

TEST(CudaDeferredFrees, DrainerThreadRunsDeferredReleasesOnceTheKernelStopped) {
  DeferredFrees f;
  f.start_drainer();
  std::promise<std::thread::id> ran;
  f.launching();
  f.release([&] { ran.set_value(std::this_thread::get_id()); });
  auto fut = ran.get_future();
  EXPECT_EQ(f.deferred(), 1u);
  f.stopped();  // wakes the drainer
  const std::thread::id by = fut.get();
  EXPECT_NE(by, std::this_thread::get_id());
  f.stop_drainer();
  EXPECT_EQ(f.deferred(), 0u);
}

TEST(CudaDeferredFrees, DrainReturnsOnlyOnceTheDrainersReleasesAreOver) {
  DeferredFrees f;
  f.start_drainer();
  std::promise<void> entered, leave;
  std::atomic<bool> finished{false};
  f.launching();
  f.release([&] {
    entered.set_value();
    leave.get_future().wait();
    finished = true;
  });
  f.stopped();                  // the drainer takes the release and blocks in it
  entered.get_future().wait();
  std::promise<bool> seen;
  std::thread parker([&] {
    f.drain();                  // e.g. park_persistent(): the memory is free when it returns
    seen.set_value(finished.load());
  });
  auto s = seen.get_future();
  EXPECT_EQ(s.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  leave.set_value();
  EXPECT_TRUE(s.get());
  parker.join();
}

TEST(CudaDeferredFrees, LaunchWaitsForAReleaseInProgress) {
  DeferredFrees f;
  std::promise<void> entered, leave;
  std::atomic<bool> finished{false};
  std::thread releaser([&] {
    f.release([&] {
      entered.set_value();
      leave.get_future().wait();
      finished = true;
    });
  });
  entered.get_future().wait();  // the release (think: cudaFree) is running
  std::promise<void> launched;
  std::thread launcher([&] {
    f.launching();
    EXPECT_TRUE(finished.load()) << "launched while a release could still wait for the device";
    launched.set_value();
  });
  auto l = launched.get_future();
  EXPECT_EQ(l.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  leave.set_value();
  l.wait();
  releaser.join();
  launcher.join();
  EXPECT_TRUE(f.resident());
}

TEST(CudaDeferredFrees, ARunningReleaseMayReleaseMoreWithoutDeadlock) {
  DeferredFrees f;
  int inner = 0;
  f.release([&] { f.release([&] { ++inner; }); });  // e.g. a deleter dropping another buffer
  EXPECT_EQ(inner, 1);
  f.launching();
  f.release([&] { f.release([&] { ++inner; }); });
  f.stopped();
  f.drain();
  EXPECT_EQ(inner, 2);
}

TEST(CudaDeferredFrees, AThrowingReleaseDoesNotStopTheOthers) {
  DeferredFrees f;
  int freed = 0;
  f.launching();
  f.release([] { throw 1; });
  f.release([&] { ++freed; });
  f.stopped();
  EXPECT_EQ(f.drain(), 2u);
  EXPECT_EQ(freed, 1);
}

}  // namespace
