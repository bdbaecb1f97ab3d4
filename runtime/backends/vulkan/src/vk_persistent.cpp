// The `persistent` mode: a resident shader polls a work queue in
// host-coherent memory. The host pushes items (backpressure when full), an
// engine thread reaps finished slots, completes batches, parks the shader
// when idle and runs the watchdog. Layout: vk_ring.hpp / wrap_persistent.glsl.
#include <algorithm>
#include <cstring>
#include <string>

#include "vk_check.hpp"
#include "vk_device.hpp"
#include "vk_ring.hpp"

namespace spool::vulkan {

using Clock = std::chrono::steady_clock;


std::uint32_t* VkDeviceImpl::slot(std::uint32_t seq) const {
  return ring_words_ + ring::kControlWords + std::size_t{seq & (capacity_ - 1)} * ring::kSlotWords;
}

std::uint32_t* VkDeviceImpl::control(std::uint32_t word) const { return ring_words_ + word; }

bool VkDeviceImpl::fence_signaled_locked() const {
  return vkGetFenceStatus(ctx_->device(), persistent_fence_.get()) == VK_SUCCESS;
}

void VkDeviceImpl::start_persistent_locked(const VkKernelImpl& k) {
  // The ring is empty here: every slot was reclaimed before the last park.
  std::memset(ring_words_, 0, ring::kControlBytes + std::size_t{capacity_} * ring::kSlotBytes);
  next_seq_ = reclaim_seq_ = 0;
  ring::store(control(ring::kCapacity), capacity_);
  ring::store(control(ring::kIdleLimit), popts_.idle_limit);
  last_done_ = 0;
  launch_shader_locked(k, false);
}

// Submits the persistent shader over the ring as it is (items already
// published stay queued: the shader resumes at `head`).
void VkDeviceImpl::launch_shader_locked(const VkKernelImpl& k, bool parking) {
  VkDevice d = ctx_->device();
  ring::store(control(ring::kShutdown), 0);
  ring::store(control(ring::kPark), parking ? 1 : 0);
  last_progress_ = Clock::now();
  VkFence f = persistent_fence_.get();
  SPOOL_VK(vkResetFences(d, 1, &f));
  VkCommandBuffer cb = persistent_cb_;
  SPOOL_VK(vkResetCommandBuffer(cb, 0));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  SPOOL_VK(vkBeginCommandBuffer(cb, &bi));
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       0, 1, &mb, 0, nullptr, 0, nullptr);
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.persistent_pipeline());
  const std::uint64_t addr = ring_->device_address();
  const std::uint64_t push[2] = {addr, addr};
  vkCmdPushConstants(cb, k.persistent_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, push);
  vkCmdDispatch(cb, groups_, 1, 1);
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb,
                       0, nullptr, 0, nullptr);
  SPOOL_VK(vkEndCommandBuffer(cb));
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  ctx_->submit(si, f);
  resident_ = &k;
}

// The shader exited by itself (park flag or idle limit) while items are
// queued: every queued item is still unclaimed, so run the shader again.
bool VkDeviceImpl::relaunch_if_exited_locked(bool parking) {
  if (resident_ == nullptr || !fence_signaled_locked()) return false;
  reap_locked();
  if (reclaim_seq_ == next_seq_) {
    resident_ = nullptr;
    return true;
  }
  launch_shader_locked(*resident_, parking);
  return true;
}

// Asks the shader to exit once the queue is empty and waits for it. The
// mutex is released while waiting, so the engine keeps reaping and its
// watchdog still applies: a stuck queue is recovered, not waited on forever.
void VkDeviceImpl::park_locked(std::unique_lock<std::mutex>& lk) {
  if (resident_ == nullptr) return;
  ring::store(control(ring::kPark), 1);
  engine_cv_.notify_all();
  while (resident_ != nullptr) {
    relaunch_if_exited_locked(true);
    if (resident_ == nullptr) break;
    space_cv_.wait_for(lk, std::chrono::microseconds(200));
  }
}

