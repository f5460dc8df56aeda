// Process launcher of ioi-eval: runs process trees under CPU / wall / memory / process limits,
// accounted and contained with cgroups (v1 or v2) where the machine allows it, with rlimits and
// process groups as the fallback. Pure C++ (no Python): the pybind11 bindings live in module.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ioi {

// Outcome of cgroup_setup(): which controllers a run can use and where their parent groups are.
struct CgroupInfo {
    int version = 0;  // 1, 2, or 0 when no usable cgroups
    bool memory = false;
    bool cpu = false;   // CPU accounting (v1: cpuacct, v2: cpu.stat of the group)
    bool pids = false;
    // controller ("memory", "cpu", "pids") -> absolute path of our parent group `<name>`
    std::vector<std::pair<std::string, std::string>> paths;
    std::string reason;  // why a version-0 result (or a missing controller) happened
};

// Detect cgroups and create the parent groups under our own cgroup. Idempotent within one
// process; thread-safe. Never throws for "no cgroups": that is version 0 with a reason.
CgroupInfo cgroup_setup(const std::string& name);

// Remove what cgroup_setup created (killing anything still inside). Safe to call repeatedly.
void cgroup_cleanup();

// Remove the group `name` beside each of our parent groups (another harness's, which the caller found dead),
// killing anything still inside. Returns how many groups were removed; 0 when there is none or no setup.
int cgroup_remove(const std::string& name);

// The most a wall limit is extended by run-queue wait, as a multiple of the limit (a bound on how
// long a starved run is waited for; ioi_box.protocol.MAX_WAIT_FACTOR mirrors it).
constexpr double kMaxWaitFactor = 10.0;

// A bind of the zygote sandbox (Spec::box): host path `src` at inside path `dst`.
struct BoxBind {
    std::string src, dst;
    bool rw = false;
};

// Spec::box: run the program in the launcher's own namespaces (nsbox.hpp: root with CAP_SYS_ADMIN,
// after ns_setup()) instead of an argv that starts bubblewrap: fresh pid and IPC namespaces, a
// fresh network namespace (made ahead, used once) with loopback down, a fresh read-only root with the template's system
// folders, /dev, /proc, size-capped tmpfs /tmp and /box (unless a bind covers /box), the binds.
struct Box {
    bool enabled = false;
    std::vector<BoxBind> binds;  // mounted in this order (parents first)
    bool box_tmpfs = true;
    int64_t tmp_bytes = 0;       // size of /tmp and /box
    std::string seccomp;         // a struct sock_filter array, loaded just before execve
};

struct Spec {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::optional<std::string> cwd;
    std::optional<std::string> stdin_path, stdout_path, stderr_path;
    double cpu_limit_s = 0;
    // Wall-clock limit. With a CPU limit too, it is extended by the tree's run-queue wait
    // (Result::wait_s), or by the largest such wait among the trees of the same run() call when
    // that is more (they interact: a user blocked on a starved manager waits for it), at most
    // kMaxWaitFactor * wall_limit_s: time spent runnable but not scheduled, because the machine is
    // loaded, does not count against the run; sleeping and blocking do. Without a CPU limit (the
    // wall clock is then the time limit) it is not extended.
    double wall_limit_s = 0;
    int64_t memory_limit_bytes = 0;
    int64_t fsize_bytes = 0;
    int64_t nofile = 0;
    int64_t nproc = 0;
    int64_t uid = -1, gid = -1;
    bool use_cgroup = true;
    // Give the child a fresh, unconfigured network namespace (root only; a setup error otherwise).
    bool new_netns = false;
    // The same without CAP_SYS_ADMIN (e.g. root in a container): after the uid change the child
    // enters a user namespace of its own (mapping only its uid and gid) with a fresh network
    // namespace whose loopback stays down. The child is then forked, not vfork-style (the kernel
    // refuses a new user namespace to a process that shares its memory).
    bool userns_netns = false;
    // The direct child reaps its own descendants (bubblewrap's monitor): on a kill, its
    // descendants die first and it gets a moment to reap them and exit, so that none of them is
    // orphaned to an init that might never reap it.
    bool reaper = false;
    // Files opened read-only at fds 3, 4, ... of the child (inherited across exec).
    std::vector<std::string> extra_fds;
    // The child gets the read end of a pipe at the fd after the extra ones (3 + extra_fds.size()),
    // for bubblewrap's --block-fd: the sandbox sets itself up, then blocks reading it before it
    // starts the program. The launcher waits until a child of the direct child is blocked in a
    // read of that fd, reads the tree's CPU counter (the setup's CPU), then writes one byte. The
    // CPU time reported and limited is the counter's growth from there on: the sandbox's setup is
    // not the program's. Where that point cannot be seen (no cgroup CPU counter, /proc unreadable,
    // not reached within kHoldMaxS) the byte is written at once and nothing is subtracted.
    bool hold_setup = false;
    Box box;
};

struct Result {
    std::optional<int> exit_code;  // both empty on a setup error
    std::optional<int> signal;
    double cpu_s = 0;               // whole tree (cgroup), else rusage of the reaped child
    double setup_cpu_s = 0;         // the tree's CPU before the program started (hold_setup), not in cpu_s
    double user_s = 0, sys_s = 0;   // rusage of the main process and the children it waited for
    double wall_s = 0;
    // Run-queue wait of the tree: the sum over its tasks of the time spent runnable but not
    // running (/proc/<tid>/schedstat), sampled while it runs, so a lower bound.
    double wait_s = 0;
    // Peak memory: the memory cgroup's; without one, ru_maxrss if above the launcher's own RSS
    // (the kernel's floor for it), else the direct child's sampled VmHWM (a lower bound).
    int64_t memory_bytes = 0;
    bool oom_killed = false;
    bool cpu_limit_hit = false;
    bool wall_limit_hit = false;
    std::optional<std::string> setup_error;
};

// Called every ~20 ms while waiting; returning true means "abort": every tree is killed, reaped
// and its cgroup removed, then run() returns with *interrupted set.
using InterruptCheck = std::function<bool()>;

// Build the zygote's template (once per process): `system` lists inside paths bound read-only from
// the host, or (path, target) symlinks. `userns` (inside root, first run id, count), when given, selects
// the unprivileged mode (nsbox.hpp IdMap: root without CAP_SYS_ADMIN). Returns "" or why the zygote
// cannot be used here.
std::string ns_setup(const std::vector<std::pair<std::string, std::string>>& system,
                     const std::optional<std::tuple<long, long, long>>& userns = std::nullopt);

// Start every spec concurrently and wait for all of them. Does not touch Python; the caller
// releases the GIL around it.
std::vector<Result> run(const std::vector<Spec>& specs, double poll_interval_s,
                        const InterruptCheck& check_interrupt, bool* interrupted);

// Test hook: force the fallbacks that a modern kernel never takes (WNOHANG polling instead of
// pidfds; fork() instead of the vfork-style clone), so that tests can cover them. Process-wide.
void set_fallbacks(bool no_pidfd, bool no_vfork);

}  // namespace ioi
