// SPDX-License-Identifier: MIT
#include "scenario_file.hpp"

#include "knobs.hpp"

#include <gfplab/memparse.hpp>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <functional>
#include <map>

namespace gfplab::stress {
namespace {

[[noreturn]] void fail(const std::string &path, const toml::source_region &at,
                       const std::string &msg) {
    throw scenario_file_error(fmt::format("{}:{}: {}", path, at.begin.line, msg));
}

struct reader {
    const std::string &path;

    [[noreturn]] void type_error(const std::string &key, const toml::node &n,
                                 const char *want) const {
        fail(path, n.source(),
             fmt::format(
                 "key '{}': expected {}, found {}", key, want,
                 std::string_view(toml::impl::node_type_friendly_names[unsigned(n.type())])));
    }
    std::int64_t integer(const std::string &key, const toml::node &n, std::int64_t lo,
                         std::int64_t hi) const {
        const auto v = n.value_exact<std::int64_t>();
        if (!v)
            type_error(key, n, "an integer");
        if (*v < lo || *v > hi)
            fail(path, n.source(), fmt::format("key '{}': {} is not in {}..{}", key, *v, lo, hi));
        return *v;
    }
    double real(const std::string &key, const toml::node &n) const {
        if (n.is_integer())
            return double(*n.value_exact<std::int64_t>());
        const auto v = n.value_exact<double>();
        if (!v)
            type_error(key, n, "a number");
        return *v;
    }
    double share(const std::string &key, const toml::node &n) const {
        const double v = real(key, n);
        if (const auto e = check_share("key '" + key + "':", v); !e.empty())
            fail(path, n.source(), e);
        return v;
    }
    std::string text(const std::string &key, const toml::node &n) const {
        const auto v = n.value_exact<std::string>();
        if (!v)
            type_error(key, n, "a string");
        return *v;
    }
    bool boolean(const std::string &key, const toml::node &n) const {
        const auto v = n.value_exact<bool>();
        if (!v)
            type_error(key, n, "a boolean");
        return *v;
    }
    // "64M" or a number of bytes.
    std::uint64_t size(const std::string &key, const toml::node &n) const {
        if (n.is_integer())
            return std::uint64_t(integer(key, n, 0, std::int64_t(1) << 50));
        const auto v = memparse(text(key, n));
        if (!v)
            fail(path, n.source(), fmt::format("key '{}': not a size (e.g. 64M, 1G)", key));
        return *v;
    }
    void weights(op_weights &w, const std::string &prefix, const toml::table &t) const {
        for (auto &&[k, v] : t) {
            const std::string key{k.str()};
            const auto op = find_op(key);
            if (!op)
                fail(path, k.source(), fmt::format("unknown op '{}{}'", prefix, key));
            w[unsigned(*op)] = unsigned(integer(prefix + key, v, 0, 1000000));
        }
    }
};

using knob_fn = std::function<void(const reader &, const std::string &, const toml::node &,
                                   scenario &, run_settings &)>;

const std::map<std::string, knob_fn> &knobs() {
    static const std::map<std::string, knob_fn> all = {
        {"name", [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.name = r.text(k, n); }},
        {"summary",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.summary = r.text(k, n); }},
        {"phase_ops",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.phase_ops = unsigned(r.integer(k, n, 1, 1 << 30));
         }},
        {"hold_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.hold_share = r.share(k, n); }},
        {"random_masks",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.random_masks = r.share(k, n); }},
        {"invalid_masks",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.invalid_masks = r.share(k, n); }},
        {"scope_mismatch",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.scope_mismatch = r.share(k, n); }},
        {"wrong_caller",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.wrong_caller = r.share(k, n); }},
        {"threads_per_core",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.threads_per_core = unsigned(r.integer(k, n, 0, 64));
         }},
        {"expects_i9",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.expects_i9 = r.boolean(k, n); }},
        {"atomic_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.atomic_share = r.share(k, n); }},
        {"thisnode_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.thisnode_share = r.share(k, n); }},
        {"nolock_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.nolock_share = r.share(k, n); }},
        {"nodes",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.nodes = unsigned(r.integer(k, n, 1, 8));
         }},
        {"cpus",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.cpus = unsigned(r.integer(k, n, 0, 1024));
         }},
        {"pcp_mode",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             if (!set_pcp_mode(s, r.text(k, n)))
                 fail(r.path, n.source(),
                      fmt::format("key 'pcp_mode': one of {}", pcp_mode_choices));
         }},
        {"buddy",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             const auto b = parse_buddy_backend(r.text(k, n));
             if (!b)
                 fail(r.path, n.source(), "key 'buddy': one of automatic, kernel, lockfree");
             s.buddy = *b;
         }},
        {"memcg_limit",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.memcg_limit = r.size(k, n); }},
        {"page_cache_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.page_cache_share = r.share(k, n);
         }},
        {"dirty_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.dirty_share = r.share(k, n); }},
        {"anon_share",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.anon_share = r.share(k, n); }},
        {"kswapd",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) { s.kswapd = r.boolean(k, n); }},
        {"swap_pages",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             s.swap_pages = std::uint64_t(r.integer(k, n, 0, std::int64_t(1) << 40));
         }},
        {"orders",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             const auto *a = n.as_array();
             if (!a || a->size() != s.orders.size())
                 r.type_error(k, n, "an array of 11 integers (weights of orders 0..10)");
             unsigned total = 0;
             for (std::size_t i = 0; i < a->size(); i++)
                 total += s.orders[i] = unsigned(r.integer(k, (*a)[i], 0, 1000000));
             if (!total)
                 fail(r.path, n.source(), "key 'orders': every weight is 0");
         }},
        {"weights",
         [](auto &r, auto &k, auto &n, scenario &s, auto &) {
             const auto *t = n.as_table();
             if (!t)
                 r.type_error(k, n, "a table (op = weight, or fill/hold/release tables)");
             // Plain op keys set every phase; then the per-phase tables refine them.
             for (auto &&[pk, pv] : *t) {
                 if (pv.is_table())
                     continue;
                 const std::string key{pk.str()};
                 const auto op = find_op(key);
                 if (!op)
                     fail(r.path, pk.source(), fmt::format("unknown op 'weights.{}'", key));
                 const auto w = unsigned(r.integer("weights." + key, pv, 0, 1000000));
                 for (auto &phase_weights : s.weights)
                     phase_weights[unsigned(*op)] = w;
             }
             for (auto &&[pk, pv] : *t) {
                 if (!pv.is_table())
                     continue;
                 const std::string ph{pk.str()};
                 unsigned i = 0;
                 while (i < 3 && phase_name(phase(i)) != ph)
                     i++;
                 if (i == 3)
                     fail(r.path, pk.source(),
                          fmt::format("unknown key 'weights.{}' (a phase is fill, hold or "
                                      "release)",
                                      ph));
                 r.weights(s.weights[i], "weights." + ph + ".", *pv.as_table());
             }
             for (const auto &w : s.weights) {
                 unsigned total = 0;
                 for (unsigned x : w)
                     total += x;
                 if (!total)
                     fail(r.path, n.source(), "key 'weights': a phase has every weight 0");
             }
         }},
        {"vm",
         [](auto &r, auto &k, auto &n, scenario &s, run_settings &) {
             const auto *t = n.as_table();
             if (!t)
                 r.type_error(k, n, "a table of vm sysctls");
             for (auto &&[name, v] : *t) {
                 const std::string key = "vm." + std::string(name.str());
                 std::string value;
                 if (v.is_integer())
                     value = std::to_string(v.as_integer()->get());
                 else if (v.is_string())
                     value = v.as_string()->get();
                 else
                     r.type_error(key, v, "an integer (lowmem_reserve_ratio: a string)");
                 if (auto e = set_sysctl(s.vm, key, value); !e.empty())
                     fail(r.path, v.source(), fmt::format("key '{}': {}", key, e));
             }
         }},
        {"threads",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.threads = unsigned(r.integer(k, n, 1, 1024));
         }},
        {"duration",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.duration = r.real(k, n);
             if (*run.duration < 0 || *run.duration > 7 * 86400)
                 fail(r.path, n.source(), "key 'duration': 0..604800 seconds");
         }},
        {"ops",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.ops = std::uint64_t(r.integer(k, n, 1, INT64_MAX));
         }},
        {"seed",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.seed = std::uint64_t(r.integer(k, n, 0, INT64_MAX));
         }},
        {"memory",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) { run.memory = r.size(k, n); }},
        {"checkpoint",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.checkpoint = r.real(k, n);
             if (*run.checkpoint < 0.05 || *run.checkpoint > 3600)
                 fail(r.path, n.source(), "key 'checkpoint': 0.05..3600 seconds");
         }},
        {"checkpoint_ops",
         [](auto &r, auto &k, auto &n, auto &, run_settings &run) {
             run.checkpoint_ops = std::uint64_t(r.integer(k, n, 0, INT64_MAX));
         }},
    };
    return all;
}