void VkDeviceImpl::reap_locked() {
  bool progressed = false;
  while (reclaim_seq_ != next_seq_) {
    std::uint32_t* s = slot(reclaim_seq_);
    if (ring::load(s + ring::kStatus) != ring::kDone_) break;
    Owner& o = owners_[reclaim_seq_ & (capacity_ - 1)];
    Tracker* t = o.tracker;
    ++t->result.items_run;
    ++t->finished;
    o.tracker = nullptr;
    ring::store(s + ring::kStatus, ring::kEmpty);
    ++reclaim_seq_;
    progressed = true;
    if (t->finished == t->items.size()) {
      t->result.wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - t->start).count();
      for (auto it = trackers_.begin(); it != trackers_.end(); ++it) {
        if (it->get() == t) {
          ready_.emplace_back(std::move(t->done), std::move(t->result));
          trackers_.erase(it);
          break;
        }
      }
    }
  }
  const std::uint32_t done = ring::load(control(ring::kDone));
  if (progressed || done != last_done_) {
    last_done_ = done;
    last_progress_ = Clock::now();
    space_cv_.notify_all();
  }
}

void VkDeviceImpl::push_persistent(const VkKernelImpl& k, const backend::ExecRequest& req,
                                   backend::Completion done) {
  std::unique_lock lk(mu_);
  if (hung_) {
    throw Error(Errc::device_lost, "the device's persistent kernel is hung; no work can be queued",
                "execute", {}, __FILE__, __LINE__);
  }
  auto owned = std::make_unique<Tracker>();
  Tracker* t = owned.get();
  t->kernel = &k;
  t->items.assign(req.items.begin(), req.items.end());
  t->done = std::move(done);
  t->start = Clock::now();
  t->result.was_resident = resident_ == &k;
  trackers_.push_back(std::move(owned));

  const std::uint32_t stride_words = (k.desc().arg_block_size + 3) / 4;
  std::uint32_t* tail_word = control(ring::kTail);
  for (std::uint32_t pos = 0; pos < t->items.size(); ++pos) {
    if (resident_ != &k) {
      if (resident_ != nullptr) park_locked(lk);
      if (hung_) break;  // recovery failed every remaining item of this tracker
      start_persistent_locked(k);
    }
    // Backpressure: wait (never drop) until the slot is free again.
    while (next_seq_ - reclaim_seq_ >= capacity_) {
      engine_cv_.notify_all();
      space_cv_.wait_for(lk, std::chrono::microseconds(100));
      reap_locked();
    }
    if (resident_ != &k) {
      --pos;  // the watchdog or a park intervened: restart, then retry this item
      continue;
    }
    if (pos == 0 || (pos & 63) == 0) ring::store(control(ring::kPark), 0);
    const backend::PackedItem& it = t->items[pos];
    const std::uint32_t seq = next_seq_;
    std::uint32_t* s = slot(seq);
    s[ring::kSeq] = seq;
    s[ring::kGrid] = it.grid;
    s[ring::kFlags] = req.sequential ? ring::kFlagSequential : 0;
    s[ring::kItem] = it.index;
    std::memcpy(s + ring::kArgsWord, it.args, std::size_t{stride_words} * 4);
    owners_[seq & (capacity_ - 1)] = Owner{t, pos};
    ring::store(s + ring::kStatus, ring::kPublished);
    next_seq_ = seq + 1;
    ring::store(tail_word, next_seq_);
    ++t->pushed;
  }
  lk.unlock();
  engine_cv_.notify_all();
}

