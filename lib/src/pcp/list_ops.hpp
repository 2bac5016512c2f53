// SPDX-License-Identifier: MIT
//
// The locked-mode per-CPU list operations: the per-CPU trylock and what runs under it (pop,
// push, steal of a list word, list_word.hpp). They are templates over the atomic object's
// type so that the library runs them on sync::atom (std::atomic, or the deterministic
// scheduler's atomics) and tests/relacy/ model-checks them on Relacy's atomics: one copy of
// the code carries the memory-order argument.
//
// The argument: the trylock's acquire exchange and release store order everything done
// under it, list words and the pages' lru.next links alike, so the list words themselves are
// accessed relaxed; a drainer of another CPU takes the same trylock. `links` maps a pfn to
// its page's lru.next (plain memory, owned by whoever holds the list).
#pragma once

#include "list_word.hpp"

#include <atomic>
#include <cstdint>

namespace gfplab::pcp {

// Named so that a model check can be shown to fail when one of them is weakened.
inline constexpr std::memory_order trylock_acquire = std::memory_order_acquire;
inline constexpr std::memory_order trylock_release = std::memory_order_release;

// The kernel's pcp_spin_trylock()/pcp_spin_unlock() as an RAII guard on a CPU block's
// `lock` word (held through the block, not the word: one address computation fewer).
template <class Block>
class cpu_trylock {
  public:
    explicit cpu_trylock(Block &b) noexcept
        : b_(b), held_(b.lock.exchange(1, trylock_acquire) == 0) {}
    ~cpu_trylock() {
        if (held_)
            b_.lock.store(0, trylock_release);
    }
    cpu_trylock(const cpu_trylock &) = delete;
    cpu_trylock &operator=(const cpu_trylock &) = delete;
    bool held() const noexcept { return held_; }

  private:
    Block &b_;
    bool held_;
};

// Under the list's trylock: the head of the list, or empty.
template <class ListWord, class Links>
outcome locked_pop(ListWord &list, Links &&links, std::uint32_t *pfn) {
    const std::uint64_t w = list.load(std::memory_order_relaxed);
    if (word_head(w) == pfn_nil)
        return outcome::empty;
    *pfn = word_head(w);
    list.store(make_word(links(*pfn), word_count(w) - 1), std::memory_order_relaxed);
    return outcome::ok;
}

// Under the list's trylock: puts the chain head..tail of n entries in front; *count gets
// the list's new length.
template <class ListWord, class Links>
void locked_push(ListWord &list, Links &&links, std::uint32_t head, std::uint32_t tail,
                 std::uint32_t n, std::uint32_t *count) {
    const std::uint64_t w = list.load(std::memory_order_relaxed);
    links(tail) = word_head(w);
    *count = word_count(w) + n;
    list.store(make_word(head, *count), std::memory_order_relaxed);
}

// Under the list's trylock: takes the whole list.
template <class ListWord>
std::uint64_t locked_steal(ListWord &list) {
    return list.exchange(empty_word, std::memory_order_relaxed);
}

} // namespace gfplab::pcp
