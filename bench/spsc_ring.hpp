// SPDX-License-Identifier: MIT
//
// A bounded single-producer single-consumer ring: how BM_remote_free hands blocks from the
// thread that allocates them to the thread that frees them. No lock in the hot loop, so
// what the benchmark sees is the allocators' cost of a remote free, not ours of handing
// over. Each side keeps a private copy of the other's index and re-reads the shared one
// only when the copy says full (or empty), so the two cache lines bounce once per lap at
// worst, not once per block.
#pragma once

#include <atomic>
#include <cstddef>
#include <new>
#include <thread>

namespace bench {

template <typename T, std::size_t N>
class spsc_ring {
    static_assert(N && (N & (N - 1)) == 0, "N must be a power of two");
    static constexpr std::size_t line = 64; // x86-64; hardware_destructive_interference_size
                                            // warns on gcc 12 as ABI-unstable

  public:
    // Producer only. Spins (yielding: 8 threads may share 2 cores) while the ring is full.
    void push(T v) noexcept {
        const std::size_t h = head_.load(std::memory_order_relaxed);
        while (h - tail_seen_ == N) {
            tail_seen_ = tail_.load(std::memory_order_acquire);
            if (h - tail_seen_ == N)
                std::this_thread::yield();
        }
        slots_[h & (N - 1)] = v;
        head_.store(h + 1, std::memory_order_release);
    }

    // Consumer only. Spins (yielding) while the ring is empty.
    T pop() noexcept {
        const std::size_t t = tail_.load(std::memory_order_relaxed);
        while (t == head_seen_) {
            head_seen_ = head_.load(std::memory_order_acquire);
            if (t == head_seen_)
                std::this_thread::yield();
        }
        T v = slots_[t & (N - 1)];
        tail_.store(t + 1, std::memory_order_release);
        return v;
    }

    bool empty() const noexcept {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }

  private:
    alignas(line) std::atomic<std::size_t> head_{0}; // written by the producer
    std::size_t tail_seen_ = 0;                      // the producer's copy of tail_
    alignas(line) std::atomic<std::size_t> tail_{0}; // written by the consumer
    std::size_t head_seen_ = 0;                      // the consumer's copy of head_
    alignas(line) T slots_[N];
};

} // namespace bench