// The watchdog fired (or the shader exited with work outstanding): stop the
// shader, revoke unclaimed items, account for every outstanding item, re-run
// the revoked ones by launches, and reset the queue.
void VkDeviceImpl::recover_locked() {
  ring::store(control(ring::kShutdown), 1);
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    ring::cas(slot(seq) + ring::kStatus, ring::kPublished, ring::kRevoked);
  }
  const auto grace = std::chrono::milliseconds(std::max<std::uint32_t>(2 * popts_.watchdog_ms, 100));
  const auto deadline = Clock::now() + grace;
  bool stopped = fence_signaled_locked();
  while (!stopped && Clock::now() < deadline) {
    const VkFence f = persistent_fence_.get();
    const VkResult r = vkWaitForFences(ctx_->device(), 1, &f, VK_TRUE, 1'000'000);
    stopped = r == VK_SUCCESS;
  }

  // Revoked items grouped per tracker, to re-run by launches.
  std::vector<std::pair<Tracker*, std::vector<backend::PackedItem>>> rerun;
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    std::uint32_t* s = slot(seq);
    Owner& o = owners_[seq & (capacity_ - 1)];
    Tracker* t = o.tracker;
    if (t == nullptr) continue;
    const std::uint32_t st = ring::load(s + ring::kStatus);
    if (st == ring::kDone_) {
      ++t->result.items_run;
      ++t->finished;
    } else if (st == ring::kRevoked && stopped) {
      auto it = std::find_if(rerun.begin(), rerun.end(), [&](auto& p) { return p.first == t; });
      if (it == rerun.end()) {
        rerun.emplace_back(t, std::vector<backend::PackedItem>{});
        it = rerun.end() - 1;
      }
      it->second.push_back(t->items[o.pos]);
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
  if (!stopped) hung_ = true;
  resident_ = nullptr;
  for (auto& [t, items] : rerun) {
    try {
      const auto r = run_launches(*t->kernel, items, false);
      t->result.items_run += r.items_run;
      t->result.fallback_items += r.items_run;
      t->finished += r.items_run;
    } catch (const Error& e) {
      t->result.items_failed += static_cast<std::uint32_t>(items.size());
      t->finished += static_cast<std::uint32_t>(items.size());
      t->result.failure = std::string("fallback launches failed: ") + e.what();
    }
  }
  // Reset the queue; complete trackers that have every item accounted for.
  if (stopped) std::memset(ring_words_, 0, ring::kControlBytes + std::size_t{capacity_} * ring::kSlotBytes);
  next_seq_ = reclaim_seq_ = 0;
  for (auto it = trackers_.begin(); it != trackers_.end();) {
    Tracker* t = it->get();
    if (t->finished == t->pushed && t->pushed == t->items.size()) {
      // A shader that did not stop may still read this batch's buffers: keep
      // them alive (a copy of the completion shares ownership of the batch)
      // until the device really stops.
      if (!stopped) hung_keepalive_.push_back(t->done);
      t->result.wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - t->start).count();
      ready_.emplace_back(std::move(t->done), std::move(t->result));
      it = trackers_.erase(it);
    } else {
      ++it;
    }
  }
  last_progress_ = Clock::now();
  space_cv_.notify_all();
}

void VkDeviceImpl::park_persistent() {
  std::unique_lock lk(mu_);
  park_locked(lk);
  lk.unlock();
  engine_cv_.notify_all();
}

void VkDeviceImpl::engine_main() {
  std::unique_lock lk(mu_);
  auto idle_since = Clock::now();
  std::uint32_t backoff_us = 5, seen_done = 0;
  while (!stop_) {
    reap_locked();
    if (hung_ && fence_signaled_locked()) {  // the shader finally stopped
      hung_ = false;
      hung_keepalive_.clear();
    }
    const bool outstanding = reclaim_seq_ != next_seq_;
    if (outstanding) {
      idle_since = Clock::now();
      const auto stalled = Clock::now() - last_progress_;
      if (relaunch_if_exited_locked(false)) {
        // it had parked itself just as items arrived; running again
      } else if (stalled > std::chrono::milliseconds(popts_.watchdog_ms)) {
        recover_locked();
      }
    } else if (resident_ != nullptr &&
               Clock::now() - idle_since > std::chrono::microseconds(popts_.park_us)) {
      ring::store(control(ring::kPark), 1);
      relaunch_if_exited_locked(true);
    }
    if (!ready_.empty()) {
      auto ready = std::move(ready_);
      ready_.clear();
      lk.unlock();
      for (auto& [fn, res] : ready) fn(std::move(res));
      lk.lock();
      continue;
    }
    if (outstanding) {
      // Back off exponentially (5 us .. 100 us) while nothing completes:
      // spinning here would take the core a CPU device's shader runs on.
      // New pushes wake the engine at once through engine_cv_.
      const std::uint32_t done_now = ring::load(control(ring::kDone));
      backoff_us = done_now != seen_done ? 5u : std::min<std::uint32_t>(backoff_us * 2, 100u);
      seen_done = done_now;
      engine_cv_.wait_for(lk, std::chrono::microseconds(backoff_us));
    } else if (resident_ != nullptr) {
      engine_cv_.wait_for(lk, std::chrono::microseconds(popts_.park_us / 4 + 50));
    } else {
      engine_cv_.wait(lk, [&] { return stop_ || reclaim_seq_ != next_seq_ || !ready_.empty(); });
      idle_since = Clock::now();
    }
  }
}

}  // namespace spool::vulkan
