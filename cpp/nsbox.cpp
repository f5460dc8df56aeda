// The zygote sandbox. Design notes (the why):
//  * bubblewrap costs ~4.5 ms of wall per run: its exec and dynamic loading, a user namespace, a
//    copy of the host's whole mount table, a fresh root with a dozen mounts, pivot_root and the
//    unmount of the old tree, a fresh network namespace (~0.7 ms, torn down asynchronously) and a
//    fork for its pid 1. Most of it is the same for every run.
//  * So the expensive, constant part is built once per process: a *template* mount namespace
//    whose root is a small read-only tmpfs holding /usr (and the compat folders or symlinks), a
//    /dev of six device nodes, and an empty mount point /n; and a UTS namespace named "box".
//    Network namespaces (lo down) are made ahead by a thread of the launcher and each serves one
//    run only: no interface can be brought up without CAP_NET_ADMIN, but a process can leave state
//    in one that the next could read (SNMP counters, abstract socket names kept in flight).
//  * Per run, a launcher thread clones the *init* (CLONE_VM|CLONE_VFORK, as posix_spawn, so no
//    page table of the launcher is copied; the thread, not the caller, is what waits) into fresh
//    pid and IPC namespaces (SysV objects outlive their process, so the IPC namespace is never
//    reused). The init opens stdio and clones the bind sources (open_tree) on the host, enters the
//    run's fresh netns and the template, unshares a private copy of the template's few mounts, mounts a
//    fresh tmpfs root at /n with /usr, /dev, /proc, /tmp, /box and the binds, moves it over the
//    template's root, enters it and makes it read-only; then it vfork-clones the program, which joins the run's cgroups (so none
//    of the setup is charged to it), drops to the run's uid, loads the seccomp filter and execs.
//  * The init stays as the box's pid 1: it reaps everything, kills whatever is left when the
//    program ends, and reports the program's wait status and the rusage of every process it
//    reaped (the whole tree's CPU time without cgroups) in the plan, in the shared memory.
//  * Both children use only async-signal-safe calls; the init never returns into the launcher's
//    code (it _exits), and every string it reads was prepared before the clone.
// Unprivileged mode (setup_template with an IdMap): root without CAP_SYS_ADMIN, as in a judge
// container (CAP_SETUID/CAP_SETGID/CAP_KILL only), where bubblewrap would otherwise run per test.
//  * setup_template makes one user namespace, owned by the harness's uid, whose root is an
//    unprivileged host uid and which maps the run uids to themselves (writing that map needs only
//    CAP_SETUID/CAP_SETGID; no host uid 0 is mapped, so no CAP_SETFCAP). Every other namespace of
//    the box (template mounts and UTS, each run's netns, each run's pid and IPC) is created inside it,
//    so the kernel grants their mounts and setns to the box's processes through that namespace's
//    capabilities instead of CAP_SYS_ADMIN. Its capabilities reach nothing of the container: no
//    resource it did not create, and, for files, only those owned by the ids it maps (the runs').
//  * A per-run pid namespace must belong to it (proc refuses a mount otherwise), and a threaded
//    process cannot enter it: the launcher thread vfork-clones an *entry* that enters it and
//    clones the init as a sibling (CLONE_PARENT: the init is still the harness's child, and its
//    parent-death signal follows the launcher thread, as before); the entry is reaped by the thread.
//  * open_tree needs a mount namespace of that user namespace that still sees the host's tree: a
//    copy of the harness's, made once (the "source" namespace); the init enters it for the binds.
//  * A fresh proc mount inside a user namespace needs a fully visible proc in the same mount
//    namespace (mount_too_revealing): the template keeps a bind of the host's /proc, beneath every
//    box's root (the box is chrooted on a mount over the template root; no process in it can leave).
//  * The init looks the bind sources up as the run (its fsuid, and no file-system capability, as the
//    fsuid switch of a real root drops them), creates its mount points as the namespace's root (fsuid
//    0 inside: an unmapped id could create no file there), and the program drops every capability.
#include "nsbox.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <utility>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif

namespace ioi::ns {
namespace {

constexpr unsigned kOpenTreeClone = 1;
constexpr unsigned kAtRecursive = 0x8000;
constexpr unsigned kMoveMountFEmptyPath = 0x4;
constexpr uint64_t kAttrRdonly = 0x1, kAttrNosuid = 0x2, kAttrNodev = 0x4;
constexpr size_t kStack = 256 * 1024;
constexpr const char* kNewRoot = "/n";

struct MountAttr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

struct ChildError {
    int step;
    int err;
    int index;
};

[[noreturn]] void fail(int fd, int step, int err, int index = 0) {
    ChildError e{step, err, index};
    ssize_t r = write(fd, &e, sizeof e);
    (void)r;
    // The init and the program run in the harness's memory: an id switch before the failure (the init's fsuid
    // for the bind sources, the program's uid) made it non-dumpable, and nothing after us would restore it.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    _exit(127);
}

// mkdir -p of the parents of `path` (and of `path` itself when `self`), as root, mode 0755.
int mkdirs(const char* path, bool self) {
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        if (buf[i] == 0 && !self) break;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return errno;
        buf[i] = c;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// The template
// ---------------------------------------------------------------------------------------------

struct Template {
    bool tried = false;
    std::string error;
    int mnt_fd = -1, uts_fd = -1;
    int userns_fd = -1, src_fd = -1;  // unprivileged mode only
    std::vector<SystemEntry> entries;
    std::vector<std::string> paths;  // "/n" + entry path, for the plans
};

std::mutex g_mu;
Template g_tmpl;

const char* const kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

struct TemplateJob {
    const std::vector<SystemEntry>* entries;
    std::vector<std::string> tmp_paths;  // "/tmp" + entry path
    int mnt_fd = -1, uts_fd = -1;
    int userns_fd = -1, src_fd = -1;  // unprivileged mode: the user namespace (in), the source mount ns (out)
    int step = 0, err = 0;
    const char* what = "";
};

int template_fail(TemplateJob& j, const char* what, int err) {
    j.what = what;
    j.err = err;
    return 1;
}

// Runs in a CLONE_VM|CLONE_VFORK|CLONE_FILES|CLONE_NEWNS|CLONE_NEWUTS child (unprivileged mode: a
// CLONE_VM|CLONE_VFORK|CLONE_FILES child that makes them inside the user namespace): the namespaces
// it opens stay held by the launcher's fds when it exits.
int template_child(void* arg) {
    TemplateJob& j = *static_cast<TemplateJob*>(arg);
    if (j.userns_fd >= 0) {
        if (setns(j.userns_fd, CLONE_NEWUSER) < 0) return template_fail(j, "setns(the box's user namespace)", errno);
        syscall(SYS_setfsuid, 0), syscall(SYS_setfsgid, 0);  // its root: files made here need a mapped owner
        if (unshare(CLONE_NEWNS) < 0) return template_fail(j, "unshare(CLONE_NEWNS) for the source namespace", errno);
        j.src_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (j.src_fd < 0) return template_fail(j, "open /proc/self/ns/mnt", errno);
        if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) return template_fail(j, "unshare(CLONE_NEWNS|CLONE_NEWUTS)", errno);
    }
    j.mnt_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    j.uts_fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    if (j.mnt_fd < 0 || j.uts_fd < 0) return template_fail(j, "open /proc/self/ns", errno);
    if (sethostname("box", 3) < 0) return template_fail(j, "sethostname", errno);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        return template_fail(j, "make / private", errno);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
        return template_fail(j, "tmpfs for the template root", errno);
    if (j.userns_fd >= 0) {  // the fully visible proc that lets each run mount its own (see the top)
        if (mkdir("/tmp/proc", 0555) < 0) return template_fail(j, "mkdir /proc", errno);
        if (mount("/proc", "/tmp/proc", nullptr, MS_BIND | MS_REC, nullptr) < 0)
            return template_fail(j, "bind the host's /proc beneath the template", errno);
    }
    for (size_t i = 0; i < j.entries->size(); i++) {
        const SystemEntry& e = (*j.entries)[i];
        const char* dst = j.tmp_paths[i].c_str();
        if (int err = mkdirs(dst, false)) return template_fail(j, "mkdir", err);
        if (!e.symlink.empty()) {
            if (symlink(e.symlink.c_str(), dst) < 0) return template_fail(j, "symlink", errno);
            continue;
        }
        if (mkdir(dst, 0755) < 0 && errno != EEXIST) return template_fail(j, "mkdir", errno);
        if (mount(e.path.c_str(), dst, nullptr, MS_BIND | MS_REC, nullptr) < 0)
            return template_fail(j, "bind a system folder", errno);
        if (mount(nullptr, dst, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0)
            return template_fail(j, "remount a system folder read-only", errno);
    }
    // /dev: a tmpfs with the harmless device nodes bound in, and the usual symlinks.
    if (mkdir("/tmp/dev", 0755) < 0) return template_fail(j, "mkdir /dev", errno);
    if (mount("tmpfs", "/tmp/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
        return template_fail(j, "tmpfs for /dev", errno);
    for (const char* d : kDevices) {
        char src[64], dst[64];
        snprintf(src, sizeof src, "/dev/%s", d);
        snprintf(dst, sizeof dst, "/tmp/dev/%s", d);
        if (access(src, F_OK) < 0) continue;
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return template_fail(j, "create a device node's mount point", errno);
        close(fd);
        if (mount(src, dst, nullptr, MS_BIND, nullptr) < 0) return template_fail(j, "bind a device node", errno);
        if (mount(nullptr, dst, nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, nullptr) < 0)
            return template_fail(j, "remount a device node", errno);
    }
    const char* links[][2] = {{"/proc/self/fd", "/tmp/dev/fd"}, {"/proc/self/fd/0", "/tmp/dev/stdin"},
                              {"/proc/self/fd/1", "/tmp/dev/stdout"}, {"/proc/self/fd/2", "/tmp/dev/stderr"}};
    for (auto& l : links)
        if (symlink(l[0], l[1]) < 0) return template_fail(j, "symlink in /dev", errno);
    if (mkdir("/tmp/dev/shm", 01777) < 0) return template_fail(j, "mkdir /dev/shm", errno);
    if (mount(nullptr, "/tmp/dev", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr) < 0)
        return template_fail(j, "remount /dev read-only", errno);
    if (mkdir("/tmp/n", 0755) < 0) return template_fail(j, "mkdir the new root's mount point", errno);
    // Make the tmpfs the namespace's root and drop the host's tree from it.
    if (chdir("/tmp") < 0) return template_fail(j, "chdir", errno);
    if (syscall(SYS_pivot_root, ".", ".") < 0) return template_fail(j, "pivot_root", errno);
    if (umount2(".", MNT_DETACH) < 0) return template_fail(j, "unmount the host's tree", errno);
    if (chdir("/") < 0) return template_fail(j, "chdir /", errno);
    if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0)
        return template_fail(j, "remount the template root read-only", errno);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// The run: init (pid 1 of the box) and program
// ---------------------------------------------------------------------------------------------

int open_high(const char* path, int flags, int ef) {
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) fail(ef, ST_NS_STDIO, errno);
    if (fd < 3) {
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (hi < 0) fail(ef, ST_NS_STDIO, errno);
        close(fd);
        fd = hi;
    }
    return fd;
}

struct InitState {
    Plan* p;
    int ef;
    int in, out, err;
    int cg[kMaxCgFds];
};

// The program: joins the run's cgroups, takes its stdio, drops everything and execs.
int program_main(void* arg) {
    InitState& s = *static_cast<InitState*>(arg);
    const Plan& p = *s.p;
    int ef = s.ef;
    for (int i = 0; i < p.n_cg; i++)
        if (s.cg[i] >= 0 && write(s.cg[i], "0", 1) != 1) fail(ef, ST_NS_CGROUP, errno, i);
    if (p.n_cg && unshare(CLONE_NEWCGROUP) < 0) fail(ef, ST_NS_CGROUPNS, errno);
    if (dup2(s.in, 0) < 0 || dup2(s.out, 1) < 0 || dup2(s.err, 2) < 0) fail(ef, ST_NS_STDIO, errno);
    if (p.cwd && chdir(p.cwd) < 0) fail(ef, ST_NS_CHDIR, errno);
    for (int i = 0; i < p.n_rl; i++)
        if (setrlimit(static_cast<__rlimit_resource_t>(p.rl_res[i]), &p.rl_val[i]) < 0) fail(ef, ST_NS_RLIMIT, errno, i);
    // Raw syscalls: libc's set*id would broadcast to the launcher's threads (we share its memory).
    if (syscall(SYS_setgroups, 0, nullptr) < 0) fail(ef, ST_NS_IDS, errno, 0);
    if (p.gid >= 0 && syscall(SYS_setresgid, p.gid, p.gid, p.gid) < 0) fail(ef, ST_NS_IDS, errno, 1);
    if (p.uid >= 0 && syscall(SYS_setresuid, p.uid, p.uid, p.uid) < 0) fail(ef, ST_NS_IDS, errno, 2);
    if (p.userns_fd >= 0) {
        // Our ids were not the user namespace's root, so setresuid kept its capabilities (execve would
        // drop them too): none from here on.
        __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
        if (syscall(SYS_capset, &head, none) < 0) fail(ef, ST_NS_IDS, errno, 3);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(ef, ST_NS_NNP, errno);
    if (p.filter) {
        sock_fprog prog{p.filter_len, static_cast<sock_filter*>(const_cast<void*>(p.filter))};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) fail(ef, ST_NS_SECCOMP, errno);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(ef, ST_NS_PDEATHSIG, errno);
    if (ef > 3 && syscall(SYS_close_range, 3u, unsigned(ef - 1), 0u) < 0)
        for (int fd = 3; fd < ef; fd++) close(fd);
    if (syscall(SYS_close_range, unsigned(ef + 1), ~0u, 0u) < 0)
        for (int fd = ef + 1; fd < 4096; fd++) close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(p.exe, p.argv, p.envp);
    fail(ef, ST_NS_EXECVE, errno);
}

void mount_or_fail(int ef, const char* src, const char* dst, const char* type, unsigned long flags, const char* data,
                   int index) {
    if (mount(src, dst, type, flags, data) < 0) fail(ef, ST_NS_MOUNT, errno, index);
}

// Close every fd but the `n` in `keep`: the init lives as long as the run, and a copy of, say, the
// write end of another process's pipe would delay that pipe's EOF until then.
void close_except(int* keep, int n) {
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && keep[k - 1] > keep[k]; k--) std::swap(keep[k - 1], keep[k]);
    unsigned from = 0;
    for (int i = 0; i <= n; i++) {
        unsigned to = i < n ? unsigned(keep[i]) : ~0u;
        if (i < n && keep[i] < 0) continue;
        if (to > from && syscall(SYS_close_range, from, i < n ? to - 1 : to, 0u) < 0 && i < n)
            for (unsigned fd = from; fd < to; fd++) close(int(fd));
        if (i < n) from = to + 1;
    }
}

int init_main(void* arg) {
    Plan& p = *static_cast<Plan*>(arg);
    int ef = p.errfd;
    if (ef < 10) {  // out of the way of stdio
        int hi = fcntl(ef, F_DUPFD_CLOEXEC, 10);
        if (hi < 0) _exit(127);
        ef = hi;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, nullptr);
    int zero = 0;
    ssize_t wr = write(p.ready_w, &zero, sizeof zero);  // the launcher learns our pid now
    (void)wr;
    close(p.ready_w);
    // Our parent is the launcher's thread that waits for us: it lives as long as the launcher.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(ef, ST_NS_PDEATHSIG, errno);
    if (setsid() < 0) fail(ef, ST_NS_STDIO, errno);

    InitState s{&p, ef, -1, -1, -1, {-1, -1, -1}};
    // Host side: stdio (a FIFO may block here; only this run waits), cgroup files, bind sources.
    s.in = open_high(p.in, O_RDONLY, ef);
    // Page cache is charged to the memory cgroup of whoever brings a page in: a test file not cached
    // any more (evicted since it was written) would count in the run's peak memory (cgroup v1 and v2
    // alike), and its reclaim under the limit in its CPU. Read it ahead from here, the harness's
    // group (the program joins the run's only before its exec).
    read_ahead(s.in);
    s.out = open_high(p.out, O_WRONLY | O_CREAT | O_TRUNC, ef);
    s.err = p.err_is_out ? s.out : open_high(p.err, O_WRONLY | O_CREAT | O_TRUNC, ef);
    for (int i = 0; i < p.n_cg; i++) {
        s.cg[i] = open(p.cg_tasks[i], O_WRONLY | O_CLOEXEC);
        if (s.cg[i] < 0 && p.cg_procs[i]) s.cg[i] = open(p.cg_procs[i], O_WRONLY | O_CLOEXEC);
        if (s.cg[i] < 0) fail(ef, ST_NS_CGROUP, errno, i);
    }
    int trees[kMaxBinds];
    // Resolve the bind sources with the run's file-system ids, as bubblewrap did running as that
    // user: a path it could not look up is not bound for it.
    // Unprivileged mode: open_tree needs a mount namespace of the box's user namespace.
    if (p.src_mnt_fd >= 0 && setns(p.src_mnt_fd, CLONE_NEWNS) < 0) fail(ef, ST_NS_SETNS, errno, 3);
    if (p.uid >= 0) syscall(SYS_setfsgid, p.gid >= 0 ? p.gid : 0), syscall(SYS_setfsuid, p.uid);
    if (p.uid >= 0 && p.userns_fd >= 0) {
        // As root the fsuid switch drops the file-system capabilities; ours were not the namespace's root,
        // so drop them here (they would override the run's permissions on files of mapped ids). Switching
        // the fsuid to the namespace's root below raises them again.
        __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
        if (syscall(SYS_capget, &head, caps) < 0) fail(ef, ST_NS_IDS, errno, 4);
        caps[0].effective &= ~((1u << CAP_CHOWN) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) |
                               (1u << CAP_FOWNER) | (1u << CAP_FSETID) | (1u << CAP_LINUX_IMMUTABLE) |
                               (1u << CAP_MKNOD));
        caps[1].effective &= ~(1u << (CAP_MAC_OVERRIDE - 32));
        if (syscall(SYS_capset, &head, caps) < 0) fail(ef, ST_NS_IDS, errno, 5);
    }
    for (int i = 0; i < p.n_binds; i++) {
        trees[i] = int(syscall(SYS_open_tree, AT_FDCWD, p.bind_src[i], kOpenTreeClone | O_CLOEXEC | kAtRecursive));
        if (trees[i] < 0) fail(ef, ST_NS_OPEN_TREE, errno, i);
        MountAttr attr{kAttrNosuid | kAttrNodev | (p.bind_rw[i] ? 0 : kAttrRdonly), 0, 0, 0};
        if (syscall(SYS_mount_setattr, trees[i], "", AT_EMPTY_PATH | kAtRecursive, &attr, sizeof attr) < 0)
            fail(ef, ST_NS_SETATTR, errno, i);
    }
    if (p.uid >= 0 || p.userns_fd >= 0) {  // unprivileged mode: 0 is the user namespace's root (mapped)
        syscall(SYS_setfsuid, 0), syscall(SYS_setfsgid, 0);
        // A change of fsuid/fsgid clears the parent-death signal and makes the mm non-dumpable; the mm
        // is the harness's own (CLONE_VM), so restore both, and end at once if the harness went meanwhile.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(ef, ST_NS_PDEATHSIG, errno);
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        if (p.lifeline >= 0) {
            pollfd gone{p.lifeline, POLLIN, 0};
            if (poll(&gone, 1, 0) > 0) _exit(125);
        }
    }

    // Into the box: the run's own netns, the template's UTS and a private copy of its mounts.
    if (setns(p.net_fd, CLONE_NEWNET) < 0) fail(ef, ST_NS_SETNS, errno, 0);
    if (setns(g_tmpl.uts_fd, CLONE_NEWUTS) < 0) fail(ef, ST_NS_SETNS, errno, 1);
    if (setns(g_tmpl.mnt_fd, CLONE_NEWNS) < 0) fail(ef, ST_NS_SETNS, errno, 2);
    if (unshare(CLONE_NEWNS) < 0) fail(ef, ST_NS_UNSHARE, errno);
    {
        int keep[6 + kMaxCgFds + kMaxBinds];
        int n = 0;
        keep[n++] = ef;
        if (p.lifeline >= 0) keep[n++] = p.lifeline;
        if (p.done_w >= 0) keep[n++] = p.done_w;
        keep[n++] = s.in;
        keep[n++] = s.out;
        keep[n++] = s.err;
        for (int i = 0; i < p.n_cg; i++) keep[n++] = s.cg[i];
        for (int i = 0; i < p.n_binds; i++) keep[n++] = trees[i];
        close_except(keep, n);
    }

    mount_or_fail(ef, "tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m", 0);
    for (int i = 0; i < p.n_sys; i++) {
        if (p.sys_link[i]) {
            if (symlink(p.sys_link[i], p.sys_path[i]) < 0) fail(ef, ST_NS_MOUNT, errno, 1);
            continue;
        }
        if (int e = mkdirs(p.sys_path[i], true)) fail(ef, ST_NS_MOUNT, e, 1);
        mount_or_fail(ef, p.sys_src[i], p.sys_path[i], nullptr, MS_BIND | MS_REC, nullptr, 1);
    }
    if (mkdir("/n/dev", 0755) < 0) fail(ef, ST_NS_MOUNT, errno, 2);
    mount_or_fail(ef, "/dev", "/n/dev", nullptr, MS_BIND | MS_REC, nullptr, 2);
    mount_or_fail(ef, "tmpfs", "/n/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=1m", 3);
    if (mkdir("/n/proc", 0755) < 0) fail(ef, ST_NS_MOUNT, errno, 4);
    // hidepid: the init is root and runs in the launcher's memory (its cmdline is the harness's).
    mount_or_fail(ef, "proc", "/n/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2", 4);
    if (mkdir("/n/tmp", 0755) < 0) fail(ef, ST_NS_MOUNT, errno, 5);
    mount_or_fail(ef, "tmpfs", "/n/tmp", "tmpfs", MS_NOSUID | MS_NODEV, p.tmp_opts, 5);
    if (mkdir("/n/box", 0755) < 0) fail(ef, ST_NS_MOUNT, errno, 6);
    if (p.box_tmpfs) mount_or_fail(ef, "tmpfs", "/n/box", "tmpfs", MS_NOSUID | MS_NODEV, p.tmp_opts, 6);
    for (int i = 0; i < p.n_binds; i++) {
        struct stat sb;
        if (fstat(trees[i], &sb) < 0) fail(ef, ST_NS_BIND, errno, i);
        const char* dst = p.bind_dst[i];
        if (int e = mkdirs(dst, S_ISDIR(sb.st_mode))) fail(ef, ST_NS_BIND, e, i);
        if (!S_ISDIR(sb.st_mode)) {
            int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0) fail(ef, ST_NS_BIND, errno, i);
            close(fd);
        }
        if (syscall(SYS_move_mount, trees[i], "", AT_FDCWD, dst, kMoveMountFEmptyPath) < 0)
            fail(ef, ST_NS_BIND, errno, i);
        close(trees[i]);
    }
    // Move the new root over the template's and enter it, as switch_root does. Not pivot_root:
    // it walks every task of the machine (chroot_fs_refs), as costly as an exec on a busy host.
    // The template root left underneath holds nothing but the system binds, and leaving the
    // chroot needs CAP_SYS_CHROOT, which the program never has.
    if (chdir(kNewRoot) < 0) fail(ef, ST_NS_PIVOT, errno);
    if (mount(kNewRoot, "/", nullptr, MS_MOVE, nullptr) < 0) fail(ef, ST_NS_PIVOT, errno);
    if (chroot(".") < 0) fail(ef, ST_NS_PIVOT, errno);
    if (chdir("/") < 0) fail(ef, ST_NS_PIVOT, errno);
    if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) < 0)
        fail(ef, ST_NS_REMOUNT, errno);

