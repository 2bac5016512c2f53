// SPDX-License-Identifier: MIT
//
// Workqueues for kernel code (linux/workqueue.h): one worker thread per workqueue, started
// on first use, a timer thread for delayed work. All state is under one lock: kernel test
// modules queue little work, and one lock makes flush and cancel plainly correct.
#include <gfplab/linux/workqueue.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr unsigned long work_pending_bit = 1;

// Leaked on purpose, like everything here: worker threads outlive static destruction.
std::mutex &big_lock() {
    static auto *m = new std::mutex;
    return *m;
}
std::condition_variable &done_cv() { // a work item finished, or a queue changed
    static auto *cv = new std::condition_variable;
    return *cv;
}
thread_local bool is_worker = false;

} // namespace

struct workqueue_struct {
    explicit workqueue_struct(std::string n, unsigned f) : name(std::move(n)), flags(f) {}
    std::string name;
    unsigned flags;
    std::deque<work_struct *> queue;
    work_struct *running = nullptr;
    std::condition_variable cv;
    std::thread worker;
    bool started = false, stopping = false;

    // Under big_lock().
    void start() {
        if (started)
            return;
        started = true;
        worker = std::thread([this] { run(); });
    }

    void run() {
        is_worker = true;
        std::unique_lock<std::mutex> g(big_lock());
        for (;;) {
            cv.wait(g, [this] { return stopping || !queue.empty(); });
            if (queue.empty())
                return; // stopping, and drained
            work_struct *w = queue.front();
            queue.pop_front();
            w->data &= ~work_pending_bit; // may be queued again while it runs
            running = w;
            g.unlock();
            w->func(w);
            g.lock();
            running = nullptr;
            done_cv().notify_all();
        }
    }
};

namespace {

std::unordered_map<const work_struct *, workqueue_struct *> &where() { // last queued on
    static auto *m = new std::unordered_map<const work_struct *, workqueue_struct *>;
    return *m;
}

// Delayed work waiting for its time, and the thread that moves it to its workqueue.
std::vector<delayed_work *> &timers() {
    static auto *v = new std::vector<delayed_work *>;
    return *v;
}
std::condition_variable &timer_cv() {
    static auto *cv = new std::condition_variable;
    return *cv;
}

unsigned long now_jiffies() {
    using namespace std::chrono;
    static const auto start = steady_clock::now();
    return static_cast<unsigned long>(
        duration_cast<milliseconds>(steady_clock::now() - start).count());
}

bool enqueue_locked(workqueue_struct *wq, work_struct *w) {
    wq->start();
    wq->queue.push_back(w);
    where()[w] = wq;
    wq->cv.notify_one();
    return true;
}

void timer_loop() {
    std::unique_lock<std::mutex> g(big_lock());
    for (;;) {
        auto &t = timers();
        const unsigned long now = now_jiffies();
        unsigned long next = ~0ul;
        for (auto it = t.begin(); it != t.end();) {
            if ((*it)->timer_due <= now) {
                enqueue_locked((*it)->wq, &(*it)->work);
                it = t.erase(it);
            } else {
                next = std::min(next, (*it)->timer_due);
                ++it;
            }
        }
        if (next == ~0ul)
            timer_cv().wait(g);
        else
            timer_cv().wait_for(g, std::chrono::milliseconds(next - now));
    }
}

void arm_locked(workqueue_struct *wq, delayed_work *dw, unsigned long delay) {
    static bool timer_started = false;
    if (!timer_started) {
        timer_started = true;
        std::thread(timer_loop).detach();
    }
    dw->wq = wq;
    dw->timer_due = now_jiffies() + delay;
    timers().push_back(dw);
    timer_cv().notify_one();
}

bool disarm_locked(delayed_work *dw) {
    auto &t = timers();
    auto it = std::find(t.begin(), t.end(), dw);
    if (it == t.end())
        return false;
    t.erase(it);
    return true;
}

// Takes w off its queue if it waits there.
bool unqueue_locked(work_struct *w) {
    auto it = where().find(w);
    if (it == where().end())
        return false;
    auto &q = it->second->queue;
    auto pos = std::find(q.begin(), q.end(), w);
    if (pos == q.end())
        return false;
    q.erase(pos);
    return true;
}

// Waits until w neither waits on its queue nor runs. Whether there was anything to wait for.
bool wait_idle_locked(std::unique_lock<std::mutex> &g, work_struct *w) {
    auto it = where().find(w);
    if (it == where().end())
        return false;
    workqueue_struct *wq = it->second;
    auto busy = [&] {
        return wq->running == w ||
               std::find(wq->queue.begin(), wq->queue.end(), w) != wq->queue.end();
    };
    const bool waited = busy();
    done_cv().wait(g, [&] { return !busy(); });
    return waited;
}

workqueue_struct *make_system(const char *name, unsigned flags) {
    return new workqueue_struct(name, flags);
}

} // namespace

