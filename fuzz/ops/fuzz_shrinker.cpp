// SPDX-License-Identifier: MIT
#include "fuzz_shrinker.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

namespace gfplab::fuzz {

fuzz_shrinker::fuzz_shrinker(shrinker_registry &r, std::string name, unsigned long objects,
                             lock_class *lock, gfp_t when, liveness_reporter on_liveness)
    : registry_(r), name_(std::move(name)), objects_(objects), lock_(lock), when_(when) {
    shrinker_ = registry_.alloc(0, name_);
    if (!on_liveness)
        on_liveness = [](const std::string &what, const std::string &message) {
            std::fprintf(stderr, "I15 %s: %s\n", what.c_str(), message.c_str());
            std::abort();
        };
    shrinker_liveness::arm(shrinker_, name_, std::move(on_liveness));
    shrinker_->count_objects = count;
    shrinker_->scan_objects = scan;
    shrinker_->private_data = this;
    if (lock_)
        registry_.declare_lock(shrinker_, *lock_, when_);
    registry_.register_shrinker(shrinker_);
}

fuzz_shrinker::~fuzz_shrinker() {
    registry_.free(shrinker_);
    shrinker_liveness::retire(shrinker_);
}

unsigned long fuzz_shrinker::count(struct shrinker *s, struct shrink_control *) {
    const shrinker_call call(s, "count_objects");
    if (!call)
        return 0;
    auto *self = static_cast<fuzz_shrinker *>(s->private_data);
    return self->objects_ ? self->objects_ : SHRINK_EMPTY;
}

unsigned long fuzz_shrinker::scan(struct shrinker *s, struct shrink_control *sc) {
    const shrinker_call call(s, "scan_objects");
    if (!call)
        return SHRINK_STOP;
    auto *self = static_cast<fuzz_shrinker *>(s->private_data);
    const unsigned pflags = current_task_flags();
    const gfp_t allowed = gfp_context_for(pflags, sc->gfp_mask);
    if (allowed != sc->gfp_mask && self->error_.empty())
        self->error_ = fmt::format("shrinker {} saw gfp_mask {} inside scope {}: {} is forbidden",
                                   self->name_, gfp_describe(sc->gfp_mask), task_flags_name(pflags),
                                   gfp_describe(sc->gfp_mask & ~allowed));
    const bool takes_lock = self->lock_ && (sc->gfp_mask & self->when_) == self->when_;
    if (takes_lock) {
        if (current_holds(*self->lock_))
            return SHRINK_STOP; // the trylock fails: this very thread holds it
        lock_acquire_try(*self->lock_);
    }
    const unsigned long n = std::min(sc->nr_to_scan, self->objects_);
    self->objects_ -= n;
    sc->nr_scanned = n;
    if (takes_lock)
        lock_release(*self->lock_);
    // Emptied since count_objects: scanning nothing without saying so would make reclaim
    // call again for ever (the registry reports that, I15).
    return n ? n : SHRINK_STOP;
}

} // namespace gfplab::fuzz
