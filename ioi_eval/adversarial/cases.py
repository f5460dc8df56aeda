r"""The hostile (and a few well-behaved) programs of the adversarial suite.

Every case is judged as an ordinary submission to a tiny Batch problem that the suite builds
itself: read two integers ``a b`` from stdin, print ``a + b`` (TL 1 s, ML 256 MiB). A well-behaved
program is therefore AC, and the verdict a hostile program gets is the one a correct IOI judge must
give. Programs that probe a protection print the answer *only if the protection held*; when it did
not, they write ``LEAK <what>`` to stderr and exit 3, so a broken protection shows as RE with the
leak in the judge's message.

Sources may name things of this very run through ``@NAME@`` placeholders (the loopback ports the
suite listens on, the package folder holding the expected outputs, the harness's pid and working
directory...): see :meth:`ioi_eval.adversarial.context.SuiteInfo.placeholders`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..judge.results import Verdict
from .context import EVIL_PREFIX, SECRET_MARK, CheckContext

AC, WA, TLE, MLE, RE, OLE, CE = (Verdict.AC, Verdict.WA, Verdict.TLE, Verdict.MLE, Verdict.RE, Verdict.OLE,
                                  Verdict.CE)

Check = Callable[[CheckContext], list[str]]
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")


@dataclass(frozen=True)
class Case:
    """One program of the suite and the verdicts a correct judge may give it."""

    name: str
    language: str  # "cpp" | "python"
    source: str  # may hold @NAME@ placeholders, see SuiteInfo.placeholders()
    expected: frozenset[Verdict]
    about: str = ""  # one line: what the program attacks
    stdin_note: str | None = None  # what the program does with its input, when not just "reads a b"
    check: Check | None = field(default=None, compare=False)  # case-specific safety properties

    def render(self, values: dict[str, str]) -> str:
        """The source with its placeholders filled in; an unknown placeholder is a bug."""
        unknown = sorted({m for m in _PLACEHOLDER.findall(self.source) if m not in values})
        if unknown:
            raise ValueError(f"case {self.name}: unknown placeholders {unknown}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.source)


# -- source helpers ----------------------------------------------------------------------------

_CPP_PRELUDE = r"""
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static long long A, B;
static int leaks = 0;
[[maybe_unused]] static void read_input() { if (scanf("%lld %lld", &A, &B) != 2) A = B = 0; }
[[maybe_unused]] static void answer() { printf("%lld\n", A + B); fflush(stdout); }
// A protection did not hold: say what on stderr (the judge keeps its head in an RE message).
[[maybe_unused]] static void leak(const char* what, const char* detail) {
    fprintf(stderr, "LEAK %s: %s\n", what, detail);
    fflush(stderr);
    leaks++;
}
// Print the answer only if every protection held; otherwise exit 3 (RE, with the leaks).
[[maybe_unused]] static int finish() {
    if (leaks) return 3;
    answer();
    return 0;
}
"""

_PY_PRELUDE = r"""
import os
import sys

A, B = map(int, sys.stdin.read().split())
LEAKS = []


def leak(what, detail=""):
    LEAKS.append(f"LEAK {what}: {detail}")


def finish():
    if LEAKS:
        sys.stderr.write("\n".join(LEAKS) + "\n")
        sys.exit(3)
    print(A + B)