    getrusage(RUSAGE_SELF, &p.setup);
    pid_t prog = clone(program_main, p.stack_b, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
    if (prog < 0) fail(ef, ST_NS_CLONE, errno);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // the program's setresuid, in the harness's mm, cleared it
    close(s.in);
    close(s.out);
    if (!p.err_is_out) close(s.err);
    for (int i = 0; i < p.n_cg; i++) close(s.cg[i]);

    // pid 1: reap everything; once the program is gone, nothing else may stay. Besides the
    // parent-death signal (which the fsuid switch above used to clear: boxes then outlived a
    // SIGKILLed harness, reparented to the host's init), we watch the harness's pidfd: once it is
    // readable the harness is gone, nobody will read our report, and the box ends.
    bool done = false;
    int sfd = -1;
    if (p.lifeline >= 0) {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, nullptr);
        sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    }
    for (;;) {
        int st = 0;
        pid_t r = wait4(-1, &st, __WALL | (sfd >= 0 ? WNOHANG : 0), nullptr);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: the box is empty
        }
        if (r == 0) {  // children left, none exited yet: wait for one, or for the harness to go
            pollfd fds[2] = {{sfd, POLLIN, 0}, {p.lifeline, POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) {
                if (errno != EINTR) {  // cannot watch: reap blocking, as without a lifeline
                    close(sfd);
                    sfd = -1;
                }
                continue;
            }
            if (fds[1].revents) {
                if (getpid() == 1) kill(-1, SIGKILL);  // as pid 1 only (see below)
                _exit(125);  // no report: never read as the program's clean exit
            }
            signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            continue;
        }
        if (r == prog) {
            p.status = st;
            done = true;
            // Every other process of this pid namespace; only ever as its pid 1 (in the host's
            // namespace, kill(-1) would reach every process of the machine).
            if (getpid() == 1) kill(-1, SIGKILL);
        }
    }
    if (done) {
        getrusage(RUSAGE_CHILDREN, &p.children);
        __atomic_store_n(&p.reported, 1, __ATOMIC_RELEASE);
        // The launcher may go on now: the rest of our exit is the namespaces' teardown.
        if (p.done_w >= 0) {
            ssize_t w = write(p.done_w, "d", 1);
            (void)w;
        }
    }
    _exit(0);
}

