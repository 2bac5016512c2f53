// SPDX-License-Identifier: MIT
//
// gfp_dict: prints, one libFuzzer dictionary entry a line, every name some kernel's layout
// knows (single flags, composites, the %pGg table, in every config), sorted. The test
// fuzz-dict-covers-names checks that fuzz_gfp_format.dict holds each of them, so a name
// added to the era data cannot be missing from the dictionary unnoticed; regenerate with
//   build-gcc/fuzz/gfp_dict | grep -vxFf fuzz/fuzz_gfp_format.dict >> fuzz/fuzz_gfp_format.dict
#include <gfplab/gfp_layout.hpp>

#include <cstdio>
#include <set>
#include <string>

int main() {
    std::set<std::string> names;
    for (int major = 3; major <= 6; ++major) {
        for (int minor = 0; minor <= 20; ++minor) {
            const gfplab::kernel_version v{major, minor};
            if (!v.released())
                continue;
            for (int bits = 0; bits < 8; ++bits) {
                const gfplab::kconfig cfg{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
                const gfplab::gfp_layout *layout = gfplab::find_gfp_layout(v, cfg);
                if (layout == nullptr)
                    continue;
                for (const auto &list :
                     {layout->flags(), layout->composites(), layout->print_table()})
                    for (const auto &entry : list)
                        names.emplace(entry.name);
            }
        }
    }
    for (const auto &name : names)
        std::printf("\"%s\"\n", name.c_str());
    return 0;
}