// A double TOML reads back as a float (1 would come back an integer: both are accepted,
// but the printed file should show what the knob is).
std::string real(double v) {
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".e") == std::string::npos)
        s += ".0";
    return s;
}

std::string quoted(const std::string &s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\')
            out += '\\';
        out += ch;
    }
    return out + '"';
}

} // namespace

scenario load_scenario_file(const std::string &path, run_settings &run) {
    toml::table doc;
    try {
        doc = toml::parse_file(path);
    } catch (const toml::parse_error &e) {
        fail(path, e.source(), std::string(e.description()));
    }
    const reader r{path};
    scenario s = *find_scenario("default");
    if (const auto *b = doc.get("base")) {
        const auto name = r.text("base", *b);
        const auto found = find_scenario(name);
        if (!found)
            fail(path, b->source(), fmt::format("key 'base': no preset '{}'", name));
        s = *found;
    }
    for (auto &&[k, v] : doc) {
        const std::string key{k.str()};
        if (key == "base")
            continue;
        const auto it = knobs().find(key);
        if (it == knobs().end())
            fail(path, k.source(), fmt::format("unknown key '{}'", key));
        it->second(r, key, v, s, run);
    }
    return s;
}

std::string scenario_toml(const scenario &s, const run_settings &run) {
    std::string o;
    o += "# gfplab-stress scenario (gfplab-stress --scenario-file FILE); command-line options\n";
    o += "# override what it says. `base = \"NAME\"` starts from a preset instead of default.\n";
    o += fmt::format("name = {}\nsummary = {}\n", quoted(s.name), quoted(s.summary));
    o += "\n# The run (optional: each has a command-line option of the same name).\n";
    if (run.threads)
        o += fmt::format("threads = {}\n", *run.threads);
    if (run.duration)
        o += fmt::format("duration = {}\n", real(*run.duration));
    if (run.ops)
        o += fmt::format("ops = {}\n", *run.ops);
    if (run.seed)
        o += fmt::format("seed = {}\n", *run.seed);
    o += fmt::format("memory = \"{}M\"\n", run.memory.value_or(256ull << 20) >> 20);
    o += fmt::format("checkpoint = {}\n", real(run.checkpoint.value_or(1.0)));
    o += fmt::format("checkpoint_ops = {} # nonzero: epochs of this many operations per worker "
                     "instead of checkpoint seconds\n",
                     run.checkpoint_ops.value_or(0));
    o += "\n# The machine.\n";
    o += fmt::format("nodes = {}\ncpus = {} # 0: the host's\n", s.nodes, s.cpus);
    o += fmt::format("pcp_mode = \"{}\" # rotate (one run per mode, each on a fresh System), "
                     "automatic, rseq, locked, virtual\n",
                     pcp_mode_text(s));
    o += fmt::format("buddy = \"{}\" # the page-frame backend: automatic (GFPLAB_BUDDY, else "
                     "kernel), kernel, lockfree\n",
                     buddy_backend_name(s.buddy));
    o += fmt::format("memcg_limit = \"{}K\" # per group; 0: __GFP_ACCOUNT charges one unlimited "
                     "group\n",
                     s.memcg_limit >> 10);
    o += fmt::format("swap_pages = {} # 0: a quarter of memory\n", s.swap_pages);
    o += fmt::format("kswapd = {} # false: no background reclaim (one worker replays exactly)\n",
                     s.kswapd);
    o += "\n# The workload.\n";
    o += fmt::format("phase_ops = {} # operations per pressure phase per worker\n", s.phase_ops);
    o += fmt::format("hold_share = {}\n", real(s.hold_share));
    o += fmt::format("random_masks = {}\ninvalid_masks = {}\nscope_mismatch = {}\n",
                     real(s.random_masks), real(s.invalid_masks), real(s.scope_mismatch));
    o += fmt::format("wrong_caller = {}\nexpects_i9 = {}\n", real(s.wrong_caller), s.expects_i9);
    o += fmt::format("atomic_share = {}\nthisnode_share = {}\nnolock_share = {}\n",
                     real(s.atomic_share), real(s.thisnode_share), real(s.nolock_share));
    o += fmt::format("page_cache_share = {}\ndirty_share = {}\nanon_share = {}\n",
                     real(s.page_cache_share), real(s.dirty_share), real(s.anon_share));
    o += fmt::format("threads_per_core = {}\n", s.threads_per_core);
    o += "orders = [";
    for (std::size_t i = 0; i < s.orders.size(); i++)
        o += fmt::format("{}{}", i ? ", " : "", s.orders[i]);
    o += "] # weights of orders 0..10\n";
    o += "\n# The vm sysctls the machine boots with (/proc/sys/vm).\n[vm]\n";
    for (const auto &[name, value] : list_sysctls(s.vm))
        o += name == "lowmem_reserve_ratio" ? fmt::format("{} = {}\n", name, quoted(value))
                                            : fmt::format("{} = {}\n", name, value);
    for (unsigned p = 0; p < 3; p++) {
        o += fmt::format("\n[weights.{}]\n", phase_name(phase(p)));
        for (unsigned k = 0; k < nr_op_kinds; k++)
            o += fmt::format("{} = {}\n", op_name(op_kind(k)), s.weights[p][k]);
    }
    return o;
}

} // namespace gfplab::stress
