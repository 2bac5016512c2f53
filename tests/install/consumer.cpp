// SPDX-License-Identifier: MIT
// A C++ program outside the tree, built against an installed gfplab with pkg-config.
#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>

#include <cstdio>

int main() {
    std::string inside;
    {
        gfplab::noio_scope noio;
        inside = gfplab::gfp_describe(gfplab::current_gfp_context(GFP_KERNEL | __GFP_ZERO));
    }
    if (inside != "0xd00(GFP_NOIO|__GFP_ZERO)") {
        std::fprintf(stderr, "consumer.cpp: got %s\n", inside.c_str());
        return 1;
    }
    std::puts("consumer.cpp ok");
    return 0;
}
