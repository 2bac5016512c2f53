// SPDX-License-Identifier: MIT
//
// The zones' page-frame backends as the per-CPU lists' page_source: refill and drain go to
// the backend of the zone in hand (frames/backend.hpp), which batches them its own way.
#include "../frames/backend.hpp"
#include "pcp.hpp"

namespace gfplab::pcp {
namespace {

class frames_source final : public page_source {
  public:
    unsigned long rmqueue_bulk(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                               unsigned cpu, unsigned long count, std::uint32_t *head,
                               std::uint32_t *tail) override {
        return z.frames->rmqueue_bulk(order, mt, alloc_flags, cpu, count, head, tail);
    }

    void free_pcppages_bulk(zone &z, std::uint32_t head, unsigned long n, unsigned cpu) override {
        z.frames->free_bulk(head, n, cpu);
    }
};

} // namespace

page_source &zone_frames_source() noexcept {
    static frames_source source;
    return source;
}

} // namespace gfplab::pcp