"""


def _cpp(body: str, includes: str = "") -> str:
    return includes.strip() + "\n" + _CPP_PRELUDE + body.strip() + "\n"


def _py(body: str) -> str:
    return _PY_PRELUDE + body.strip() + "\n"


def _case(name: str, language: str, source: str, expected: Iterable[Verdict], about: str,
          check: Check | None = None, stdin_note: str | None = None) -> Case:
    return Case(name=name, language=language, source=source, expected=frozenset(expected), about=about,
                check=check, stdin_note=stdin_note)


# -- extra checks ------------------------------------------------------------------------------

def _no_host_paths(*templates: str) -> Check:
    """The program tried to create these (templated) paths: none may exist on the host."""

    def check(ctx: CheckContext) -> list[str]:
        values = ctx.info.placeholders()
        found = []
        for t in templates:
            p = Path(_PLACEHOLDER.sub(lambda m: values[m.group(1)], t))
            if p.exists() or p.is_symlink():
                found.append(f"created on the host: {p}")
                p.unlink(missing_ok=True)  # evidence noted; do not blame later cases for it
        return found

    return check


def _no_host_glob(folder: str, pattern: str) -> Check:
    """Nothing matching ``pattern`` may appear in ``folder`` on the host (e.g. the host's /tmp)."""

    def check(ctx: CheckContext) -> list[str]:
        found = [str(p) for p in Path(folder).glob(pattern)]
        return [f"the program's files reached the host: {', '.join(found[:5])}"] if found else []

    return check


def _messages_lack_secrets(ctx: CheckContext) -> list[str]:
    text = ctx.messages()
    bad = [name for name, value in ctx.info.secrets.items() if value in text]
    if SECRET_MARK in text and not bad:
        bad.append(SECRET_MARK)
    return [f"the judge's messages show secrets: {', '.join(bad)}"] if bad else []


def _messages_lack_answers(ctx: CheckContext) -> list[str]:
    text = ctx.messages()
    shown = [name for name, out in ctx.info.answers.items() if out.strip() and out.strip() in text]
    return [f"the judge's messages show the expected output of {', '.join(shown)}"] if shown else []


def _messages_bounded(limit: int) -> Check:
    def check(ctx: CheckContext) -> list[str]:
        if ctx.report is None:
            return []
        sizes = [len(ctx.report.compile.message), *(len(t.message) for t in ctx.report.tests)]
        return [f"a judge message of {max(sizes)} characters (> {limit})"] if max(sizes) > limit else []

    return check


def _all(*checks: Check) -> Check:
    def check(ctx: CheckContext) -> list[str]:
        return [p for c in checks for p in c(ctx)]

    return check


# -- the cases ---------------------------------------------------------------------------------

CONTROLS = [
    _case("control-cpp", "cpp", _cpp("int main() { read_input(); answer(); }"), {AC},
          "well-behaved C++ a+b"),
    _case("control-python", "python", "a, b = map(int, input().split())\nprint(a + b)\n", {AC},
          "well-behaved Python a+b"),
    _case("control-memory-threads", "cpp", _cpp(r"""
int main() {
    read_input();
    const size_t n = size_t(200) << 20;          // 200 MiB, every page touched
    std::vector<char> v(n, 1);
    long long sums[4] = {0, 0, 0, 0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; t++)
        workers.emplace_back([&v, &sums, n, t] {
            for (size_t i = size_t(t) * 4096; i < n; i += 4 * 4096) sums[t] += v[i];
        });
    for (auto& w : workers) w.join();
    if (sums[0] + sums[1] + sums[2] + sums[3] != (long long)(n / 4096)) return 1;
    answer();
}
""", "#include <thread>\n#include <vector>"), {AC}, "legitimately uses 200 MB of memory and 4 threads"),
]

LIMIT_CASES = [
    _case("fork-bomb", "cpp", _cpp("int main() { read_input(); for (;;) fork(); }"), {TLE},
          "forks forever, ignoring failures"),
    _case("thread-bomb", "cpp", _cpp(r"""
static void* spin(void*) { volatile unsigned long x = 0; for (;;) x++; return nullptr; }
int main() {
    read_input();
    for (;;) { pthread_t t; pthread_create(&t, nullptr, spin, nullptr); }
}
""", "#include <pthread.h>"), {TLE}, "starts spinning threads forever"),
    _case("cpu-spin", "cpp", _cpp("int main() { read_input(); volatile unsigned long x = 0; for (;;) x++; }"),
          {TLE}, "spins on the CPU"),
    _case("sleep", "cpp", _cpp("int main() { read_input(); sleep(100); answer(); }"), {TLE},
          "sleeps: only the wall-clock backstop ends it"),
    _case("pause", "cpp", _cpp("int main() { read_input(); pause(); answer(); }"), {TLE},
          "waits for a signal that never comes"),
    _case("sigstop", "cpp", _cpp("int main() { read_input(); raise(SIGSTOP); answer(); }"), {TLE},
          "stops itself"),
    _case("ignore-signals", "cpp", _cpp(r"""
int main() {
    read_input();
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_IGN);
    volatile unsigned long x = 0;
    for (;;) x++;
}
"""), {TLE}, "ignores every catchable signal (SIGXCPU, SIGTERM...) and spins"),
    _case("tree-cpu", "cpp", _cpp(r"""
static void burn(double seconds) {
    timespec t;
    do clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); while (t.tv_sec + t.tv_nsec * 1e-9 < seconds);
}
int main() {
    read_input();
    for (int i = 0; i < 3; i++) if (fork() == 0) { burn(0.6); _exit(0); }
    burn(0.6);
    while (wait(nullptr) > 0) {}
    answer();
}
""", "#include <ctime>"), {TLE}, "4 processes × 0.6 s CPU: the tree's CPU time exceeds the TL"),
    _case("heap-bomb", "cpp", _cpp(r"""
int main() {
    read_input();
    for (;;) {
        volatile char* p = (volatile char*)malloc(1 << 20);
        if (p) for (int i = 0; i < (1 << 20); i += 4096) p[i] = 1;
    }
}
"""), {MLE}, "allocates and touches heap memory forever"),
    _case("static-array-bomb", "cpp", _cpp(r"""
static char big[1 << 30];
int main() {
    read_input();
    for (int i = 0; i < (1 << 30); i += 4096) big[i] = 1;
    printf("%d\n", big[12345 * 4096]);
}
"""), {MLE}, "touches every page of a 1 GiB static array"),
    _case("mmap-bomb", "cpp", _cpp(r"""
int main() {
    read_input();
    for (;;) {
        void* p = mmap(nullptr, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) for (int i = 0; i < (16 << 20); i += 4096) ((volatile char*)p)[i] = 1;
    }
}
""", "#include <sys/mman.h>"), {MLE}, "maps and touches anonymous memory forever"),
    _case("stack-bomb", "cpp", _cpp(r"""
static int down(int n) { volatile char pad[1024]; pad[0] = char(n); return down(n + 1) + pad[0]; }
int main() { read_input(); return down(0); }
""", "#pragma GCC diagnostic ignored \"-Winfinite-recursion\""), {MLE, RE},
          "recurses forever on an unlimited stack"),
    _case("tree-memory", "cpp", _cpp(r"""
static void eat() {
    const size_t n = size_t(100) << 20;
    volatile char* p = (volatile char*)malloc(n);
    if (p) for (size_t i = 0; i < n; i += 4096) p[i] = 1;  // volatile: the pages are really touched
    usleep(800000);
}
int main() {
    read_input();
    for (int i = 0; i < 3; i++) if (fork() == 0) { eat(); _exit(0); }
    eat();
    while (wait(nullptr) > 0) {}
    answer();
}
"""), {MLE}, "4 processes × 100 MiB: the tree's memory exceeds the ML"),
    _case("deep-recursion", "cpp", _cpp(r"""
static long long f(int n) { volatile char pad[64]; pad[0] = 1; return n ? f(n - 1) + pad[0] : 0; }
int main() { read_input(); if (f(1000000) != 1000000) return 1; answer(); }
"""), {AC}, "legitimate recursion 10^6 deep"),
    _case("memory-plus-output", "cpp", _cpp(r"""
int main() {
    read_input();
    const size_t n = size_t(180) << 20;
    volatile char* p = (volatile char*)malloc(n);
    if (!p) return 1;
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    static char block[1 << 16];
    memset(block, 'e', sizeof block);
    for (int i = 0; i < 150 * 16; i++) fwrite(block, 1, sizeof block, stderr);  // 150 MiB
    answer();
}
"""), {AC}, "180 MiB of memory plus 150 MiB written: the output's page cache is not the program's memory"),
    _case("big-wrong-output", "cpp", _cpp(r"""
int main() {
    read_input();
    static char block[1 << 16];
    memset(block, '7', sizeof block);
    for (int i = 0; i < 200 * 16; i++) fwrite(block, 1, sizeof block, stdout);  // one 200 MiB line
    return 0;
}
"""), {WA}, "one 200 MiB line of output, under the output cap: the checker copes, WA"),
    _case("stdout-flood", "cpp", _cpp(r"""
int main() {
    read_input();
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    for (;;) fwrite(block, 1, sizeof block, stdout);
}
"""), {OLE}, "writes to stdout forever", check=_messages_bounded(4096)),
    _case("stderr-flood", "cpp", _cpp(r"""
int main() {
    read_input();
    answer();
    static char block[1 << 16];
    memset(block, 'e', sizeof block);
    for (;;) fwrite(block, 1, sizeof block, stderr);
}
"""), {AC, OLE}, "prints the answer, then writes to stderr forever", check=_messages_bounded(4096)),
    _case("file-2gb", "cpp", _cpp(r"""
int main() {
    read_input();
    FILE* f = fopen("big.bin", "w");
    if (!f) return 7;
    static char block[1 << 20];
    for (int i = 0; i < 2048; i++)
        if (fwrite(block, 1, sizeof block, f) != sizeof block) return 7;
    fclose(f);
    answer();
}
"""), {OLE, RE}, "writes a 2 GiB file in its working folder"),
    _case("fill-tmp", "cpp", _cpp(r"""
int main() {
    read_input();
    static char block[1 << 16];
    for (int i = 0;; i++) {
        char name[64];
        snprintf(name, sizeof name, "/tmp/ioi-adv-fill-%d", i);
        FILE* f = fopen(name, "w");
        if (!f) break;
        size_t w = fwrite(block, 1, sizeof block, f);
        if (fclose(f) != 0 || w < sizeof block) break;
    }
    answer();
}
"""), {AC}, "fills /tmp, then answers", check=_no_host_glob("/tmp", "ioi-adv-fill-*")),
    _case("fill-root-tmpfs", "cpp", _cpp(r"""
int main() {
    read_input();
    static char block[1 << 20];
    memset(block, 1, sizeof block);
    for (int i = 0; i < 4096; i++) {
        char name[64];
        snprintf(name, sizeof name, "/@EVIL@-fill-%d", i);
        FILE* f = fopen(name, "w");
        if (!f) break;
        size_t w = fwrite(block, 1, sizeof block, f);
        if (fclose(f) != 0 || w < sizeof block) break;
    }
    answer();
}
"""), {MLE, AC}, "fills the sandbox's root file system (up to 4 GiB), then answers",
          check=_no_host_glob("/", f"{EVIL_PREFIX}-fill-*")),
    _case("many-open-files", "cpp", _cpp(r"""
int main() {
    read_input();
    int n = 0;
    while (open("/dev/null", O_RDONLY) >= 0 && n < 10000000) n++;
    answer();
}
"""), {AC, RE}, "opens files until it cannot"),
]

FILE_CASES = [
    _case("read-etc-passwd", "cpp", _cpp(r"""
int main() {
    read_input();
    const char* files[] = {"/etc/passwd", "/etc/shadow", "/etc/hostname", "/root/.bashrc", "/root/.ssh/id_rsa"};
    for (const char* f : files) if (FILE* h = fopen(f, "r")) { leak("readable", f); fclose(h); }
    const char* dirs[] = {"/root", "/home", "/etc", "/var", "/srv", "/mnt", "/opt"};
    for (const char* d : dirs) if (DIR* h = opendir(d)) { leak("listable", d); closedir(h); }
    return finish();
}
""", "#include <dirent.h>"), {AC}, "reads the host's /etc/passwd, /etc/shadow, /root"),
    _case("read-expected-output", "cpp", _cpp(r"""
static std::string expected;
static int visit(const char* path, const struct stat* st, int type, struct FTW*) {
    static const char* skip[] = {"/proc", "/sys", "/dev", "/usr"};
    if (type == FTW_D) {
        for (const char* s : skip) if (!strcmp(path, s)) return FTW_SKIP_SUBTREE;
        return FTW_CONTINUE;
    }
    if (type == FTW_F && st->st_size > 0 && st->st_size <= 256) {
        if (FILE* f = fopen(path, "r")) {
            char buf[300];
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            if (std::string(buf, n) == expected) leak("a file holds the expected output", path);
        }
    }
    return FTW_CONTINUE;
}
int main() {
    read_input();
    expected = std::to_string(A + B) + "\n";
    std::vector<std::string> patterns = {
        "../*.out", "../tests/*", "/tests/*", "/box/tests/*", "/box/*.out", "/*.out",
        "@PACKAGE_DIR@", "@PACKAGE_DIR@/tests/*", "@BOX_ROOT@", "@BOX_ROOT@/blobs/*", "@CACHE_DIR@",
        "/tmp/ioi-eval-*", "/tmp/ioi-eval-*/*/blobs/*", "/tmp/ioi-adv-*", "/root/.cache/ioi-eval/*",
    };
    char target[4096];
    ssize_t n = readlink("/proc/self/fd/0", target, sizeof target - 1);
    if (n > 0) {  // the host path of stdin: its folder holds every stored file, expected outputs included
        target[n] = 0;
        std::string dir(target);
        patterns.push_back(dir.substr(0, dir.rfind('/')) + "/*");
    }
    for (const auto& p : patterns) {
        glob_t g;
        if (glob(p.c_str(), 0, nullptr, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc; i++) leak("visible", g.gl_pathv[i]);
        globfree(&g);
    }
    nftw("/", visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    return finish();
}
""", "#include <ftw.h>\n#include <glob.h>\n#include <string>\n#include <vector>"), {AC},
          "hunts for the expected output: ../*.out, /tests, the package, the box root, the cache, stdin's folder",
          check=_messages_lack_answers),
    _case("proc-other-processes", "cpp", _cpp(r"""
int main() {
    read_input();
    int seen = 0;
    DIR* d = opendir("/proc");
    if (!d) return finish();
    while (dirent* e = readdir(d)) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        seen++;
        char path[300], line[512];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (FILE* f = fopen(path, "r")) {
            while (fgets(line, sizeof line, f))
                if (!strncmp(line, "Uid:", 4) && strtoul(line + 4, nullptr, 10) != getuid())
                    leak("a process of another user", e->d_name);
            fclose(f);
        }
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        if (FILE* f = fopen(path, "r")) {
            size_t n = fread(line, 1, sizeof line - 1, f);
            fclose(f);
            for (size_t i = 0; i < n; i++) if (!line[i]) line[i] = ' ';
            line[n] = 0;
            // (pid 1 is the sandbox's own init: its command line names host paths, which is no access)
            if (strstr(line, "python") || strstr(line, "pytest") || strstr(line, "ioi_eval") || strstr(line, "doctor"))
                leak("a harness process", line);
        }
    }
    closedir(d);
    char mine[64];
    snprintf(mine, sizeof mine, "%d processes", seen);
    if (seen > 3) leak("more than its own sandbox's processes", mine);
    if (access("/proc/@HARNESS_PID@/environ", F_OK) == 0) leak("the harness pid exists", "@HARNESS_PID@");
    return finish();
}
""", "#include <cctype>\n#include <dirent.h>"), {AC}, "lists /proc: only its own pid namespace may be visible"),
    _case("env-tokens", "cpp", _cpp(r"""
extern char** environ;
static void scan(const char* entry) {
    const char* words[] = {"TOKEN", "KEY", "SECRET", "PASS", "FAKE", "@SECRET_MARK@"};
    for (const char* w : words) if (strcasestr(entry, w)) { leak("secret in the environment", entry); return; }
}
int main() {
    read_input();
    for (char** e = environ; *e; e++) scan(*e);
    if (FILE* f = fopen("/proc/1/environ", "r")) {
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1) scan(buf + i);
    }
    return finish();
}
"""), {AC}, "looks for the harness's tokens in its environment and in pid 1's",
          check=_messages_lack_secrets),
    _case("write-outside", "cpp", _cpp(r"""
static void try_create(const char* path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) { leak("created", path); close(fd); }
}
static void try_write(const char* path) {
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd >= 0) { leak("writable", path); close(fd); }
}
int main() {
    read_input();
    const char* create[] = {"/usr/@EVIL@", "/usr/bin/@EVIL@", "/etc/@EVIL@", "/root/@EVIL@",
                            "@HARNESS_CWD@/@EVIL@", "@CANARY_DIR@/@EVIL@", "@PACKAGE_DIR@/@EVIL@",
                            "/proc/@EVIL@", "/box/prog.@EVIL@/x"};
    for (const char* p : create) try_create(p);
    const char* write_to[] = {"@PACKAGE_DIR@/tests/1-01.out", "@CANARY_DIR@/canary.txt", "/proc/sysrq-trigger",
                              "/proc/sys/kernel/hostname", "/proc/self/fd/0", "/box/prog", "/usr/bin/true"};
    for (const char* p : write_to) try_write(p);
    if (write(0, "x", 1) == 1) leak("stdin is writable", "fd 0");
    return finish();
}
"""), {AC}, "creates or writes files outside its folder: /usr, /etc, /root, the harness cwd, stdin, the package",
          check=_no_host_paths("/usr/@EVIL@", "/usr/bin/@EVIL@", "/etc/@EVIL@", "/root/@EVIL@",
                               "@HARNESS_CWD@/@EVIL@", "@CANARY_DIR@/@EVIL@", "@PACKAGE_DIR@/@EVIL@")),
    _case("chmod-chown", "cpp", _cpp(r"""
int main() {
    read_input();
    if (chmod("/box/prog", 04777) == 0) leak("chmod", "/box/prog");
    if (chown("/box/prog", getuid(), getgid()) == 0) leak("chown", "/box/prog");
    if (chmod("/usr/bin/true", 04777) == 0) leak("chmod", "/usr/bin/true");
    if (fchmod(0, 0666) == 0) leak("fchmod", "stdin");
    if (fchown(0, getuid(), getgid()) == 0) leak("fchown", "stdin");
    if (fchmod(1, 04777) == 0) leak("fchmod", "stdout");
    if (chmod("/proc/self/fd/0", 0666) == 0) leak("chmod", "/proc/self/fd/0");
    return finish();
}
"""), {AC}, "changes the mode or owner of its bound files, stdin and stdout"),
    _case("mknod", "cpp", _cpp(r"""
int main() {
    read_input();
    if (mknod("/tmp/@EVIL@-null", S_IFCHR | 0666, makedev(1, 3)) == 0) leak("mknod", "char device 1:3");
    if (mknod("/tmp/@EVIL@-mem", S_IFCHR | 0666, makedev(1, 1)) == 0) leak("mknod", "/dev/mem (1:1)");
    if (mknod("/box/@EVIL@-vda", S_IFBLK | 0666, makedev(253, 0)) == 0) leak("mknod", "block device 253:0");
    return finish();
}
""", "#include <sys/sysmacros.h>"), {AC}, "creates device nodes",
          check=_no_host_glob("/tmp", f"{EVIL_PREFIX}-*")),
    _case("persist-between-runs", "cpp", _cpp(r"""
static const char* dirs[] = {"/tmp", "/box", "/dev/shm", "/"};
static char mine[64];
static void look() {
    for (const char* d : dirs)
        if (DIR* h = opendir(d)) {
            while (dirent* e = readdir(h))
                if (!strncmp(e->d_name, "ioi-adv-mark-", 13) && strcmp(e->d_name, mine)) leak("another run's file", d);
            closedir(h);
        }
}
int main() {
    read_input();
    unsigned r = 0;
    if (FILE* u = fopen("/dev/urandom", "r")) { if (fread(&r, sizeof r, 1, u) != 1) r = 0; fclose(u); }
    snprintf(mine, sizeof mine, "ioi-adv-mark-%u", r);
    look();
    for (const char* d : dirs) {
        std::string p = std::string(d) + (d[1] ? "/" : "") + mine;
        if (FILE* f = fopen(p.c_str(), "w")) fclose(f);
    }
    usleep(300000);  // the other test of this case runs meanwhile: it must not see these files
    look();
    return finish();
}
""", "#include <dirent.h>\n#include <string>"), {AC}, "leaves files for the next (or concurrent) run to find"),
    _case("sysv-ipc-shared", "cpp", _cpp(r"""
int main() {
    read_input();
    // Both tests of the case run at once: with a shared IPC namespace one would find the other's segment.
    int id = shmget(0x10ad5eed, 4096, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0 && errno == EEXIST) leak("another run's SysV shared memory", "key 0x10ad5eed");
    usleep(300000);
    if (id >= 0) shmctl(id, IPC_RMID, nullptr);
    return finish();
}
""", "#include <sys/ipc.h>\n#include <sys/shm.h>"), {AC}, "finds a concurrent run's SysV shared memory"),
    _case("inherited-fds", "cpp", _cpp(r"""
int main() {
    read_input();
    DIR* d = opendir("/proc/self/fd");
    if (!d) return finish();
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == dirfd(d)) continue;
        char path[64], target[4096] = {0};
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (readlink(path, target, sizeof target - 1) < 0) strcpy(target, "?");
        leak("a file descriptor inherited from the harness", target);
    }
    closedir(d);
    return finish();
}
""", "#include <dirent.h>"), {AC}, "looks for file descriptors leaked from the harness"),
    _case("raw-devices", "cpp", _cpp(r"""
int main() {
    read_input();
    const char* devs[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/proc/kcore", "/dev/core",
                          "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/tty", "/dev/console", "/dev/fuse",
                          "/dev/input/event0", "/dev/net/tun", "/dev/kvm"};
    for (const char* d : devs) {
        int fd = open(d, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd >= 0) { leak("opened", d); close(fd); }
    }
    return finish();
}
"""), {AC}, "opens raw devices: /dev/mem, disks, /dev/kmsg, /proc/kcore, the terminal"),
]

NETWORK_CASES = [
    _case("tcp-connect", "cpp", _cpp(r"""
int main() {
    read_input();
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(@TCP_PORT@);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (s >= 0 && connect(s, (sockaddr*)&a, sizeof a) == 0) {
        if (write(s, "hello", 5) < 0) {}
        leak("connected", "to the suite's TCP listener on the host's 127.0.0.1");
    }
    return finish();
}
""", "#include <arpa/inet.h>\n#include <netinet/in.h>\n#include <sys/socket.h>"), {AC},
          "connects to a TCP listener on the host's loopback"),
    _case("udp-send", "cpp", _cpp(r"""
int main() {
    read_input();
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(@UDP_PORT@);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    for (int i = 0; i < 5; i++) if (sendto(s, "hello", 5, 0, (sockaddr*)&a, sizeof a) < 0) {}
    return finish();
}
""", "#include <arpa/inet.h>\n#include <netinet/in.h>\n#include <sys/socket.h>"), {AC},
          "sends datagrams to a UDP listener on the host's loopback"),
    _case("unix-abstract", "cpp", _cpp(r"""
int main() {
    read_input();
    const char* name = "@UNIX_NAME@";
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un u{};
    u.sun_family = AF_UNIX;
    memcpy(u.sun_path + 1, name, strlen(name));
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + strlen(name));
    if (s >= 0 && connect(s, (sockaddr*)&u, len) == 0) leak("connected", "to the suite's abstract unix socket");
    return finish();
}
""", "#include <cstddef>\n#include <sys/socket.h>\n#include <sys/un.h>"), {AC},
          "connects to an abstract unix socket of the host's network namespace"),
    _case("network-interfaces", "cpp", _cpp(r"""
int main() {
    read_input();
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
        for (ifaddrs* i = ifs; i; i = i->ifa_next) {
            if (strcmp(i->ifa_name, "lo")) leak("an interface other than lo", i->ifa_name);
            else if (i->ifa_flags & IFF_UP) leak("loopback is up", i->ifa_name);
        }
        freeifaddrs(ifs);
    }
    return finish();
}
""", "#include <ifaddrs.h>\n#include <net/if.h>"), {AC}, "enumerates network interfaces: only lo, down"),
]

PROCESS_CASES = [
    _case("kill-parent", "cpp", _cpp(r"""
int main() {
    read_input();
    kill(getppid(), SIGKILL);
    kill(1, SIGKILL);
    kill(1, SIGTERM);
    usleep(200000);
    answer();
}
"""), {AC, RE}, "kills its parent and pid 1"),
    _case("kill-all", "cpp", _cpp(r"""
int main() {
    read_input();
    kill(-1, SIGKILL);
    kill(-1, SIGTERM);
    usleep(100000);
    answer();
}
"""), {AC}, "kill(-1, SIGKILL): every process it may signal"),
    _case("ptrace-init", "cpp", _cpp(r"""
int main() {
    read_input();
    if (ptrace(PTRACE_ATTACH, 1, nullptr, nullptr) == 0) {
        int st;
        waitpid(1, &st, __WALL);
        ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
        leak("ptrace(PTRACE_ATTACH) succeeded", "pid 1");
    }
    if (ptrace(PTRACE_SEIZE, 1, nullptr, nullptr) == 0) {
        ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
        leak("ptrace(PTRACE_SEIZE) succeeded", "pid 1");
    }
    return finish();
}
""", "#include <sys/ptrace.h>"), {AC}, "ptrace-attaches pid 1"),
    _case("ptrace-harness", "cpp", _cpp(r"""
int main() {
    read_input();
    const pid_t harness = @HARNESS_PID@;  // the harness's pid as the host sees it
    if (ptrace(PTRACE_ATTACH, harness, nullptr, nullptr) == 0) {
        ptrace(PTRACE_DETACH, harness, nullptr, nullptr);
        leak("ptrace(PTRACE_ATTACH) succeeded", "the harness's pid");
    }
    char buf[16];
    iovec local{buf, sizeof buf}, remote{(void*)0x400000, sizeof buf};
    if (process_vm_readv(harness, &local, 1, &remote, 1, 0) > 0) leak("process_vm_readv succeeded", "harness");
    if (kill(harness, 0) == 0) leak("can signal", "the harness's pid");
    return finish();
}
""", "#include <sys/ptrace.h>\n#include <sys/uio.h>"), {AC}, "ptrace-attaches and signals the harness's host pid"),
    _case("setsid-daemon", "cpp", _cpp(r"""
int main() {
    read_input();
    answer();
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (fork() == 0) {
            for (int s = 1; s < 32; s++) signal(s, SIG_IGN);
            for (;;) sleep(1);
        }
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    return 0;
}
"""), {AC}, "leaves a double-forked setsid daemon behind"),
    _case("orphan-spinner", "cpp", _cpp(r"""
int main() {
    read_input();
    if (fork() == 0) { setsid(); volatile unsigned long x = 0; for (;;) x++; }
    answer();
    return 0;
}
"""), {AC}, "leaves an orphan spinning on the CPU after answering"),
    _case("setrlimit-raise", "cpp", _cpp(r"""
int main() {
    read_input();
    struct { int resource; const char* name; } limits[] = {
        {RLIMIT_NPROC, "NPROC"}, {RLIMIT_FSIZE, "FSIZE"}, {RLIMIT_CPU, "CPU"}, {RLIMIT_NOFILE, "NOFILE"},
        {RLIMIT_AS, "AS"}, {RLIMIT_DATA, "DATA"}, {RLIMIT_MEMLOCK, "MEMLOCK"}, {RLIMIT_NICE, "NICE"},
        {RLIMIT_RTPRIO, "RTPRIO"}};
    for (auto& l : limits) {
        rlimit cur;
        if (getrlimit(l.resource, &cur) != 0 || cur.rlim_max == RLIM_INFINITY) continue;
        rlimit more{RLIM_INFINITY, RLIM_INFINITY};
        if (setrlimit(l.resource, &more) == 0) leak("raised the hard limit", l.name);
    }
    return finish();
}
""", "#include <sys/resource.h>"), {AC}, "raises its hard resource limits"),
    _case("raise-priority", "cpp", _cpp(r"""
int main() {
    read_input();
    if (setpriority(PRIO_PROCESS, 0, -20) == 0) leak("raised its priority", "nice -20");
    sched_param sp{};
    sp.sched_priority = 1;
    if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0) leak("real-time scheduling", "SCHED_FIFO");
    return finish();
}
""", "#include <sched.h>\n#include <sys/resource.h>"), {AC}, "raises its CPU priority (nice -20, SCHED_FIFO)"),
    _case("exec-shell", "cpp", _cpp(r"""
int main() {
    const char* script =
        "if cat /etc/passwd >/dev/null 2>&1 || ls /root >/dev/null 2>&1; then echo LEAK >&2; exit 3; fi;"
        "read a b; echo $((a + b))";
    execl("/bin/sh", "sh", "-c", script, (char*)nullptr);
    return 9;
}
"""), {AC}, "execs /bin/sh, which reads /etc/passwd and /root, then answers",
          stdin_note="the shell reads a b itself"),
    _case("user-namespace", "cpp", _cpp(r"""
int main() {
    read_input();
    struct { int flag; const char* name; } kinds[] = {
        {CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mount"}, {CLONE_NEWNET, "net"}, {CLONE_NEWPID, "pid"},
        {CLONE_NEWUTS, "uts"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWCGROUP, "cgroup"}};
    for (auto& k : kinds) {
        pid_t c = fork();
        if (c == 0) _exit(unshare(k.flag) == 0 ? 0 : 1);
        int st = 0;
        waitpid(c, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) leak("unshare succeeded", k.name);
    }
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    if (r > 0) { waitpid(pid_t(r), nullptr, 0); leak("clone(CLONE_NEWUSER) succeeded", "user"); }
    return finish();
}
""", "#include <sched.h>\n#include <sys/syscall.h>"), {AC}, "creates namespaces: unshare(...), clone(CLONE_NEWUSER)"),
    _case("mount", "cpp", _cpp(r"""
int main() {
    read_input();
    if (mount("none", "/tmp", "tmpfs", 0, "") == 0) leak("mount", "tmpfs on /tmp");
    if (mount(nullptr, "/usr", nullptr, MS_REMOUNT | MS_BIND, nullptr) == 0) leak("remount", "/usr read-write");
    if (umount2("/usr", MNT_DETACH) == 0) leak("umount", "/usr");
    if (chroot("/tmp") == 0) leak("chroot", "/tmp");
    return finish();
}
""", "#include <sys/mount.h>"), {AC}, "mounts, remounts /usr read-write, unmounts, chroots"),
    _case("cgroup-escape", "cpp", _cpp(r"""
int main() {
    read_input();
    const char* files[] = {"/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max",
                           "/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cpu/cgroup.procs",
                           "/proc/sys/vm/drop_caches", "/proc/self/oom_score_adj", "/proc/1/oom_score_adj"};
    for (const char* f : files) {
        int fd = open(f, O_WRONLY);
        if (fd < 0) continue;
        // oom_score_adj may only be raised (made more killable) without privileges: try to lower it.
        if (strstr(f, "oom_score_adj")) {
            if (write(fd, "-1000", 5) == 5) leak("lowered", f);
        } else {
            leak("writable", f);
        }
        close(fd);
    }
    return finish();
}
"""), {AC}, "writes cgroup files to leave its group or lift its limits"),
]

COMPILE_CASES = [
    _case("include-dev-random", "cpp", '#include "/dev/random"\nint main() {}\n', {CE},
          "#include \"/dev/random\": the compiler reads forever"),
    _case("include-etc-shadow", "cpp", '#include "/etc/shadow"\nint main() {}\n', {CE},
          "#include \"/etc/shadow\"", check=_messages_bounded(70 << 10)),
    _case("include-expected-output", "cpp", '#include "@PACKAGE_DIR@/tests/1-01.out"\nint main() {}\n', {CE},
          "#include of the expected output's host path (its content would appear in the error)",
          check=_messages_lack_answers),
    # GCC reads st_size bytes of an included file, and /proc files say 0: the include is empty, so
    # this compiles and prints nothing (WA); what matters is that no secret reaches any message.
    _case("include-proc-environ", "cpp", '#include "/proc/self/environ"\n#include "/proc/1/environ"\nint main() {}\n',
          {CE, WA}, "#include of the compiler's environment (the harness's tokens would appear in the error)",
          check=_messages_lack_secrets),
    _case("incbin-expected-output", "cpp", r"""
asm(".section .rodata\n.global leaked\nleaked:\n.incbin \"@PACKAGE_DIR@/tests/1-01.out\"\n.byte 0\n.previous");
extern "C" const char leaked[];
#include <cstdio>
int main() { fputs(leaked, stdout); }
""", {CE}, "embeds the expected output file with the assembler's .incbin", check=_messages_lack_answers),
    _case("huge-executable", "cpp", r"""
char big[1 << 30] = {1};
int main() { return big[12345]; }
""", {CE}, "a 1 GiB initialised array: the compiler's output file is capped"),
    _case("template-bomb", "cpp", r"""
template <int N> struct F { static const int v = F<N - 1>::v + F<N - 2>::v; };
int main() { return F<100000>::v; }
""", {CE}, "template recursion bomb"),
    _case("constexpr-loop", "cpp", r"""
constexpr long long burn() {
    long long s = 0;
    for (long long i = 0; i < (1LL << 40); i++) s += i;
    return s;
}
constexpr long long x = burn();
int main() { return int(x & 1); }
""", {CE}, "a constexpr loop of 2^40 iterations"),
    _case("error-flood", "cpp", r"""
#define A 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2; 1 = 2;
#define B A A A A A A A A A A
#define C B B B B B B B B B B
#define D C C C C C C C C C C
int main() { D D D D D D D D D D }
""", {CE}, "100,000 compile errors (about 70 MB of compiler output)", check=_messages_bounded(70 << 10)),
]

PYTHON_CASES = [
    _case("py-fork-bomb", "python", r"""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
""", {TLE}, "os.fork() forever, ignoring failures", stdin_note="ignores its input"),
    _case("py-socket", "python", _py(r"""
import socket

try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    s.connect(("127.0.0.1", @TCP_PORT@))
    s.sendall(b"hello")
    leak("connected", "to the suite's TCP listener")
except OSError:
    pass
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hello", ("127.0.0.1", @UDP_PORT@))
except OSError:
    pass
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect("\0@UNIX_NAME@")
    leak("connected", "to the suite's abstract unix socket")
except OSError:
    pass
finish()
"""), {AC}, "Python sockets to the suite's TCP, UDP and unix listeners"),
    _case("py-os-system", "python", _py(r"""
if os.system("cat /etc/passwd > /dev/null 2>&1") == 0:
    leak("os.system read", "/etc/passwd")
if os.system("ls /root > /dev/null 2>&1") == 0:
    leak("os.system listed", "/root")
finish()
"""), {AC}, 'os.system("cat /etc/passwd")'),
    _case("py-read-passwd", "python", _py(r"""
for path in ("/etc/passwd", "/etc/shadow", "/root/.bashrc"):
    try:
        with open(path) as f:
            f.read(1)
        leak("readable", path)
    except OSError:
        pass
finish()
"""), {AC}, "open('/etc/passwd')"),
    _case("py-huge-list", "python", r"""
a = []
while True:
    a.append([0] * 1_000_000)
""", {MLE}, "grows a list of lists forever", stdin_note="ignores its input"),
    _case("py-infinite-loop", "python", "while True:\n    pass\n", {TLE}, "while True: pass",
          stdin_note="ignores its input"),
    _case("py-harness-files", "python", _py(r"""
for path in ("@HARNESS_CWD@", "@PACKAGE_DIR@", "@PACKAGE_DIR@/tests/1-01.out", "@CACHE_DIR@", "@CANARY_DIR@",
             "@BOX_ROOT@", "/root", "/home", "/etc"):
    if os.path.exists(path):
        leak("visible", path)
finish()
"""), {AC}, "looks for the harness's folders, the package and the cache"),
    _case("py-env-tokens", "python", _py(r"""
for name, value in os.environ.items():
    if any(w in name.upper() for w in ("TOKEN", "KEY", "SECRET", "PASS", "FAKE")) or "@SECRET_MARK@" in value:
        leak("secret in the environment", name)
finish()
"""), {AC}, "looks for the harness's tokens in os.environ", check=_messages_lack_secrets),
]

CASES: list[Case] = [*CONTROLS, *LIMIT_CASES, *FILE_CASES, *NETWORK_CASES, *PROCESS_CASES, *COMPILE_CASES,
                     *PYTHON_CASES]
CONTROL = CONTROLS[0]  # judged again every 10 cases and at the end: the judge still answers


def get_cases(names: Iterable[str] | None = None) -> list[Case]:
    """All cases, or those named (in suite order); an unknown name raises ValueError."""
    if names is None:
        return list(CASES)
    wanted = [n.strip() for n in names if n.strip()]
    known = {c.name for c in CASES}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown adversarial cases: {', '.join(unknown)}")
    return [c for c in CASES if c.name in wanted]


def _check_unique() -> None:
    names = [c.name for c in CASES]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise AssertionError(f"duplicate case names: {dupes}")


_check_unique()