extern "C" {

struct workqueue_struct *system_wq = make_system("events", 0);
struct workqueue_struct *system_unbound_wq = make_system("events_unbound", WQ_UNBOUND);
struct workqueue_struct *system_long_wq = make_system("events_long", 0);

struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...) {
    char name[64];
    std::va_list ap;
    va_start(ap, max_active); // the name's arguments follow max_active, as in 6.12
    std::vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return new workqueue_struct(name, flags);
}

void destroy_workqueue(struct workqueue_struct *wq) {
    {
        std::unique_lock<std::mutex> g(big_lock());
        wq->stopping = true; // the worker drains the queue first
        wq->cv.notify_one();
    }
    if (wq->worker.joinable())
        wq->worker.join();
    std::lock_guard<std::mutex> g(big_lock());
    for (auto it = where().begin(); it != where().end();)
        it = it->second == wq ? where().erase(it) : std::next(it);
    delete wq;
}

bool queue_work(struct workqueue_struct *wq, struct work_struct *work) {
    std::lock_guard<std::mutex> g(big_lock());
    if (work->data & work_pending_bit)
        return false;
    work->data |= work_pending_bit;
    return enqueue_locked(wq, work);
}

bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork,
                        unsigned long delay) {
    if (delay == 0)
        return queue_work(wq, &dwork->work);
    std::lock_guard<std::mutex> g(big_lock());
    if (dwork->work.data & work_pending_bit)
        return false;
    dwork->work.data |= work_pending_bit;
    arm_locked(wq, dwork, delay);
    return true;
}

bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork,
                      unsigned long delay) {
    std::lock_guard<std::mutex> g(big_lock());
    const bool was = disarm_locked(dwork) || unqueue_locked(&dwork->work);
    dwork->work.data |= work_pending_bit;
    if (delay == 0)
        enqueue_locked(wq, &dwork->work);
    else
        arm_locked(wq, dwork, delay);
    return was;
}

bool flush_work(struct work_struct *work) {
    std::unique_lock<std::mutex> g(big_lock());
    return wait_idle_locked(g, work);
}

bool flush_delayed_work(struct delayed_work *dwork) {
    std::unique_lock<std::mutex> g(big_lock());
    if (disarm_locked(dwork))
        enqueue_locked(dwork->wq, &dwork->work); // its time is now
    return wait_idle_locked(g, &dwork->work);
}

void flush_workqueue(struct workqueue_struct *wq) {
    std::unique_lock<std::mutex> g(big_lock());
    done_cv().wait(g, [wq] { return wq->queue.empty() && !wq->running; });
}

bool cancel_work_sync(struct work_struct *work) {
    std::unique_lock<std::mutex> g(big_lock());
    const bool was = unqueue_locked(work);
    work->data &= ~work_pending_bit;
    wait_idle_locked(g, work);
    return was;
}

bool cancel_delayed_work(struct delayed_work *dwork) {
    std::lock_guard<std::mutex> g(big_lock());
    const bool was = disarm_locked(dwork) || unqueue_locked(&dwork->work);
    if (was)
        dwork->work.data &= ~work_pending_bit;
    return was;
}

bool cancel_delayed_work_sync(struct delayed_work *dwork) {
    std::unique_lock<std::mutex> g(big_lock());
    const bool was = disarm_locked(dwork) || unqueue_locked(&dwork->work);
    dwork->work.data &= ~work_pending_bit;
    wait_idle_locked(g, &dwork->work);
    return was;
}

bool work_pending(const struct work_struct *work) {
    std::lock_guard<std::mutex> g(big_lock());
    return work->data & work_pending_bit;
}

bool current_is_workqueue_worker(void) {
    return is_worker;
}

unsigned long msecs_to_jiffies(unsigned int m) {
    return m; // HZ is 1000
}

unsigned int jiffies_to_msecs(unsigned long j) {
    return static_cast<unsigned int>(j);
}

unsigned long __gfplab_jiffies(void) {
    return now_jiffies();
}

} // extern "C"
