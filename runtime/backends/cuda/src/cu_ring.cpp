#include "cu_ring.hpp"

#include <algorithm>
#include <cstring>

#include "spool/error.hpp"

namespace spool::cuda {

using Clock = std::chrono::steady_clock;

RingBook::RingBook(std::uint32_t* words, std::uint32_t capacity)
    : words_(words), capacity_(capacity), owners_(capacity) {
  if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
    throw Error(Errc::invalid_argument, "queue capacity must be a power of two >= 2, got " +
                std::to_string(capacity), "RingBook", {}, __FILE__, __LINE__);
  }
}

std::size_t RingBook::bytes_for(std::uint32_t capacity) noexcept {
  return ring::kControlBytes + std::size_t{capacity} * ring::kSlotBytes;
}

std::uint32_t* RingBook::slot(std::uint32_t seq) const noexcept {
  return words_ + ring::kControlWords + std::size_t{seq & (capacity_ - 1)} * ring::kSlotWords;
}

void RingBook::reset(std::uint32_t idle_limit) {
  std::memset(words_, 0, bytes_for(capacity_));
  next_seq_ = reclaim_seq_ = 0;
  last_done_ = 0;
  ringops::store(control(ring::kCapacity), capacity_);
  ringops::store(control(ring::kIdleLimit), idle_limit);
}

RingTracker& RingBook::add_tracker(const void* kernel, std::span<const backend::PackedItem> items,
                                   backend::Completion done, bool was_resident) {
  auto t = std::make_unique<RingTracker>();
  t->kernel = kernel;
  t->items.assign(items.begin(), items.end());
  t->done = std::move(done);
  t->start = Clock::now();
  t->result.was_resident = was_resident;
  trackers_.push_back(std::move(t));
  RingTracker& ref = *trackers_.back();
  if (ref.items.empty()) complete_if_finished(&ref);
  return ref;
}

void RingBook::publish(RingTracker& t, std::uint32_t pos, bool sequential, std::uint32_t arg_bytes) {
  const backend::PackedItem& it = t.items.at(pos);
  const std::uint32_t seq = next_seq_;
  std::uint32_t* s = slot(seq);
  s[ring::kSeq] = seq;
  s[ring::kGrid] = it.grid;
  s[ring::kFlags] = sequential ? ring::kFlagSequential : 0u;
  s[ring::kItem] = it.index;
  const std::uint32_t n = std::min(arg_bytes, ring::kArgsBytes);
  if (n != 0 && it.args != nullptr) std::memcpy(s + ring::kArgsWord, it.args, n);
  owners_[seq & (capacity_ - 1)] = Owner{&t, pos};
  ringops::store(s + ring::kStatus, ring::kPublished);
  next_seq_ = seq + 1;
  ringops::store(control(ring::kTail), next_seq_);
  ++t.pushed;
}

void RingBook::complete_if_finished(RingTracker* t) {
  if (t->finished != t->items.size() || t->pushed != t->items.size()) return;
  t->result.wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - t->start).count();
  for (auto it = trackers_.begin(); it != trackers_.end(); ++it) {
    if (it->get() == t) {
      ready_.emplace_back(std::move(t->done), std::move(t->result));
      trackers_.erase(it);
      return;
    }
  }
}

bool RingBook::reap() {
  bool progressed = false;
  while (reclaim_seq_ != next_seq_) {
    std::uint32_t* s = slot(reclaim_seq_);
    if (ringops::load(s + ring::kStatus) != ring::kDoneState) break;
    Owner& o = owners_[reclaim_seq_ & (capacity_ - 1)];
    RingTracker* t = o.tracker;
    o.tracker = nullptr;
    ringops::store(s + ring::kStatus, ring::kEmpty);
    ++reclaim_seq_;
    progressed = true;
    if (t != nullptr) {
      ++t->result.items_run;
      ++t->finished;
      complete_if_finished(t);
    }
  }
  const std::uint32_t done = ringops::load(control(ring::kDone));
  if (done != last_done_) {
    last_done_ = done;
    progressed = true;
  }
  return progressed;
}

std::uint32_t RingBook::revoke_unclaimed() {
  std::uint32_t n = 0;
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    if (ringops::cas(slot(seq) + ring::kStatus, ring::kPublished, ring::kRevoked)) ++n;
  }
  return n;
}

std::vector<Rerun> RingBook::account_outstanding(bool stopped) {
  std::vector<Rerun> rerun;
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    Owner& o = owners_[seq & (capacity_ - 1)];
    RingTracker* t = o.tracker;
    if (t == nullptr) continue;
    const std::uint32_t st = ringops::load(slot(seq) + ring::kStatus);
    if (st == ring::kDoneState) {
      ++t->result.items_run;
      ++t->finished;
    } else if (st == ring::kRevoked && stopped) {
      auto it = std::find_if(rerun.begin(), rerun.end(), [&](const Rerun& r) { return r.tracker == t; });
      if (it == rerun.end()) {
        rerun.push_back(Rerun{t, {}});
        it = rerun.end() - 1;
      }
      it->items.push_back(t->items[o.pos]);
    } else {
      ++t->result.items_failed;
      ++t->finished;
      t->result.failure = st == ring::kClaimed
                              ? "item claimed by the persistent kernel did not finish: queue stalled"
                              : "device hung: the persistent kernel did not stop; item not run";
    }
    t->result.watchdog_fired = true;
    o.tracker = nullptr;
  }
  return rerun;
}

void RingBook::credit_rerun(Rerun& r, std::uint32_t run, const std::string* failure) {
  RingTracker* t = r.tracker;
  const auto n = static_cast<std::uint32_t>(r.items.size());
  run = std::min(run, n);
  t->result.items_run += run;
  t->result.fallback_items += run;
  t->result.items_failed += n - run;
  t->finished += n;
  if (failure != nullptr) t->result.failure = "fallback launches failed: " + *failure;
}

void RingBook::finish_recovery(bool stopped, std::uint32_t idle_limit) {
  if (stopped) {
    reclaim_seq_ = next_seq_;
    reset(idle_limit);
  } else {
    // The kernel may still write the ring: leave its memory alone, forget
    // the outstanding sequence numbers (every one was accounted for).
    reclaim_seq_ = next_seq_ = 0;
  }
  std::vector<RingTracker*> all;
  for (auto& t : trackers_) all.push_back(t.get());
  for (RingTracker* t : all) complete_if_finished(t);
}

void RingBook::fail_all(const std::string& why) {
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) owners_[seq & (capacity_ - 1)] = Owner{};
  reclaim_seq_ = next_seq_;
  for (auto& t : trackers_) {
    const auto n = static_cast<std::uint32_t>(t->items.size());
    if (t->finished < n) {
      t->result.items_failed += n - t->finished;
      t->finished = n;
      t->result.failure = why;
    }
    t->pushed = n;
  }
  std::vector<RingTracker*> all;
  for (auto& t : trackers_) all.push_back(t.get());
  for (RingTracker* t : all) complete_if_finished(t);
}

std::vector<std::pair<backend::Completion, backend::ExecResult>> RingBook::take_ready() {
  auto out = std::move(ready_);
  ready_.clear();
  return out;
}

}  // namespace spool::cuda
