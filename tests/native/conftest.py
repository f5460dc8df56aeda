"""Fixtures of the native-core tests: the module, the cgroup setup, and small C programs
compiled once per session into a world-readable temp dir (so a dropped uid can execute them)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

_native = pytest.importorskip("ioi_box._native", reason="native core not built (pip install -e .)")

# name -> (C source, extra gcc flags)
PROGRAMS: dict[str, tuple[str, list[str]]] = {
    "true": ("int main(void) { return 0; }\n", ["-static"]),
    "exit_with": (
        "#include <stdlib.h>\nint main(int c, char** v) { return c > 1 ? atoi(v[1]) : 0; }\n",
        [],
    ),
    "abort": ("#include <stdlib.h>\nint main(void) { abort(); }\n", []),
    # argv[1] processes (this one included) burn CPU forever
    "spin": (
        r"""
#include <stdlib.h>
#include <unistd.h>
int main(int c, char** v) {
    int n = c > 1 ? atoi(v[1]) : 1;
    for (int i = 1; i < n; i++) if (fork() == 0) break;
    volatile unsigned long x = 0;
    for (;;) x++;
}
""",
        [],
    ),
    # burn argv[1] seconds of CPU, then exit 0
    "burn": (
        r"""
#include <stdlib.h>
#include <time.h>
int main(int c, char** v) {
    double s = atof(v[1]);
    volatile unsigned long x = 0;
    while ((double)clock() / CLOCKS_PER_SEC < s) x++;
    return 0;
}
""",
        [],
    ),
    "sleep": (
        r"""
#include <stdlib.h>
#include <time.h>
int main(int c, char** v) {
    double s = atof(v[1]);
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {}
    return 0;
}
""",
        [],
    ),
    # allocate and touch argv[1] MiB in argv[2] processes (default 1); exit 3 when malloc fails
    "alloc": (
        r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int c, char** v) {
    long mb = atol(v[1]);
    int procs = c > 2 ? atoi(v[2]) : 1;
    int done[2], go[2], child = 0;
    if (pipe(done) || pipe(go)) return 4;
    for (int i = 1; i < procs; i++) if (fork() == 0) { child = 1; break; }
    close(child ? go[1] : done[1]);  /* so a process that dies is an end of file to the others */
    char* p = malloc((size_t)mb << 20);
    if (!p) { printf("malloc failed\n"); return 3; }
    memset(p, 1, (size_t)mb << 20);
    /* every process holds its memory until all have touched theirs, so they overlap on a busy machine */
    char b;
    if (child) {
        if (write(done[1], "x", 1) != 1) return 4;
        close(done[1]);
        if (read(go[0], &b, 1) < 0) return 4;
        return 0;
    }
    for (int i = 1; i < procs; i++) if (read(done[0], &b, 1) != 1) break;  /* a child died (OOM) */
    close(go[1]);
    while (wait(NULL) > 0) {}
    printf("ok %ld\n", (long)p[12345]);
    return 0;
}
""",
        [],
    ),
    # 10^6-deep recursion (about 100 MB of stack): no tail call, no inlining
    "recurse": (
        r"""
#include <stdio.h>
#include <stdlib.h>
int depth(int n, volatile char* prev) {
    volatile char pad[64];
    pad[0] = (char)n;
    pad[63] = prev ? prev[0] : 0;
    if (n == 0) return pad[0];
    return depth(n - 1, pad) + pad[63] % 2;
}
int main(int c, char** v) {
    int n = c > 1 ? atoi(v[1]) : 1000000;
    printf("done %d\n", depth(n, 0) & 0);
    return 0;
}
""",
        ["-O0"],
    ),
    # a reaper like bubblewrap's monitor: runs argv[1..] as its child and exits with its status
    # (128+signal when the child was killed)
    "reaper": (
        r"""
#include <sys/wait.h>
#include <unistd.h>
int main(int c, char** v) {
    pid_t k = fork();
    if (k == 0) { execv(v[1], v + 1); _exit(127); }
    int st = 0;
    while (waitpid(k, &st, 0) < 0) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
""",
        [],
    ),
    # the network interfaces it sees: "name up|down" per line
    "ifaces": (
        r"""
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>
int main(void) {
    struct ifaddrs* ifs = 0;
    if (getifaddrs(&ifs) != 0) return 2;
    for (struct ifaddrs* i = ifs; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET)
            printf("%s %s\n", i->ifa_name, (i->ifa_flags & IFF_UP) ? "up" : "down");
    return 0;
}
""",
        [],
    ),
    # copy fd 3 to stdout; exit 5 if fd 3 is not open, 6 if fd 4 is open (it must not be)
    "fd3": (
        r"""
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    char buf[256];
    if (fcntl(3, F_GETFD) < 0) return 5;
    if (fcntl(4, F_GETFD) >= 0) return 6;
    ssize_t n;
    while ((n = read(3, buf, sizeof buf)) > 0) write(1, buf, n);
    return 0;
}
""",
        [],
    ),
    # write argv[1] bytes to stdout
    "writer": (
        r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int c, char** v) {
    long n = atol(v[1]);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    while (n > 0) { long k = n < 4096 ? n : 4096; if (write(1, buf, k) < 0) return 4; n -= k; }
    return 0;
}
""",
        [],
    ),
    # copy stdin to stdout, and "err" to stderr
    "cat": (
        r"""
