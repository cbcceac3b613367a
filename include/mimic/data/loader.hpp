#pragma once
// An endless stream of batches for training: each epoch is a seeded permutation of the samples,
// cut into batches (the last partial batch dropped, as robomimic's DataLoader does). Batch g of the
// stream depends only on the seed and g, never on the number of worker threads. Workers fill a
// ring of batches ahead of the consumer; next() hands out a reference that stays valid until the
// following call. An exception in a worker is rethrown by next().
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "mimic/data/sequence_dataset.hpp"

namespace mimic::data {

class Loader {
 public:
  Loader(const SequenceDataset& dataset, int64_t batch_size, uint64_t seed, bool shuffle = true,
         int num_workers = 1, bool drop_last = true)
      : ds_(dataset),
        batch_(batch_size),
        seed_(seed),
        shuffle_(shuffle),
        workers_(std::max(1, num_workers)) {
    if (batch_size < 1)
      throw ValueError("batch_size must be >= 1, got " + std::to_string(batch_size));
    const int64_t n = ds_.size();
    // Fewer samples than a batch: every batch cycles through the permutation.
    per_epoch_ = drop_last ? std::max<int64_t>(1, n / batch_) : (n + batch_ - 1) / batch_;
    slots_.resize(size_t(workers_ + 2));
    for (Slot& s : slots_) s.batch = ds_.make_batch_like(batch_);
  }
  ~Loader() { stop(); }
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const { return per_epoch_; }
  int64_t batch_size() const { return batch_; }
  // Batches handed out so far (saved with a checkpoint, restored by seek()).
  int64_t batches_drawn() const { return consumed_; }
  // Continue the stream at batch g (only before the first next()).
  void seek(int64_t g) {
    if (started_) throw ValueError("Loader::seek after the first next()");
    consumed_ = g;
  }

  // The sample indices of batch g of the stream.
  std::vector<int64_t> indices_of(int64_t g) const {
    const int64_t epoch = g / per_epoch_, k = g % per_epoch_, n = ds_.size();
    const std::vector<int64_t> perm = permutation(epoch);
    std::vector<int64_t> idx(static_cast<size_t>(batch_));
    for (int64_t i = 0; i < batch_; ++i) idx[size_t(i)] = perm[size_t((k * batch_ + i) % n)];
    return idx;
  }

  const Batch& next() {
    if (!started_) start();
    std::unique_lock<std::mutex> lock(m_);
    if (held_ >= 0) {  // the previous batch goes back to the workers
      slots_[size_t(held_)].state = Slot::kFree;
      held_ = -1;
      cv_.notify_all();
    }
    const int64_t g = consumed_;
    Slot& s = slots_[size_t(g % int64_t(slots_.size()))];
    cv_.wait(lock, [&] { return (s.state == Slot::kReady && s.g == g) || error_; });
    if (error_) std::rethrow_exception(error_);
    held_ = int(g % int64_t(slots_.size()));
    ++consumed_;
    return s.batch;
  }

 private:
  struct Slot {
    enum State { kFree, kFilling, kReady } state = kFree;
    int64_t g = -1;
    Batch batch;
  };

  std::vector<int64_t> permutation(int64_t epoch) const {
    std::vector<int64_t> p(size_t(ds_.size()));
    std::iota(p.begin(), p.end(), int64_t(0));
    if (shuffle_) {
      std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + uint64_t(epoch) * 0xD1B54A32D192ED03ull +
                          1);
      for (size_t i = p.size(); i > 1; --i) {  // Fisher-Yates with a portable draw
        const size_t j = size_t(rng() % i);
        std::swap(p[i - 1], p[j]);
      }
    }
    return p;
  }

  void start() {
    started_ = true;
    next_fill_ = consumed_;
    for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { work(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  void work() {
    std::vector<int64_t> idx;
    for (;;) {
      int64_t g;
      Slot* s;
      {
        std::unique_lock<std::mutex> lock(m_);
        // The slot for the next batch must be free (not held or still waiting to be consumed).
        cv_.wait(lock, [&] {
          return stopping_ ||
                 slots_[size_t(next_fill_ % int64_t(slots_.size()))].state == Slot::kFree;
        });
        if (stopping_) return;
        g = next_fill_++;
        s = &slots_[size_t(g % int64_t(slots_.size()))];
        s->state = Slot::kFilling;
        s->g = g;
      }
      try {
        idx = indices_of(g);
        ds_.fill(idx.data(), batch_, s->batch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m_);
        if (!error_) error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      std::lock_guard<std::mutex> lock(m_);
      s->state = Slot::kReady;
      cv_.notify_all();
    }
  }

  const SequenceDataset& ds_;
  int64_t batch_;
  uint64_t seed_;
  bool shuffle_;
  int workers_;
  int64_t per_epoch_ = 1;
  std::vector<Slot> slots_;
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable cv_;
  std::exception_ptr error_;
  int64_t consumed_ = 0, next_fill_ = 0;
  int held_ = -1;
  bool started_ = false, stopping_ = false;
};

}  // namespace mimic::data
