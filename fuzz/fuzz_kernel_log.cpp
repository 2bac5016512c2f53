// SPDX-License-Identifier: MIT
//
// fuzz_kernel_log: kernel logs through gfplab-decode --log's annotator (tools/decode/log.cpp
// and the line scanner log_scan.cpp). Input: the log's text. Properties: the scanner's
// sites lie inside their line, start at "0x" and hold the value of their hex; every mask
// read has a layout and a reason; taking every annotation out of the output gives the input
// back byte for byte (the annotator never changes what the kernel printed); nothing crashes.
#include "fuzz_target.hpp"

#include "decode.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail(const char *what, std::size_t line) {
    std::fprintf(stderr, "fuzz_kernel_log: %s (line %zu)\n", what, line + 1);
    std::abort();
}

std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

unsigned hex_digit(char c) {
    return c <= '9' ? unsigned(c - '0') : unsigned((c | 0x20) - 'a' + 10);
}

void check_site(const decode::log_mask &m, std::string_view line) {
    const decode::mask_site &s = m.site;
    if (!(s.begin < s.end && s.end <= line.size()))
        fail("site outside its line", m.line);
    if (line.substr(s.begin, 2) != "0x")
        fail("site does not start at 0x", m.line);
    std::size_t digits = s.begin + 2;
    unsigned long long value = 0;
    while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits])) != 0)
        value = value * 16 + hex_digit(line[digits++]);
    if (value != s.mask)
        fail("site's value is not its hex", m.line);
    if (m.layout != nullptr && m.why.empty())
        fail("a layout without a reason", m.line);
    if (m.source == decode::layout_source::automatic && m.layout != nullptr && !m.reason)
        fail("auto without its scores", m.line);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view log(reinterpret_cast<const char *>(data), size);
    const decode::target auto_target; // --kernel auto, the default config
    const decode::annotated_log out = decode::annotate(log, auto_target);

    // Rebuild the output from the input and the annotations alone.
    const std::vector<std::string_view> lines = split(log);
    std::string rebuilt;
    std::size_t next = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::size_t copied = 0;
        for (; next < out.masks.size() && out.masks[next].line == i; ++next) {
            const decode::log_mask &m = out.masks[next];
            check_site(m, lines[i]);
            if (m.site.end < copied)
                fail("sites out of order", i);
            rebuilt.append(lines[i].substr(copied, m.site.end - copied));
            copied = m.site.end;
            rebuilt += m.annotation;
        }
        rebuilt.append(lines[i].substr(copied));
        if (i + 1 < lines.size() || log.empty() || log.back() == '\n')
            rebuilt += '\n';
    }
    if (next != out.masks.size())
        fail("a mask on no line", out.masks[next].line);
    if (rebuilt != out.text)
        fail("output is not the input plus annotations", 0);
    return 0;
}
