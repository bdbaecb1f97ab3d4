// Producer/consumer handoff, the pattern of mimalloc-bench's "xmalloc-test":
// producer threads allocate batches of 64-byte objects and queue them;
// consumer threads take whole batches and free every object, so every block
// is freed by a thread that did not allocate it. threads/2 producers and as
// many consumers (at least one of each). One operation = one free.
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {
namespace {

constexpr std::size_t kObject = 64;
constexpr std::size_t kBatch = 1024;
constexpr std::size_t kMaxQueued = 8;  // full batches waiting per producer

struct Batch {
  void* obj[kBatch];
};

// Bounded blocking queue of batch pointers (its deque is the only allocation
// besides the objects; it reaches its size in the first round and stays).
class BatchQueue {
 public:
  explicit BatchQueue(std::size_t cap) : cap_(cap) {}
  void push(Batch* b) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return q_.size() < cap_; });
    q_.push_back(b);
    not_empty_.notify_one();
  }
  Batch* pop() {  // nullptr once closed and drained
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return nullptr;
    Batch* b = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::size_t cap_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Batch*> q_;
  bool closed_ = false;
};

}  // namespace

Result xmalloc(const Params& p) {
  const int pairs = p.threads / 2 < 1 ? 1 : p.threads / 2;
  const std::uint64_t per_producer = scaled(16'000, p.scale) / static_cast<std::uint64_t>(pairs);
  const std::size_t nbatches = (kMaxQueued + 2) * static_cast<std::size_t>(pairs);
  std::vector<Batch> storage(nbatches);
  BatchQueue full(kMaxQueued * static_cast<std::size_t>(pairs));
  BatchQueue spare(nbatches);
  for (auto& b : storage) spare.push(&b);

  const auto t0 = Clock::now();
  std::vector<std::thread> producers;
  std::vector<std::thread> consumers;
  for (int c = 0; c < pairs; ++c) {
    consumers.emplace_back([&] {
      while (Batch* b = full.pop()) {
        for (void* o : b->obj) std::free(o);
        spare.push(b);
      }
    });
  }
  for (int t = 0; t < pairs; ++t) {
    producers.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        Batch* b = spare.pop();
        for (auto& o : b->obj) o = touch(std::malloc(kObject), kObject);
        full.push(b);
      }
    });
  }
  for (auto& t : producers) t.join();
  full.close();
  for (auto& t : consumers) t.join();
  Result r;
  r.seconds = seconds_since(t0);
  r.ops = static_cast<double>(per_producer * kBatch) * pairs;
  return r;
}

}  // namespace spool::bench