struct ThreadJob {
    Plan* plan;
    char* stack;
    pid_t* ptid;
    int ready_w;
    Life* life;
};

constexpr int kInitFlags = CLONE_VM | CLONE_VFORK | CLONE_NEWPID | CLONE_NEWIPC | CLONE_PARENT_SETTID | SIGCHLD;

// Unprivileged mode: enters the box's user namespace (a threaded launcher cannot) and clones the init
// from there as its sibling, so the init's pid and IPC namespaces belong to that user namespace.
// Blocked (vfork) while the box lives, as the launcher thread above it is.
int entry_main(void* arg) {
    const ThreadJob& job = *static_cast<const ThreadJob*>(arg);
    int e = 0;
    if (setns(job.plan->userns_fd, CLONE_NEWUSER) < 0) e = errno;
    else if (clone(init_main, job.stack, kInitFlags | CLONE_PARENT, job.plan, job.ptid) < 0) e = errno;
    if (e) {
        ssize_t w = write(job.ready_w, &e, sizeof e);
        (void)w;
    }
    _exit(0);
}

// The launcher thread that stands in for the init's vfork parent: blocked in clone() while the
// box lives, so the thread that called run() is free to poll limits and reap.
void* starter(void* arg) {
    ThreadJob job = *static_cast<ThreadJob*>(arg);
    delete static_cast<ThreadJob*>(arg);
    pid_t pid;
    if (job.plan->userns_fd >= 0) {
        alignas(64) char entry_stack[16 * 1024];  // this frame outlives the entry: we wait for it here
        pid = clone(entry_main, entry_stack + sizeof entry_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &job);
        int st;
        if (pid > 0)
            while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
            }
    } else {
        pid = clone(init_main, job.stack, kInitFlags, job.plan, job.ptid);
    }
    if (pid < 0) {
        int e = errno;
        ssize_t w = write(job.ready_w, &e, sizeof e);
        (void)w;
    }
    close(job.ready_w);
    // clone() returns once the init left user space (its exit_mm). If the launcher handed the box
    // over meanwhile, the rest is ours: wait for the whole exit, reap, free.
    Life* life = job.life;
    if (pid > 0 && life->state.exchange(2) == 1) {
        int st;
        while (waitpid(life->pid, &st, __WALL) < 0 && errno == EINTR) {
        }
        munmap(life->stacks, life->stacks_len);
        delete life->plan;
    }
    if (life->refs.fetch_sub(1) == 1) delete life;
    return nullptr;
}

