// SPDX-License-Identifier: MIT
//
// shrinker_liveness.hpp - the harnesses' check of the last clause of the shrinker contract
// (I15): no callback runs once shrinker_free() has returned.
//
// The library holds this by construction (shrinker_free() drops the initial reference and
// waits for the calls in flight). When that breaks, the late call lands in the harness's
// callback with a struct shrinker, and a private_data, that are already freed: a release
// build may or may not crash on it, and a crash says nothing about why. So each harness
// shrinker carries a liveness token that lives outside everything shrinker_free() and the
// owner free: a process-wide table keyed by the shrinker's address (the address is only
// compared, never followed). The owner arms the token before shrinker_register() and retires
// it right after shrinker_free() returns; every callback opens a shrinker_call first and
// touches neither the shrinker nor its private data unless the token is live.
//
// Two ways the clause can break, both reported as I15 through the reporter given at arm():
//  - a call that starts after retire(): the callback returns SHRINK_STOP (or 0 for
//    count_objects) without looking at anything;
//  - shrinker_free() returning while a call is still inside the callback: retire() sees the
//    call in flight, reports it, and waits for it to leave, so the owner frees its private
//    data only after the last call is out.
// The in-flight count and the retired flag are a Dekker pair (both sequentially
// consistent): a call either sees the token retired or is seen in flight by retire().
//
// Limits: once malloc gives the address to a new shrinker the harness arms, a late call of
// the old one looks like a call of the new one (as KASAN loses a use-after-free once the
// memory is reused). Retired tokens are kept for the last max_retired retirements; a call
// with no token at all (never armed, or retired long ago) is reported through the most
// recent reporter armed, or printed and aborted when there is none.
//
// Harness code, not library code: it lives with the operation-stream executor, which
// gfplab-stress, gfplab-replay and the fuzz targets already link.
#pragma once

#include <gfplab/linux/shrinker.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace gfplab::fuzz {

// Where a broken liveness goes: what (a short title) and a message naming the shrinker.
// It is called from the thread that saw it (a reclaimer or the owner) and must outlive
// every call the registry can make to the shrinker.
using liveness_reporter = std::function<void(const std::string &what, const std::string &message)>;

struct liveness_token;

namespace shrinker_liveness {

inline constexpr std::size_t max_retired = 4096;

// Before shrinker_register(s): calls are allowed from now on. Replaces a token left at
// this address by a shrinker that was freed without retire().
void arm(const struct shrinker *s, std::string name, liveness_reporter report);
// Right after shrinker_free(s) returned (s is only a key here): a call still in flight is
// reported and waited for, a later call is reported. A pointer never armed is ignored.
void retire(const struct shrinker *s);

} // namespace shrinker_liveness

// Opened first thing in a count_objects or scan_objects callback:
//     shrinker_call call(s, "scan_objects");
//     if (!call)
//         return SHRINK_STOP;
// While it is open the shrinker counts as in flight.
class shrinker_call {
  public:
    shrinker_call(const struct shrinker *s, const char *callback);
    ~shrinker_call();
    shrinker_call(const shrinker_call &) = delete;
    shrinker_call &operator=(const shrinker_call &) = delete;

    // Whether the callback may go on: false after a late call, already reported.
    explicit operator bool() const noexcept { return token_ != nullptr; }

  private:
    std::shared_ptr<liveness_token> token_;
};

} // namespace gfplab::fuzz
