// SPDX-License-Identifier: MIT
//
// fuzz_shrinker.hpp - a shrinker for the operation streams that checks what reclaim hands it.
//
// It caches plain counted objects (no pages: what it frees must not disturb the reference
// model's page accounting) and, on every scan, checks the reclaim context against the calling
// thread's scopes: a mask carrying a bit the open NOFS/NOIO scope forbids is an I8 failure
// seen from the callee, independently of the registry's own check. If it declares a lock it
// takes that lock (a trylock, as super_cache_scan does with s_umount) only when the mask
// allows, and answers SHRINK_STOP when this thread already holds it: the registry reports the
// hazard at the allocation (I9), the shrinker must not then deadlock on its own thread.
// Its callbacks check the liveness token first (shrinker_liveness.hpp): a call after
// shrinker_free() returned goes to `on_liveness` as I15 and touches nothing.
#pragma once

#include "shrinker_liveness.hpp"

#include <gfplab/linux/shrinker.h>
#include <gfplab/lockdep.hpp>
#include <gfplab/shrinker.hpp>

#include <string>

namespace gfplab::fuzz {

class fuzz_shrinker {
  public:
    // lock: the class scan takes when sc->gfp_mask has `when`; nullptr: none.
    // on_liveness: where an I15 liveness failure goes (it must outlive the registry); empty:
    // printed, then abort(), as the fuzz targets fail.
    fuzz_shrinker(shrinker_registry &r, std::string name, unsigned long objects, lock_class *lock,
                  gfp_t when = __GFP_FS, liveness_reporter on_liveness = {});
    ~fuzz_shrinker(); // shrinker_free(), then the token retires: no callback may run after it
    fuzz_shrinker(const fuzz_shrinker &) = delete;
    fuzz_shrinker &operator=(const fuzz_shrinker &) = delete;

    const std::string &name() const noexcept { return name_; }
    const lock_class *lock() const noexcept { return lock_; }
    gfp_t when() const noexcept { return when_; }
    // The registered struct (tests call its callbacks as a broken registry would).
    struct shrinker *raw() const noexcept {
        return shrinker_;
    }
    void add(unsigned long n) noexcept { objects_ += n; }
    // The first scan that saw a mask its thread's scopes forbid, or empty.
    const std::string &context_error() const noexcept { return error_; }

  private:
    static unsigned long count(struct shrinker *s, struct shrink_control *sc);
    static unsigned long scan(struct shrinker *s, struct shrink_control *sc);

    shrinker_registry &registry_;
    std::string name_;
    unsigned long objects_;
    lock_class *lock_;
    gfp_t when_;
    struct shrinker *shrinker_ = nullptr;
    std::string error_;
};

} // namespace gfplab::fuzz