char* alloc_stack();

struct NetJob {
    int userns_fd;  // unprivileged mode: make the netns inside this user namespace
    int out;
};

// Runs in a CLONE_VM|CLONE_VFORK|CLONE_FILES|CLONE_NEWNET child (unprivileged mode: without
// CLONE_NEWNET; it unshares one inside the user namespace): opens its netns for the launcher.
int netns_child(void* arg) {
    NetJob& j = *static_cast<NetJob*>(arg);
    if (j.userns_fd >= 0 && (setns(j.userns_fd, CLONE_NEWUSER) < 0 || unshare(CLONE_NEWNET) < 0)) {
        j.out = -errno;
        return 0;
    }
    j.out = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (j.out < 0) j.out = -errno;
    return 0;
}

int userns_child(void* arg) {
    int fd = *static_cast<int*>(arg);
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR) {
    }
    return 0;
}

// The unprivileged mode's user namespace (see the top), held by the returned fd; -1 and *why.
int make_userns(const IdMap& m, std::string* why) {
    if (m.inside_root <= 0 || m.first <= 0 || m.count <= 0 ||
        (m.inside_root >= m.first && m.inside_root < m.first + m.count)) {
        *why = "bad id map for the user namespace";
        return -1;
    }
    int pp[2];
    if (pipe2(pp, O_CLOEXEC) < 0) {
        *why = std::string("pipe2: ") + strerror(errno);
        return -1;
    }
    char* stack = alloc_stack();
    if (!stack) {
        *why = std::string("mmap: ") + strerror(errno);
        close(pp[0]), close(pp[1]);
        return -1;
    }
    int rd = pp[0];
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t pid = clone(userns_child, stack + kStack, CLONE_VM | CLONE_FILES | CLONE_NEWUSER | SIGCHLD, &rd);
    int clone_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    int fd = -1;
    if (pid < 0) {
        *why = std::string("clone(CLONE_NEWUSER): ") + strerror(clone_err);
    } else {
        char map[160];
        snprintf(map, sizeof map, "0 %ld 1\n%ld %ld %ld\n", m.inside_root, m.first, m.first, m.count);
        for (const char* f : {"uid_map", "gid_map"}) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/%s", int(pid), f);
            int mf = open(path, O_WRONLY | O_CLOEXEC);
            bool ok = mf >= 0 && write(mf, map, strlen(map)) == ssize_t(strlen(map));
            if (!ok) *why = std::string("write ") + f + " (needs CAP_SETUID and CAP_SETGID): " + strerror(errno);
            if (mf >= 0) close(mf);
            if (!ok) break;
        }
        if (why->empty()) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/ns/user", int(pid));
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) *why = std::string("open ") + path + ": " + strerror(errno);
        }
        char c = 0;
        ssize_t w = write(pp[1], &c, 1);
        (void)w;
        int st;
        while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
        }
    }
    close(pp[0]), close(pp[1]);
    munmap(stack, kStack);
    return fd;
}