#include <stdio.h>
int main(void) {
    int ch;
    while ((ch = getchar()) != EOF) putchar(ch);
    fputs("err\n", stderr);
    return 0;
}
""",
        [],
    ),
    # everything about the process the launcher set up, one "key value" per line
    "inspect": (
        r"""
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
extern char** environ;
static void lim(const char* name, int r) {
    struct rlimit l; getrlimit(r, &l);
    printf("%s %lld %lld\n", name, l.rlim_cur == RLIM_INFINITY ? -1LL : (long long)l.rlim_cur,
           l.rlim_max == RLIM_INFINITY ? -1LL : (long long)l.rlim_max);
}
int main(int argc, char** argv) {
    for (int i = 0; i < argc; i++) printf("argv %s\n", argv[i]);
    for (char** e = environ; *e; e++) printf("env %s\n", *e);
    char cwd[4096]; printf("cwd %s\n", getcwd(cwd, sizeof cwd));
    printf("ids %d %d %d %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), getgroups(0, NULL));
    printf("pid %d pgid %d sid %d\n", (int)getpid(), (int)getpgid(0), (int)getsid(0));
    struct sigaction sa; sigaction(SIGPIPE, NULL, &sa);
    printf("sigpipe_default %d\n", sa.sa_handler == SIG_DFL);
    sigaction(SIGINT, NULL, &sa);
    printf("sigint_default %d\n", sa.sa_handler == SIG_DFL);
    sigset_t m; sigprocmask(SIG_SETMASK, NULL, &m);
    int blocked = 0; for (int s = 1; s < 32; s++) blocked += sigismember(&m, s);
    printf("blocked %d\n", blocked);
    DIR* d = opendir("/proc/self/fd");
    struct dirent* e;
    while ((e = readdir(d))) if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) printf("fd %s\n", e->d_name);
    closedir(d);
    lim("stack", RLIMIT_STACK); lim("core", RLIMIT_CORE); lim("nofile", RLIMIT_NOFILE);
    lim("fsize", RLIMIT_FSIZE); lim("cpu", RLIMIT_CPU); lim("as", RLIMIT_AS); lim("nproc", RLIMIT_NPROC);
    FILE* f = fopen("/proc/self/cgroup", "r"); char line[512];
    while (f && fgets(line, sizeof line, f)) printf("cgroup %s", line);
    return 0;
}
""",
        [],
    ),
    # fork children that sleep until fork fails, print how many forks succeeded, exit
    "fork_until_fail": (
        r"""
#include <stdio.h>
#include <unistd.h>
int main(void) {
    int n = 0;
    for (; n < 100000; n++) {
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0) { sleep(1000); _exit(0); }
    }
    printf("%d\n", n);
    fflush(stdout);
    return 0;
}
""",
        [],
    ),
    # the classic fork bomb
    "forkbomb": (
        "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n",
        [],
    ),
    # a grandchild leaves the session and process group and lives on: only a cgroup holds it
    "escape": (
        r"""
#include <unistd.h>
int main(void) {
    if (fork() == 0) { setsid(); if (fork() == 0) { sleep(1000); _exit(0); } _exit(0); }
    sleep(1);  /* let it escape */
    return 0;
}
""",
        [],
    ),
    # a child in our process group outlives us
    "orphan": (
        r"""
#include <unistd.h>
int main(void) {
    if (fork() == 0) { sleep(1000); _exit(0); }
    usleep(100000);
    return 0;
}
""",
        [],
    ),
}


@pytest.fixture(scope="session")
def native():
    return _native


@pytest.fixture(scope="session")
def cg(native):
    """cgroup_setup() result (version 0 when the machine gives us no cgroups)."""
    return native.cgroup_setup()


@pytest.fixture
def need_cgroup(cg):
    if cg["version"] == 0:
        pytest.skip(f"no usable cgroups: {cg['reason']}")
    return cg


@pytest.fixture(scope="session")
def progs() -> dict[str, str]:
    """Compiled test programs: name -> absolute path (world-executable)."""
    if shutil.which("g++") is None:
        pytest.skip("g++ not available")
    root = tempfile.mkdtemp(prefix="ioi-native-progs-")
    os.chmod(root, 0o755)
    out = {}
    for name, (src, flags) in PROGRAMS.items():
        c = Path(root) / f"{name}.c"
        c.write_text(src)
        exe = Path(root) / name
        opt = [] if "-O0" in flags else ["-O2"]
        subprocess.run(["g++", "-x", "c", *opt, *flags, str(c), "-x", "none", "-o", str(exe)], check=True)
        os.chmod(exe, 0o755)
        out[name] = str(exe)
    yield out
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def public_tmp():
    """A temp dir anyone may write to (for runs under a dropped uid)."""
    d = tempfile.mkdtemp(prefix="ioi-native-")
    os.chmod(d, stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO | stat.S_ISVTX)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def _pgrep(pattern: str) -> list[int]:
    """pids whose command line contains `pattern` (fixed string), excluding pgrep itself."""
    r = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


def _run_groups(cg: dict) -> list[str]:
    """Per-run child groups currently present under our parent groups."""
    found = []
    for path in set(cg.get("paths", {}).values()):
        if os.path.isdir(path):
            found += [os.path.join(path, d) for d in os.listdir(path) if os.path.isdir(os.path.join(path, d))]
    return found


@pytest.fixture(scope="session")
def pgrep():
    return _pgrep


@pytest.fixture(scope="session")
def run_groups(cg):
    return lambda: _run_groups(cg)
