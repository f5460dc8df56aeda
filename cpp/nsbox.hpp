// The zygote sandbox of ioi-eval: Linux namespaces built by the launcher itself (root with
// CAP_SYS_ADMIN), without executing bubblewrap per run. See nsbox.cpp for the design.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace ioi::ns {

// One system path of the box: a read-only bind of the host folder, or a symlink (merged /usr).
struct SystemEntry {
    std::string path;
    std::string symlink;  // "" = bind the host folder read-only
};

// The user namespace of the unprivileged mode (root without CAP_SYS_ADMIN, as in a judge container): its
// root is the host uid/gid `inside_root` (unprivileged: it owns nothing), and the run uids/gids
// [first, first + count) are mapped to themselves. Writing such a map needs CAP_SETUID and CAP_SETGID only.
struct IdMap {
    long inside_root = -1;
    long first = -1;
    long count = 0;
};

// Build the template (once per process; later calls return the first outcome): a mount namespace
// whose root is a read-only tmpfs holding the system folders, /dev and an empty mount point, and
// a UTS namespace named "box". Returns "" or why the template cannot be made. With `userns`, every
// namespace of the box is made inside a user namespace of that map instead of by CAP_SYS_ADMIN
// (see "Unprivileged mode" in nsbox.cpp).
std::string setup_template(const std::vector<SystemEntry>& entries, const IdMap* userns = nullptr);

// Whether setup_template() succeeded in this process.
bool template_ready();

// A fresh network namespace with only a loopback interface that is down, for one run: one of the
// few a thread of the launcher keeps made ahead, or made now when none is ready. -1 and *err on
// failure. netns_release() closes it once the run is over: a namespace is never used twice.
int netns_acquire(std::string* err);
void netns_release(int fd);

constexpr int kMaxBinds = 64;
constexpr int kMaxCgFds = 3;
constexpr int kMaxRlimits = 8;
constexpr int kMaxSystem = 16;

// Child error steps of the zygote path (after the launcher's own step numbers).
enum Step : int {
    ST_NS_BASE = 100, ST_NS_OPEN_TREE, ST_NS_SETATTR, ST_NS_SETNS, ST_NS_UNSHARE, ST_NS_MOUNT, ST_NS_BIND,
    ST_NS_PIVOT, ST_NS_REMOUNT, ST_NS_CLONE, ST_NS_CGROUP, ST_NS_SECCOMP, ST_NS_NNP, ST_NS_STDIO, ST_NS_CHDIR,
    ST_NS_RLIMIT, ST_NS_IDS, ST_NS_EXECVE, ST_NS_PDEATHSIG, ST_NS_CGROUPNS
};
const char* step_name(int step);

// Everything the two children need, prepared by the launcher; they only read it (no allocation
// after the clone), except for the report at the end, which the init writes.
struct Plan {
    // the program
    const char* exe = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;
    const char* in = nullptr;
    const char* out = nullptr;
    const char* err = nullptr;
    bool err_is_out = false;
    const char* cg_tasks[kMaxCgFds] = {};
    const char* cg_procs[kMaxCgFds] = {};
    int n_cg = 0;
    int rl_res[kMaxRlimits] = {};
    rlimit rl_val[kMaxRlimits] = {};
    int n_rl = 0;
    long uid = -1, gid = -1;
    const void* filter = nullptr;  // struct sock_filter[]
    unsigned short filter_len = 0;
    // the box
    int net_fd = -1;
    const char* bind_src[kMaxBinds] = {};
    const char* bind_dst[kMaxBinds] = {};  // inside path, prefixed with the new root's mount point
    bool bind_rw[kMaxBinds] = {};
    int n_binds = 0;
    bool box_tmpfs = true;
    const char* tmp_opts = nullptr;  // tmpfs options of /tmp and /box (size, mode, owner)
    const char* sys_path[kMaxSystem] = {};     // "/n/usr", ...
    const char* sys_src[kMaxSystem] = {};      // "/usr" (a bind) or nullptr
    const char* sys_link[kMaxSystem] = {};     // symlink target or nullptr
    int n_sys = 0;
    // unprivileged mode (fill_system sets them; -1 otherwise): the user namespace every namespace of
    // the box belongs to, and a mount namespace of it that sees the host's tree (bind sources)
    int userns_fd = -1;
    int src_mnt_fd = -1;
    // plumbing
    int errfd = -1;
    int ready_w = -1;
    int done_w = -1;          // one byte once the report below is written and the box is empty
    int lifeline = -1;        // a pidfd of the harness: readable once it is gone (the init then ends the box)
    char* stack_b = nullptr;  // top of the program child's stack
    // report, written by the init just before it exits (read after it is reaped)
    int reported = 0;
    int status = 0;          // wait status of the program
    rusage children{};       // every reaped process of the box: the program and its descendants
    rusage setup{};          // the init's own (the box's setup), at the program's start
};

// Read a regular file ahead into the page cache, from the calling task (so charged to its memory cgroup),
// in 2 MiB steps: one POSIX_FADV_WILLNEED reads no more than the device's readahead window. The I/O is
// asynchronous; a cached file costs a walk of its pages. Async-signal-safe. Not for a pipe or FIFO.
void read_ahead(int fd);

// Fill the template part of a plan (system entries); false when no template exists.
bool fill_system(Plan& p);

// What the launcher and the thread standing in for the init's parent share; the last of the two to
// let go frees it. Once the init has reported (Plan::done_w), the launcher need not wait for the
// rest of its exit (the kernel's teardown of the box's namespaces, ~0.1-0.2 ms): it hands the box
// over and the thread, woken when the init leaves user space, reaps it and frees the plan and stacks.
struct Life {
    std::atomic<int> state{0};  // 0 open, 1 handed over (by the launcher), 2 the init left user space
    std::atomic<int> refs{2};
    Plan* plan = nullptr;
    char* stacks = nullptr;
    size_t stacks_len = 0;
    pid_t pid = 0;
};

// Hand the box over: true when the thread will reap the init and free `plan` (new'd) and `stacks`
// (mmap'd); false when the init already left user space, and the caller reaps and frees them.
bool handover(Life* life, Plan* plan, char* stacks, size_t stacks_len, pid_t pid);
// The launcher's side lets go of the shared state (after handover() or after reaping the init itself).
void let_go(Life* life);

// Start the box: a thread of the launcher clones the init (new pid and IPC namespaces, sharing the
// launcher's memory while it lives, as a vfork child does), which builds the mounts and starts
// the program. Returns the init's pid (host view) and *life, or -1 with *err. The plan and both
// stacks must live until the init is reaped (or handed over).
pid_t start(Plan* p, char* stack_init, Life** life, std::string* err);

}  // namespace ioi::ns