char* alloc_stack() {
    void* base = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return base == MAP_FAILED ? nullptr : static_cast<char*>(base);
}

// Network namespaces. Each serves one run: an unprivileged process can leave state in one that a
// later process could read back (its SNMP counters, e.g. Ip OutNoRoutes after a datagram to an
// unroutable address; abstract unix socket names, alive after their process while a descriptor cycle
// keeps the socket in flight), and nothing resets that. Making one takes ~0.3-0.7 ms (its teardown is
// the kernel's, asynchronous), so a thread of the launcher keeps kNetnsSpare fresh ones ready.
constexpr size_t kNetnsSpare = 2;
std::vector<int> g_netns_fresh;
pid_t g_netns_owner = 0;  // a forked child must not share its parent's namespaces, nor has its maker thread
std::condition_variable* g_netns_cv = nullptr;  // one per owner: a copy inherited through fork is not reused
bool g_netns_maker = false;

int make_netns(std::string* err) {
    char* stack = alloc_stack();
    if (!stack) {
        *err = std::string("mmap: ") + strerror(errno);
        return -1;
    }
    NetJob job{g_tmpl.userns_fd, -1};  // set once by setup_template, before the first run or the maker thread
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int net_flag = job.userns_fd >= 0 ? 0 : CLONE_NEWNET;  // unprivileged: the child unshares it in the userns
    pid_t pid = clone(netns_child, stack + kStack, CLONE_VM | CLONE_VFORK | CLONE_FILES | net_flag | SIGCHLD, &job);
    int clone_err = errno;
    int fd = job.out;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid > 0) {
        int st;
        waitpid(pid, &st, __WALL);
    }
    munmap(stack, kStack);
    if (pid < 0 || fd < 0) {
        *err = std::string("new network namespace: ") + strerror(pid < 0 ? clone_err : -fd);
        return -1;
    }
    return fd;
}

