// SPDX-License-Identifier: MIT
//
// gfplab-decode driven as a user drives it: spawned with arguments and stdin, its stdout,
// stderr and exit status captured and compared exactly. Expected values come from the
// kernels' own headers (gfp.h, gfp_types.h) and %pGg tables (mmflags.h) of each era.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <initializer_list>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

struct result {
    int status = -1;
    std::string out;
    std::string err;
};

// Reads both pipes until the child closes them, so neither can fill up and stall it.
void drain(int out_fd, int err_fd, result &r) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string *sinks[2] = {&r.out, &r.err};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0)
            return;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buf[4096];
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
                continue;
            }
            close(fds[i].fd);
            fds[i].fd = -1;
            --open_fds;
        }
    }
}

result run(std::initializer_list<std::string> args, const std::string &input = "") {
    const char *tool = std::getenv("GFPLAB_DECODE");
    EXPECT_NE(tool, nullptr) << "GFPLAB_DECODE is not set (run through meson test)";
    if (tool == nullptr)
        return {};
    std::vector<std::string> storage{tool};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &a : storage)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    int in[2], out[2], err[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
        posix_spawn_file_actions_addclose(&actions, fd);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, tool, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(spawned, 0) << "cannot start " << tool;
    close(in[0]);
    close(out[1]);
    close(err[1]);

    // The tool reads all of stdin before writing, so writing first cannot deadlock.
    for (std::size_t done = 0; spawned == 0 && done < input.size();) {
        const ssize_t n = write(in[1], input.data() + done, input.size() - done);
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    close(in[1]);
    result r;
    drain(out[0], err[0], r);
    int wstatus = 0;
    if (spawned == 0 && waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus))
        r.status = WEXITSTATUS(wstatus);
    return r;
}

