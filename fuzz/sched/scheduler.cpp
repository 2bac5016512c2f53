// SPDX-License-Identifier: MIT
//
// The deterministic scheduler (scheduler.hpp) and the two hooks gfplab/sync/det.hpp calls.
#include "scheduler.hpp"

#include <gfplab/sync/det.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace gfplab::fuzz {
namespace {

enum class state { runnable, blocked, done };

struct thread_slot {
    state st = state::runnable;
    const std::atomic<bool> *busy = nullptr; // blocked: the held mutex
    unsigned priority = 0;                   // PCT
};

std::uint64_t splitmix(std::uint64_t &s) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class scheduler {
  public:
    scheduler(const schedule_params &p, unsigned n) : p_(p), threads_(n) {
        std::uint64_t rng = p.seed;
        // PCT: priorities d .. d+n-1 in a random order, change points below them all.
        std::vector<unsigned> prio(n);
        for (unsigned i = 0; i < n; i++)
            prio[i] = p.pct_depth + i;
        for (unsigned i = n; i > 1; i--)
            std::swap(prio[i - 1], prio[splitmix(rng) % i]);
        for (unsigned i = 0; i < n; i++)
            threads_[i].priority = prio[i];
        for (unsigned k = 1; k < p.pct_depth; k++)
            change_points_.push_back(splitmix(rng) % std::max<std::size_t>(p.pct_horizon, 1));
        std::sort(change_points_.begin(), change_points_.end());
    }

    // The thread `me` is at a scheduling point (or blocked, or done): pick who runs next.
    // Called with lock_ held.
    void reschedule(std::unique_lock<std::mutex> &lk, unsigned me) {
        stats_.steps++;
        if (stats_.steps > p_.max_steps)
            die("livelock: no progress within the step bound");
        for (unsigned i = 0; i < threads_.size(); i++)
            if (threads_[i].st == state::blocked && !threads_[i].busy->load())
                threads_[i].st = state::runnable;
        unsigned next = choose(me);
        if (next != me) {
            stats_.switches++;
            running_ = next;
            cv_.notify_all();
        }
        if (threads_[me].st != state::done)
            cv_.wait(lk, [&] { return running_ == me; });
    }

    void start(unsigned me) {
        std::unique_lock lk(lock_);
        cv_.wait(lk, [&] { return running_ == me; });
    }
    void point(unsigned me) {
        std::unique_lock lk(lock_);
        reschedule(lk, me);
    }
    void block(unsigned me, const std::atomic<bool> *busy) {
        std::unique_lock lk(lock_);
        threads_[me].st = state::blocked;
        threads_[me].busy = busy;
        run_left_ = 0; // a blocked thread gives up the rest of its turn
        reschedule(lk, me);
    }
    void finish(unsigned me) {
        std::unique_lock lk(lock_);
        threads_[me].st = state::done;
        run_left_ = 0;
        if (std::all_of(threads_.begin(), threads_.end(),
                        [](const thread_slot &t) { return t.st == state::done; })) {
            all_done_ = true;
            cv_.notify_all();
            return;
        }
        reschedule(lk, me);
    }
    void first() {
        std::unique_lock lk(lock_);
        running_ = choose(unsigned(threads_.size()));
        cv_.notify_all();
    }
    void wait_all() {
        std::unique_lock lk(lock_);
        cv_.wait(lk, [&] { return all_done_; });
    }
    schedule_stats stats() const { return stats_; }

  private:
    bool runnable(unsigned i) const { return threads_[i].st == state::runnable; }

    unsigned choose(unsigned me) {
        std::vector<unsigned> r;
        for (unsigned i = 0; i < threads_.size(); i++)
            if (runnable(i))
                r.push_back(i);
        if (r.empty())
            die("deadlock: every live thread waits for a held mutex");
        if (me < threads_.size() && runnable(me) && run_left_ > 0) {
            run_left_--;
            return me;
        }
        if (pos_ < p_.nbytes) {
            const std::uint8_t b = p_.bytes[pos_++];
            stats_.bytes_used = pos_;
            run_left_ = b >> 2; // this pick plus up to 63 more points
            return r[(b & 3) % r.size()];
        }
        // PCT: the highest priority runnable thread, after applying due change points.
        while (cp_ < change_points_.size() && change_points_[cp_] <= stats_.steps) {
            if (me < threads_.size())
                threads_[me].priority = unsigned(cp_); // below every initial priority
            cp_++;
        }
        return *std::max_element(r.begin(), r.end(), [&](unsigned a, unsigned b) {
            return threads_[a].priority < threads_[b].priority;
        });
    }

    [[noreturn]] void die(const char *what) {
        static const char *names[] = {"runnable", "blocked", "done"};
        std::fprintf(stderr, "deterministic scheduler: %s after %zu steps (%zu switches)\n", what,
                     stats_.steps, stats_.switches);
        for (unsigned i = 0; i < threads_.size(); i++)
            std::fprintf(stderr, "  thread %u: %s%s\n", i, names[int(threads_[i].st)],
                         i == running_ ? " (running)" : "");
        std::abort();
    }

    const schedule_params &p_;
    std::vector<thread_slot> threads_;
    std::vector<std::size_t> change_points_;
    std::size_t cp_ = 0;
    std::size_t pos_ = 0;
    unsigned run_left_ = 0;
    unsigned running_ = ~0u;
    bool all_done_ = false;
    schedule_stats stats_;
    std::mutex lock_;
    std::condition_variable cv_;
};

scheduler *active = nullptr; // set for the duration of run_scheduled
thread_local int self = -1;  // this thread's index, -1 when not scheduled

} // namespace

schedule_stats run_scheduled(const schedule_params &p, std::vector<std::function<void()>> fns) {
    scheduler s(p, unsigned(fns.size()));
    active = &s;
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < fns.size(); i++)
        threads.emplace_back([&s, &fns, i] {
            self = int(i);
            s.start(i);
            fns[i]();
            self = -1;
            s.finish(i);
        });
    s.first();
    s.wait_all();
    for (auto &t : threads)
        t.join();
    active = nullptr;
    return s.stats();
}

} // namespace gfplab::fuzz

namespace gfplab::sync::det {

void schedule_point() noexcept {
    if (fuzz::self >= 0)
        fuzz::active->point(unsigned(fuzz::self));
}

bool block_while(const std::atomic<bool> *busy) noexcept {
    if (fuzz::self < 0)
        return false;
    fuzz::active->block(unsigned(fuzz::self), busy);
    return true;
}

} // namespace gfplab::sync::det