// The maker thread: refills the spares whenever a run takes one. Ends at the first failure (runs then
// make their own and report why).
void* netns_maker(void*) {
    pid_t me = getpid();
    std::unique_lock<std::mutex> lock(g_mu);
    std::condition_variable* cv = g_netns_cv;
    for (;;) {
        cv->wait(lock, [&] { return g_netns_fresh.size() < kNetnsSpare; });
        lock.unlock();
        std::string err;
        int fd = make_netns(&err);
        lock.lock();
        if (fd < 0 || g_netns_owner != me) {
            if (fd >= 0) close(fd);
            return nullptr;
        }
        g_netns_fresh.push_back(fd);
    }
}

// A detached launcher thread on a small stack, started with every signal blocked (signals stay with
// Python's threads); pthread_create's result.
int start_detached(void* (*fn)(void*), void* arg) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_t th;
    int rc = pthread_create(&th, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    return rc;
}

// Start the maker once per process (g_mu held).
void netns_refill_locked() {
    if (g_netns_owner != getpid()) {  // inherited through fork: the parent's spares, and no maker here
        for (int fd : g_netns_fresh) close(fd);
        g_netns_fresh.clear();
        g_netns_owner = getpid();
        g_netns_cv = new std::condition_variable;  // the parent's may hold state of its own waiter
        g_netns_maker = false;
    }
    if (g_netns_maker) return;
    g_netns_maker = true;  // once: a failed start leaves the runs to make their own
    start_detached(netns_maker, nullptr);
}

}  // namespace

const char* step_name(int step) {
    switch (step) {
        case ST_NS_OPEN_TREE: return "open_tree (a bind source)";
        case ST_NS_SETATTR: return "mount_setattr (a bind)";
        case ST_NS_SETNS: return "setns";
        case ST_NS_UNSHARE: return "unshare(CLONE_NEWNS)";
        case ST_NS_MOUNT: return "mount in the box";
        case ST_NS_BIND: return "bind into the box";
        case ST_NS_PIVOT: return "switch to the box root";
        case ST_NS_REMOUNT: return "remount the box root read-only";
        case ST_NS_CLONE: return "clone the program";
        case ST_NS_CGROUP: return "cgroup attach";
        case ST_NS_SECCOMP: return "seccomp";
        case ST_NS_NNP: return "prctl(PR_SET_NO_NEW_PRIVS)";
        case ST_NS_STDIO: return "stdio";
        case ST_NS_CHDIR: return "chdir";
        case ST_NS_RLIMIT: return "setrlimit";
        case ST_NS_IDS: return "set ids";
        case ST_NS_EXECVE: return "execve";
        case ST_NS_PDEATHSIG: return "prctl(PR_SET_PDEATHSIG)";
        case ST_NS_CGROUPNS: return "unshare(CLONE_NEWCGROUP)";
    }
    return "box setup";
}