std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        out.push_back(text.substr(start, end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return out;
}

std::string first_line(const result &r) {
    const auto l = lines(r.out);
    return l.empty() ? std::string{} : l.front();
}

bool has_line(const result &r, const std::string &line) {
    for (const auto &l : lines(r.out))
        if (l == line)
            return true;
    return false;
}

bool mentions(const std::string &text, const std::string &what) {
    return text.find(what) != std::string::npos;
}

// --- masks on the command line ---------------------------------------------------------

TEST(Decode, HexPrintsTheKernelsForm) {
    const result r = run({"0xcc0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0xcc0(GFP_KERNEL)\n");
    EXPECT_EQ(r.err, "");
}

TEST(Decode, HexWithoutPrefix) {
    const result r = run({"cc0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0xcc0(GFP_KERNEL)\n");
}

TEST(Decode, NamesInHexFormOut) {
    const result r = run({"GFP_NOFS|__GFP_ZERO"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0xd40(GFP_NOFS|__GFP_ZERO)\n");
}

TEST(Decode, KernelFormRoundTrips) {
    const result r = run({"0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)\n");
}

TEST(Decode, SeveralMasksInOrder) {
    const result r = run({"0xcc0", "0x820", "0x0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0xcc0(GFP_KERNEL)\n0x820(GFP_ATOMIC)\n0x0()\n");
}

TEST(Decode, Kernel419Layout) {
    EXPECT_EQ(run({"--kernel", "4.19", "0x6000c0"}).out, "0x6000c0(GFP_KERNEL)\n");
    EXPECT_EQ(run({"--kernel", "4.19", "GFP_KERNEL"}).out, "0x6000c0(GFP_KERNEL)\n");
    EXPECT_EQ(run({"--kernel", "v5.0", "GFP_ATOMIC"}).out, "0x480020(GFP_ATOMIC)\n");
}

TEST(Decode, Kernel310PrintsBareHexThenTracepointNames) {
    const result r = run({"--kernel", "3.10", "0xd0"});
    EXPECT_EQ(r.status, 0);
    const auto l = lines(r.out);
    ASSERT_EQ(l.size(), 2u) << r.out;
    EXPECT_EQ(l[0], "0xd0");
    EXPECT_EQ(l[1], "  tracepoint: GFP_KERNEL");
}

TEST(Decode, Kernel44StillBareHex) {
    EXPECT_EQ(first_line(run({"--kernel", "4.4", "0x24000c0"})), "0x24000c0");
    EXPECT_EQ(first_line(run({"--kernel", "4.9", "0x24000c0"})), "0x24000c0(GFP_KERNEL)");
}

TEST(Decode, TableOrderChangedIn615) {
    EXPECT_EQ(run({"--kernel", "6.12", "0x40dc0"}).out,
              "0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO)\n");
    EXPECT_EQ(run({"--kernel", "6.15", "0x40dc0"}).out,
              "0x40dc0(GFP_KERNEL|__GFP_ZERO|__GFP_COMP)\n");
}

TEST(Decode, AutoPicksTheEraThatNamesEveryBit) {
    const result r = run({"--kernel", "auto", "0x6000c0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(first_line(r), "0x6000c0(GFP_KERNEL)");
    EXPECT_TRUE(has_line(r, "  kernel: auto -> 4.18-5.0 (4.19)")) << r.out;
}

TEST(Decode, AutoOnAModernMaskPicksTheNewestEra) {
    const result r = run({"--kernel", "auto", "0x40dc0"});
    EXPECT_EQ(first_line(r), "0x40dc0(GFP_KERNEL|__GFP_ZERO|__GFP_COMP)");
    EXPECT_TRUE(mentions(r.out, "kernel: auto -> 6.15")) << r.out;
}

TEST(Decode, AutoOn3xMask) {
    const result r = run({"--kernel", "auto", "0x200da"});
    EXPECT_EQ(first_line(r), "0x200da");
    EXPECT_TRUE(has_line(r, "  tracepoint: GFP_HIGHUSER_MOVABLE")) << r.out;
    EXPECT_TRUE(mentions(r.out, "kernel: auto -> 3.")) << r.out;
}

TEST(Decode, LockdepMovesNoObjExt) {
    EXPECT_EQ(run({"GFP_KERNEL|__GFP_NO_OBJ_EXT"}).out, "0x1000cc0(GFP_KERNEL|0x1000000)\n");
    const result r = run({"--config", "LOCKDEP", "GFP_KERNEL|__GFP_NO_OBJ_EXT"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0x2000cc0(GFP_KERNEL|0x2000000)\n");
    EXPECT_EQ(r.err, "");
    const result e = run({"--config", "LOCKDEP", "--explain", "0x3000000"});
    EXPECT_TRUE(mentions(e.out, "__GFP_NOLOCKDEP")) << e.out;
    EXPECT_TRUE(mentions(e.out, "__GFP_NO_OBJ_EXT")) << e.out;
    EXPECT_TRUE(mentions(e.out, "0x2000000")) << e.out;
}

TEST(Decode, LeftoverBitsWarnButSucceed) {
    const result r = run({"0x4000cc0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0x4000cc0(GFP_KERNEL|0x4000000)\n");
    EXPECT_TRUE(mentions(r.err, "warning")) << r.err;
    EXPECT_TRUE(mentions(r.err, "0x4000000")) << r.err;
}

// --- bad input -------------------------------------------------------------------------

void expect_bad_input(std::initializer_list<std::string> args, const std::string &named) {
    const result r = run(args);
    EXPECT_EQ(r.status, 2) << named;
    EXPECT_EQ(r.out, "") << named;
    EXPECT_TRUE(mentions(r.err, named)) << r.err;
}

TEST(Decode, BadVersionsExit2) {
    expect_bad_input({"--kernel", "4.25", "0xcc0"}, "4.25");
    expect_bad_input({"--kernel", "2.6", "0xcc0"}, "2.6");
    expect_bad_input({"--kernel", "banana", "0xcc0"}, "banana");
}

TEST(Decode, BadNameExit2) {
    expect_bad_input({"GFP_KERNL"}, "GFP_KERNL");
}

TEST(Decode, NameFromAnotherEraExit2) {
    // __GFP_WAIT went away in 4.4.
    expect_bad_input({"__GFP_WAIT"}, "__GFP_WAIT");
    EXPECT_EQ(run({"--kernel", "3.10", "__GFP_WAIT"}).status, 0);
}

TEST(Decode, BadConfigExit2) {
    expect_bad_input({"--config", "LOCKDEPP", "0xcc0"}, "LOCKDEPP");
}

TEST(Decode, UnparseableExit2) {
    expect_bad_input({"0xzz"}, "0xzz");
}

TEST(Decode, OneBadMaskDoesNotHideTheOthers) {
    const result r = run({"0xcc0", "GFP_BOGUS"});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "0xcc0(GFP_KERNEL)\n");
    EXPECT_TRUE(mentions(r.err, "GFP_BOGUS"));
}

TEST(Decode, NoMaskExit2) {
    EXPECT_EQ(run({}).status, 2); // and nothing piped in either
}

TEST(Decode, APipedLogNeedsNoFlag) {
    const std::string log =
        "kworker/0:1: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL)\n";
    const result plain = run({}, log), flagged = run({"--log"}, log);
    EXPECT_EQ(plain.status, 0);
    EXPECT_EQ(plain.out, flagged.out);
    EXPECT_TRUE(mentions(plain.out, ": GFP_KERNEL; layout: ")) << plain.out;
}

TEST(Decode, ALogLineAsAMaskSuggestsLog) {
    const result r = run({"order:0, mode:0xcc0(GFP_KERNEL)"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(mentions(r.err, "--log")) << r.err;
}

TEST(Decode, JsonHasEveryMaskAndItsVerdict) {
    const result r = run({"--json", "--kernel", "4.19", "0x6000c0", "GFP_BOGUS"});
    EXPECT_EQ(r.status, 2);
    for (const char *want :
         {"\"format_version\": 1", "\"printk\": \"0x6000c0(GFP_KERNEL)\"", "\"kernel\": \"4.19\"",
          "\"input\": \"GFP_BOGUS\"", "\"ok\": false", "\"git_revision\""})
        EXPECT_TRUE(mentions(r.out, want)) << want << " in " << r.out;
    EXPECT_EQ(r.err, "");
}

TEST(Decode, AKernelNewerThanTheModelWarnsAndDecodes) {
    const result r = run({"--kernel", "99.1", "0xcc0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "0xcc0(GFP_KERNEL)\n");
    EXPECT_TRUE(mentions(r.err, "newer than 6.15")) << r.err;
    EXPECT_EQ(run({"--kernel", "6.15", "0xcc0"}).err, "");
}

// --- --explain -------------------------------------------------------------------------

TEST(Decode, ExplainListsFlagsZoneAndMigratetype) {
    const result r = run({"--explain", "0xcc0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(first_line(r), "0xcc0(GFP_KERNEL)");
    const auto l = lines(r.out);
    ASSERT_EQ(l.size(), 7u) << r.out; // mask, IO, FS, DIRECT, KSWAPD, zone, migratetype
    EXPECT_TRUE(l[1].starts_with("  __GFP_IO ")) << l[1];
    EXPECT_TRUE(mentions(l[1], " 0x40 ")) << l[1];
    EXPECT_TRUE(l[2].starts_with("  __GFP_FS ")) << l[2];
    EXPECT_TRUE(l[3].starts_with("  __GFP_DIRECT_RECLAIM ")) << l[3];
    EXPECT_TRUE(l[4].starts_with("  __GFP_KSWAPD_RECLAIM ")) << l[4];
    EXPECT_EQ(l[5], "  zone: ZONE_NORMAL");
    EXPECT_EQ(l[6], "  migratetype: MIGRATE_UNMOVABLE");
}

TEST(Decode, ExplainMovable) {
    const result r = run({"--explain", "GFP_HIGHUSER_MOVABLE"});
    EXPECT_TRUE(has_line(r, "  zone: ZONE_MOVABLE")) << r.out;
    EXPECT_TRUE(has_line(r, "  migratetype: MIGRATE_MOVABLE")) << r.out;
}

TEST(Decode, ExplainNamesBadCombinations) {
    const result z = run({"--explain", "__GFP_DMA|__GFP_HIGHMEM"});
    EXPECT_TRUE(mentions(z.out, "zone: bad combination __GFP_DMA|__GFP_HIGHMEM")) << z.out;
    const result m = run({"--explain", "__GFP_MOVABLE|__GFP_RECLAIMABLE"});
    EXPECT_TRUE(mentions(m.out, "migratetype: bad combination __GFP_MOVABLE|__GFP_RECLAIMABLE"))
        << m.out;
}

TEST(Decode, ExplainUsesTheErasBits) {
    // 0x10 is __GFP_WAIT in 3.x and RECLAIMABLE was 0x80000; from 4.4 on 0x10 is RECLAIMABLE.
    EXPECT_TRUE(has_line(run({"--kernel", "3.10", "--explain", "0x10"}),
                         "  migratetype: MIGRATE_UNMOVABLE"));
    EXPECT_TRUE(has_line(run({"--kernel", "3.10", "--explain", "0x80050"}),
                         "  migratetype: MIGRATE_RECLAIMABLE"));
    EXPECT_TRUE(has_line(run({"--explain", "0x10"}), "  migratetype: MIGRATE_RECLAIMABLE"));
    const result r = run({"--kernel", "3.10", "--explain", "0xd0"});
    EXPECT_TRUE(mentions(r.out, "  __GFP_WAIT ")) << r.out;
}

// --- --log -----------------------------------------------------------------------------

TEST(DecodeLog, Failure419AnnotatedOtherLinesUnchanged) {
    const std::string log =
        "[  812.001] kworker/u8:2: page allocation failure: order:0, "
        "mode:0x6000c0(GFP_KERNEL), nodemask=(null)\n"
        "[  812.002] kworker/u8:2 cpuset=/ mems_allowed=0\n"
        "[  812.003] CPU: 1 PID: 42 Comm: kworker/u8:2 Not tainted 4.19.0-16-amd64 #1 Debian "
        "4.19.181-1\n"
        "[  812.004] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)\n"
        "[  812.005] Call Trace:\n"
        "[  812.006]  dump_stack+0x66/0x90\n";
    std::string expected = log;
    const std::string at = "mode:0x6000c0(GFP_KERNEL)";
    expected.insert(expected.find(at) + at.size(),
                    " [4.19: GFP_KERNEL; layout: 4.19.0-16-amd64 named on line 3]");
    const result r = run({"--log"}, log);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, expected);
    EXPECT_EQ(r.err, "");
}

TEST(DecodeLog, Failure310BareHex) {
    const std::string log = "[    5.1] swapper/0: page allocation failure: order:0, mode:0x20\n"
                            "[    5.1] CPU: 0 PID: 0 Comm: swapper/0 Not tainted "
                            "3.10.0-957.el7.x86_64 #1\n"
                            "[    6.2] bash invoked oom-killer: gfp_mask=0x200da, order=0, "
                            "oom_score_adj=0\n"
                            "[    6.2] bash cpuset=/ mems_allowed=0\n";
    const std::string expected = "[    5.1] swapper/0: page allocation failure: order:0, "
                                 "mode:0x20 [3.10: GFP_ATOMIC; layout: 3.10.0-957.el7.x86_64 "
                                 "named on line 2]\n"
                                 "[    5.1] CPU: 0 PID: 0 Comm: swapper/0 Not tainted "
                                 "3.10.0-957.el7.x86_64 #1\n"
                                 "[    6.2] bash invoked oom-killer: gfp_mask=0x200da "
                                 "[3.10: GFP_HIGHUSER_MOVABLE; layout: 3.10.0-957.el7.x86_64 "
                                 "named on line 2], order=0, oom_score_adj=0\n"
                                 "[    6.2] bash cpuset=/ mems_allowed=0\n";
    const result r = run({"--log"}, log);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, expected);
}

TEST(DecodeLog, DisagreementIsReported) {
    const std::string log = "x invoked oom-killer: gfp_mask=0x6000c0(GFP_NOFS), nodemask=(null), "
                            "order=0, oom_score_adj=0\n"
                            "CPU: 0 PID: 1 Comm: x Tainted: G        W  O      4.19.0 #1\n";
    const result r = run({"--log"}, log);
    EXPECT_TRUE(mentions(r.out, "gfp_mask=0x6000c0(GFP_NOFS) [4.19: GFP_KERNEL; differs from "
                                "the log's (GFP_NOFS); layout: 4.19.0 named on line 2], "
                                "nodemask=(null)"))
        << r.out;
}

TEST(DecodeLog, UnknownBitsAreNamedInTheAnnotation) {
    // 0x2000000 is __GFP_NO_OBJ_EXT only on a lockdep kernel; 6.12's %pGg prints it as hex
    // either way.
    const std::string log = "Linux version 6.12.0 (gcc) #1 SMP\n"
                            "SLUB: Unable to allocate memory on node -1, "
                            "gfp=0x2000cc0(GFP_KERNEL|0x2000000)\n";
    const result r = run({"--log"}, log);
    EXPECT_TRUE(mentions(r.out, "gfp=0x2000cc0(GFP_KERNEL|0x2000000) [6.12: GFP_KERNEL|0x2000000; "
                                "0x2000000 not a GFP bit there; layout: 6.12.0 named on line 1]"))
        << r.out;
    const result l = run({"--log", "--config", "LOCKDEP"}, log);
    EXPECT_TRUE(mentions(l.out, "gfp=0x2000cc0(GFP_KERNEL|0x2000000) [6.12: GFP_KERNEL|0x2000000; "
                                "layout: 6.12.0 named on line 1]"))
        << l.out;
}

TEST(DecodeLog, ConfigExplainsADisagreement) {
    // From 6.15 %pGg names the config bits; 0x1000000 is __GFP_NO_OBJ_EXT by default but
    // __GFP_NOLOCKDEP on a lockdep kernel, which is what this log came from.
    const std::string log = "Linux version 6.16.0 (gcc) #1 SMP\n"
                            "SLUB: Unable to allocate memory on node -1, "
                            "gfp=0x1000cc0(GFP_KERNEL|__GFP_NOLOCKDEP)\n";
    const result r = run({"--log"}, log);
    EXPECT_TRUE(mentions(r.out, "gfp=0x1000cc0(GFP_KERNEL|__GFP_NOLOCKDEP) [6.16: "
                                "GFP_KERNEL|__GFP_NO_OBJ_EXT; differs from the log's "
                                "(GFP_KERNEL|__GFP_NOLOCKDEP), which config LOCKDEP,SLAB_OBJ_EXT "
                                "prints; layout: 6.16.0 named on line 1]"))
        << r.out;
    const result l = run({"--log", "--config", "LOCKDEP"}, log);
    EXPECT_TRUE(mentions(l.out, "[6.16: GFP_KERNEL|__GFP_NOLOCKDEP; layout: ")) << l.out;
}

TEST(DecodeLog, EachReportUsesTheNearestVersion) {
    const std::string log = "a: page allocation failure: order:0, mode:0x6000c0(GFP_KERNEL)\n"
                            "CPU: 0 PID: 1 Comm: a Not tainted 4.19.0 #1\n"
                            "b: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL)\n"
                            "CPU: 0 PID: 2 Comm: b Not tainted 6.1.0-18-amd64 #1 Debian\n";
    const auto l = lines(run({"--log"}, log).out);
    ASSERT_EQ(l.size(), 4u);
    EXPECT_TRUE(mentions(l[0], "mode:0x6000c0(GFP_KERNEL) [4.19: GFP_KERNEL; layout: 4.19.0 "
                               "named on line 2]"))
        << l[0];
    EXPECT_TRUE(mentions(l[2], "mode:0xcc0(GFP_KERNEL) [6.1: GFP_KERNEL; layout: 6.1.0-18-amd64 "
                               "named on line 4]"))
        << l[2];
}

TEST(DecodeLog, OtherSitesSlubPageOwnerSlab) {
    const std::string log =
        "Linux version 6.12.0-1-amd64 (debian-kernel@lists.debian.org)\n"
        "SLUB: Unable to allocate memory on node -1 (gfp=0x820)\n"
        "page last allocated via order 0, migratetype Movable, gfp_mask "
        "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid 1, tgid 1\n"
        "Unexpected gfp: 0x4 (GFP_DMA32). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!\n"
        "Page allocated via order 9, mask 0x1c20ca(GFP_TRANSHUGE_LIGHT), pid 7, tgid 7 "
        "(khugepaged)\n"
        "SLAB: Unable to allocate memory on node 0, cpumask 0x3, nodemask 0x1\n";
    const auto l = lines(run({"--log"}, log).out);
    ASSERT_EQ(l.size(), 6u);
    const std::string why = "; layout: 6.12.0-1-amd64 named on line 1]";
    EXPECT_EQ(l[1], "SLUB: Unable to allocate memory on node -1 (gfp=0x820 [6.12: GFP_ATOMIC" +
                        why + ")");
    EXPECT_TRUE(mentions(l[2], "gfp_mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP) [6.12: "
                               "GFP_HIGHUSER_MOVABLE|__GFP_COMP" +
                                   why + ", pid 1"))
        << l[2];
    EXPECT_EQ(l[3], "Unexpected gfp: 0x4 (GFP_DMA32) [6.12: GFP_DMA32" + why +
                        ". Fixing up to gfp: 0xcc0 (GFP_KERNEL) [6.12: GFP_KERNEL" + why +
                        ". Fix your code!");
    EXPECT_EQ(l[4], "Page allocated via order 9, mask 0x1c20ca(GFP_TRANSHUGE_LIGHT) [6.12: "
                    "GFP_TRANSHUGE_LIGHT" +
                        why + ", pid 7, tgid 7 (khugepaged)");
    // Other masks are not GFP masks.
    EXPECT_EQ(l[5], "SLAB: Unable to allocate memory on node 0, cpumask 0x3, nodemask 0x1");
}

TEST(DecodeLog, WithoutVersionUsesKernelElseAuto) {
    const std::string log = "x: page allocation failure: order:0, mode:0x6000c0(GFP_KERNEL)";
    EXPECT_EQ(run({"--log"}, log).out,
              "x: page allocation failure: order:0, mode:0x6000c0(GFP_KERNEL) "
              "[auto 4.19: GFP_KERNEL; layout: read with the log's names; era 4.18-5.0 names "
              "every bit with 1 name; no other era reads it; 4.19: the era's newest long-term "
              "release]");
    EXPECT_EQ(run({"--log", "--kernel", "6.12"}, log).out,
              "x: page allocation failure: order:0, mode:0x6000c0(GFP_KERNEL) "
              "[6.12: __GFP_IO|__GFP_FS|__GFP_THISNODE|__GFP_ACCOUNT; differs from the log's "
              "(GFP_KERNEL); layout: --kernel 6.12 (the log names no release)]");
}

// Each annotation says which layout it used and why; auto names the rule that decided it
// against the best layout of any other era.
TEST(DecodeLog, AutoSaysWhichRuleChoseTheEra) {
    // 0x2000000 is __GFP_KSWAPD_RECLAIM (GFP_NOWAIT) only in 4.4-4.9; 6.15+ leaves it as hex.
    EXPECT_EQ(run({"--log"}, "a mode:0x2000000\n").out,
              "a mode:0x2000000 [auto 4.9: GFP_NOWAIT; layout: era 4.4-4.9 names every bit with "
              "1 name; 6.15+ leaves bits unnamed; 4.9: the era's newest long-term release]\n");
    // 3.x's GFP_HIGHUSER_MOVABLE: every newer era needs several names for 0x200da.
    EXPECT_TRUE(mentions(run({"--log"}, "a mode:0x200da\n").out,
                         "[auto 4.1: GFP_HIGHUSER_MOVABLE; layout: era 3.0-4.3 names every bit "
                         "with 1 name; 6.15+ needs 6; 4.1: the era's newest long-term release]"));
    // GFP_DMA is 0x1 everywhere: the newest era wins the tie, its newest release (no LTS).
    EXPECT_TRUE(mentions(run({"--log"}, "a mode:0x1\n").out,
                         "[auto 6.15: GFP_DMA; layout: era 6.15+ names every bit with 1 name; "
                         "6.10-6.14 ties and is older; 6.15: the era's newest release]"));
}

TEST(DecodeLog, AVersionOnTheMasksOwnLineIsSaidSo) {
    const auto l =
        lines(run({"--log"}, "CPU: 3 Not tainted 5.10.0-28-amd64 mode:0xcc0(GFP_KERNEL)\n"
                             "Linux version 4.19.0 (gcc)\n")
                  .out);
    ASSERT_GE(l.size(), 1u);
    EXPECT_TRUE(mentions(l[0], "[5.10: GFP_KERNEL; layout: 5.10.0-28-amd64 named on this line]"))
        << l[0];
}

TEST(DecodeLog, JsonListsEveryMaskWithItsLayoutAndWhy) {
    const std::string log = "a: page allocation failure: order:0, mode:0x6000c0(GFP_KERNEL)\n"
                            "CPU: 0 PID: 1 Comm: a Not tainted 4.19.0 #1\n";
    const result r = run({"--log", "--json"}, log);
    EXPECT_EQ(r.status, 0);
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["mode"], "log");
    ASSERT_EQ(doc["masks"].size(), 1u);
    const auto &m = doc["masks"][0];
    EXPECT_EQ(m["line"], 1);
    EXPECT_EQ(m["column"], 43);
    EXPECT_EQ(m["value"], "0x6000c0");
    EXPECT_EQ(m["log_names"], "GFP_KERNEL");
    EXPECT_EQ(m["names"], "GFP_KERNEL");
    EXPECT_EQ(m["era"], "4.18-5.0 (4.19)");
    EXPECT_EQ(m["layout_source"], "log");
    EXPECT_EQ(m["log_mention"]["line"], 2);
    EXPECT_EQ(m["log_mention"]["text"], "4.19.0");
    EXPECT_EQ(m["reason"], "4.19.0 named on line 2");

    // Without a version: --kernel, then auto with its scores.
    const std::string bare = "x: page allocation failure: order:0, mode:0x2000000\n";
    const auto opt = nlohmann::json::parse(run({"--log", "--json", "-k", "6.1"}, bare).out);
    EXPECT_EQ(opt["masks"][0]["layout_source"], "option");
    EXPECT_EQ(opt["masks"][0]["kernel"], "6.1");
    const auto aut = nlohmann::json::parse(run({"--log", "--json"}, bare).out);
    const auto &a = aut["masks"][0];
    EXPECT_EQ(a["layout_source"], "auto");
    EXPECT_EQ(a["kernel"], "4.9");
    EXPECT_EQ(a["auto"]["every_bit_named"], true);
    EXPECT_EQ(a["auto"]["names"], 1);
    EXPECT_EQ(a["auto"]["lts"], true);
    EXPECT_EQ(a["auto"]["runner_up_era"], "6.15+");
    EXPECT_EQ(a["auto"]["runner_up_every_bit_named"], false);
    EXPECT_EQ(a["auto"]["decided_by"], "unnamed bits");
    EXPECT_EQ(a["auto"]["read_with_log_names"], false);
}

TEST(Decode, AutoSaysWhy) {
    const result r = run({"--kernel", "auto", "0x6000c0"});
    EXPECT_TRUE(has_line(r, "  why: era 4.18-5.0 names every bit with 1 name; 6.15+ needs 4; "
                            "4.19: the era's newest long-term release"))
        << r.out;
    const auto doc = nlohmann::json::parse(run({"--json", "--kernel", "auto", "0x6000c0"}).out);
    EXPECT_TRUE(mentions(doc["masks"][0]["reason"].get<std::string>(), "6.15+ needs 4"));
}

TEST(DecodeLog, LinesWithoutMasksPassThrough) {
    const std::string log = "no masks here\n\n  mode: none, gfp=?\r\nlast line without newline";
    const result r = run({"--log"}, log);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, log);
}

// --- help and listing ------------------------------------------------------------------

TEST(Decode, HelpDocumentsOptionsAndExamples) {
    const result r = run({"--help"});
    EXPECT_EQ(r.status, 0);
    for (const char *what :
         {"--kernel", "--config", "--explain", "--log", "--list-eras", "auto", "LOCKDEP",
          "Examples", "0xcc0(GFP_KERNEL)", "layout:", "layout_source"})
        EXPECT_TRUE(mentions(r.out, what)) << what;
}

TEST(Decode, ListEras) {
    const result r = run({"--list-eras"});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(mentions(r.out, "4.18-5.0")) << r.out;
    EXPECT_TRUE(mentions(r.out, "bare hex in 4.4")) << r.out;
    EXPECT_TRUE(mentions(r.out, "config")) << r.out;
}

} // namespace