std::string setup_template(const std::vector<SystemEntry>& entries, const IdMap* userns) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_tmpl.tried) return g_tmpl.error;
    g_tmpl.tried = true;
    if (geteuid() != 0) return g_tmpl.error = "not root";
    int userns_fd = -1;
    if (userns) {
        std::string why;
        userns_fd = make_userns(*userns, &why);
        if (userns_fd < 0) return g_tmpl.error = "user namespace: " + why;
    }
    if (entries.size() > size_t(kMaxSystem)) return g_tmpl.error = "too many system folders";
    TemplateJob job;
    job.entries = &entries;
    job.userns_fd = userns_fd;
    for (auto& e : entries) {
        if (e.path.empty() || e.path[0] != '/' || e.path.find("/..") != std::string::npos)
            return g_tmpl.error = "bad system path '" + e.path + "'";
        job.tmp_paths.push_back("/tmp" + e.path);
    }
    char* stack = alloc_stack();
    if (!stack) {
        if (userns_fd >= 0) close(userns_fd);
        return g_tmpl.error = std::string("mmap: ") + strerror(errno);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int ns_flags = userns_fd >= 0 ? 0 : CLONE_NEWNS | CLONE_NEWUTS;
    pid_t pid = clone(template_child, stack + kStack, CLONE_VM | CLONE_VFORK | CLONE_FILES | ns_flags | SIGCHLD, &job);
    int clone_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, __WALL);
    munmap(stack, kStack);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || job.err) {
        for (int fd : {job.mnt_fd, job.uts_fd, job.src_fd, userns_fd})
            if (fd >= 0) close(fd);
        if (pid < 0) return g_tmpl.error = std::string("clone(CLONE_NEWNS): ") + strerror(clone_err);
        return g_tmpl.error = std::string(job.what) + ": " + strerror(job.err);
    }
    g_tmpl.mnt_fd = job.mnt_fd;
    g_tmpl.uts_fd = job.uts_fd;
    g_tmpl.userns_fd = userns_fd;
    g_tmpl.src_fd = job.src_fd;
    g_tmpl.entries = entries;
    for (auto& e : entries) g_tmpl.paths.push_back(kNewRoot + e.path);
    netns_refill_locked();  // the first run finds a network namespace ready
    return "";
}

bool template_ready() {
    std::lock_guard<std::mutex> lock(g_mu);
    return g_tmpl.mnt_fd >= 0;
}

void read_ahead(int fd) {
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) return;
    constexpr off_t kStep = off_t(2) << 20;
    for (off_t off = 0; off < sb.st_size; off += kStep)
        if (posix_fadvise(fd, off, kStep, POSIX_FADV_WILLNEED) != 0) return;
}

bool fill_system(Plan& p) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_tmpl.mnt_fd < 0) return false;
    p.n_sys = 0;
    p.userns_fd = g_tmpl.userns_fd;
    p.src_mnt_fd = g_tmpl.src_fd;
    for (size_t i = 0; i < g_tmpl.entries.size(); i++) {
        const SystemEntry& e = g_tmpl.entries[i];
        p.sys_path[p.n_sys] = g_tmpl.paths[i].c_str();
        p.sys_src[p.n_sys] = e.symlink.empty() ? e.path.c_str() : nullptr;
        p.sys_link[p.n_sys] = e.symlink.empty() ? nullptr : e.symlink.c_str();
        p.n_sys++;
    }
    return true;
}

int netns_acquire(std::string* err) {
    {
        std::lock_guard<std::mutex> lock(g_mu);
        netns_refill_locked();
        if (!g_netns_fresh.empty()) {
            int fd = g_netns_fresh.back();
            g_netns_fresh.pop_back();
            g_netns_cv->notify_one();  // make another meanwhile
            return fd;
        }
    }
    return make_netns(err);  // none ready (a burst of runs, or the maker failed): this run waits for its own
}

void netns_release(int fd) {
    if (fd >= 0) close(fd);  // never pooled again: the kernel tears it down once the box's init is gone
}

bool handover(Life* life, Plan* plan, char* stacks, size_t stacks_len, pid_t pid) {
    life->plan = plan;
    life->stacks = stacks;
    life->stacks_len = stacks_len;
    life->pid = pid;
    return life->state.exchange(1) == 0;  // the thread reads these only after seeing 1
}

void let_go(Life* life) {
    if (life && life->refs.fetch_sub(1) == 1) delete life;
}

pid_t start(Plan* p, char* stack_init, Life** life_out, std::string* err) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) {
        *err = std::string("pipe2: ") + strerror(errno);
        return -1;
    }
    p->ready_w = ready[1];
    {
        // One pidfd of this process per process (a forked child opens its own).
        static pid_t owner = 0;
        static int lifeline = -1;
        std::lock_guard<std::mutex> lock(g_mu);
        if (owner != getpid()) {
            lifeline = int(syscall(SYS_pidfd_open, getpid(), 0));  // O_CLOEXEC by itself
            owner = getpid();
        }
        p->lifeline = lifeline;  // -1 where pidfds are missing: the parent-death signal alone
    }
    auto* life = new Life;
    auto* job = new ThreadJob{p, stack_init, nullptr, ready[1], life};
    auto* ptid = new pid_t(0);
    job->ptid = ptid;
    int rc = start_detached(starter, job);  // the thread, and so the init, start with every signal blocked
    if (rc != 0) {
        delete job;
        delete life;
        delete ptid;
        close(ready[0]);
        close(ready[1]);
        *err = std::string("pthread_create: ") + strerror(rc);
        return -1;
    }
    int code = -1;
    ssize_t n;
    do {
        n = read(ready[0], &code, sizeof code);
    } while (n < 0 && errno == EINTR);
    close(ready[0]);
    pid_t pid = *ptid;  // written by the kernel before the init ran, which wrote `code`
    delete ptid;
    if (n != ssize_t(sizeof code) || code != 0) {
        *err = std::string("clone of the box's init: ") + strerror(n == ssize_t(sizeof code) ? code : EPIPE);
        let_go(life);  // the thread lets go of its share by itself
        return -1;
    }
    *life_out = life;
    return pid;
}

}  // namespace ioi::ns
