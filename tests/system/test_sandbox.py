"""Security properties of the local sandbox, each checked with a hostile program.

Every program runs through the executor exactly as a submission would, once per namespaced
isolation this machine has (the zygote where the harness is root with CAP_SYS_ADMIN, bubblewrap); where the
harness has CAP_SYS_ADMIN, the zygote's checks run once more in a process without it (the zygote's unprivileged
mode, as in a judge container: ``test_the_zygote_holds_without_cap_sys_admin``).
Network checks only ever address listeners this test starts on loopback.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioi_box import seccomp
from ioi_box.executor import Executor
from ioi_box.isolation import NamespaceIsolation, _has_sys_admin, detect, namespaced, zygote_works
from ioi_box.protocol import Batch, Limits, Proc, ProcStatus, RunJob

from ioi_eval.adversarial.procs import sandbox_processes, wait_until_gone

LIMITS = Limits(cpu_s=2, wall_s=5, memory_bytes=256 << 20, output_bytes=16 << 20, processes=16)

iso, why = detect()
pytestmark = pytest.mark.skipif(not namespaced(iso), reason=f"no namespaces here: {why}")


@pytest.fixture(scope="module", params=["zygote", "bwrap"])
def ex(request) -> Iterator[Executor]:
    try:
        isolation, _ = detect(request.param)
    except RuntimeError as exc:
        pytest.skip(f"{request.param}: {exc}")
    with Executor(workers=2, isolation=isolation) as e:
        yield e


@pytest.fixture(scope="module")
def cc(tmp_path_factory) -> Iterator:
    """Compile a C/C++ snippet on the host (static) and return the path of the binary."""
    d = tmp_path_factory.mktemp("hostile")

    def build(name: str, src: str, lang: str = "c++") -> Path:
        s = d / f"{name}.cpp"
        s.write_text(textwrap.dedent(src))
        out = d / name
        subprocess.run(["g++", "-x", lang, "-O2", "-static", "-o", str(out), str(s)], check=True,
                       capture_output=True)
        return out

    yield build


def run(ex: Executor, binary: Path, *args: str, stdin: bytes = b"", limits: Limits = LIMITS,
        env: dict[str, str] | None = None) -> tuple[ProcStatus, str, object]:
    prog = ex.put_file(binary, executable=True)
    inp = ex.put_bytes(stdin)
    work = ex.new_dir()
    proc = Proc(argv=["/box/prog", *args], binds={"/box/prog": prog}, stdin=inp, stdout=f"{work}/out",
                stderr=f"{work}/err", capture_stdout=1 << 16, capture_stderr=1 << 12, limits=limits,
                env=env or {})
    res = ex.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0]
    assert res.error is None, res.error
    ex.remove([work])
    pr = res.procs[0]
    return pr.status, pr.stdout, pr


def test_process_killed_before_opening_its_stdio_captured_nothing(ex: Executor) -> None:
    """Stdio is opened in the child: one killed while blocked opening a FIFO nobody opens has no files."""
    work = ex.new_dir()
    proc = Proc(argv=["/bin/true"], stdin=f"{work}/fifo/never", stdout=f"{work}/out", stderr=f"{work}/err",
                capture_stdout=1 << 10, capture_stderr=1 << 10, limits=Limits(cpu_s=1, wall_s=0.3))
    res = ex.execute(Batch(jobs=[RunJob(procs=[proc], fifos=[f"{work}/fifo/never"])])).results[0]
    ex.remove([work])
    assert res.error is None, res.error
    pr = res.procs[0]
    assert pr.status == ProcStatus.TLE_WALL and pr.stdout == "" and pr.stderr == "", pr


def _uid_processes(harness_pid: int | None = None, zombies: bool = True) -> list[str]:
    return sandbox_processes(harness_pid, zombies)


def _gone(probe, timeout: float = 5.0) -> bool:
    """Wait until ``probe()`` lists nothing (an exited process may linger briefly as a zombie)."""
    leftover = wait_until_gone(probe, timeout)
    assert leftover == [], leftover
    return True


READ_FILE = r"""
#include <cstdio>
int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        FILE* f = fopen(argv[i], "r");
        printf("%s:%s\n", argv[i], f ? "READABLE" : "denied");
    }
}
"""


def test_host_files_invisible(ex: Executor, cc, tmp_path: Path) -> None:
    secret = tmp_path / "expected.out"
    secret.write_text("the answer")
    binary = cc("readf", READ_FILE)
    paths = ["/etc/passwd", "/etc/shadow", "/root/.bashrc", str(secret), str(ex.root / "blobs"),
             str(Path.home()), f"/proc/{os.getpid()}/environ", "/usr/bin/g++"]
    status, out, _ = run(ex, binary, *paths)
    assert status == ProcStatus.OK
    verdicts = dict(line.rsplit(":", 1) for line in out.splitlines())
    for p in paths[:-1]:
        assert verdicts[p] == "denied", (p, out)
    assert verdicts["/usr/bin/g++"] == "READABLE"  # read-only system paths are visible


def test_cannot_write_outside_box(ex: Executor, cc) -> None:
    binary = cc("writef", r"""
        #include <cstdio>
        int main(int argc, char** argv) {
            for (int i = 1; i < argc; i++) {
                FILE* f = fopen(argv[i], "w");
                printf("%s:%s\n", argv[i], f ? "WRITABLE" : "denied");
            }
        }
    """)
    _status, out, _ = run(ex, binary, "/usr/evil", "/etc/evil", "/proc/evil", "/box/ok", "/tmp/ok")
    verdicts = dict(line.rsplit(":", 1) for line in out.splitlines())
    assert verdicts == {"/usr/evil": "denied", "/etc/evil": "denied", "/proc/evil": "denied",
                        "/box/ok": "WRITABLE", "/tmp/ok": "WRITABLE"}
    assert not Path("/usr/evil").exists()


def test_nothing_persists_between_runs(ex: Executor, cc) -> None:
    binary = cc("persist", r"""
        #include <cstdio>
        int main() {
            const char* files[] = {"/box/mark", "/tmp/mark", "/dev/shm/mark"};
            for (const char* p : files) {
                FILE* f = fopen(p, "r");
                printf("%s:%s\n", p, f ? "FOUND" : "absent");
                f = fopen(p, "w"); if (f) { fputs("x", f); fclose(f); }
            }
        }
    """)
    run(ex, binary)
    _, out, _ = run(ex, binary)
    assert "FOUND" not in out, out


def test_environment_scrubbed(ex: Executor, cc, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    binary = cc("env", r"""
        #include <cstdio>
        extern char** environ;
        int main() { for (char** e = environ; *e; e++) puts(*e); }
    """)
    _, out, _ = run(ex, binary)
    assert "secret" not in out
    names = {line.split("=", 1)[0] for line in out.splitlines()}
    assert names <= {"PATH", "HOME", "LANG", "TMPDIR", "PWD"}, names


def test_no_network(ex: Executor, cc) -> None:
    # Listeners on the host's loopback: a box with its own network namespace cannot reach them.
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    tcp.settimeout(0.5)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    binary = cc("net", r"""
        #include <arpa/inet.h>
        #include <cstdio>
        #include <cstdlib>
        #include <net/if.h>
        #include <ifaddrs.h>
        #include <sys/socket.h>
        #include <unistd.h>
        int main(int argc, char** argv) {
            sockaddr_in a{}; a.sin_family = AF_INET; inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
            a.sin_port = htons(atoi(argv[1]));
            int s = socket(AF_INET, SOCK_STREAM, 0);
            printf("tcp:%s\n", s >= 0 && connect(s, (sockaddr*)&a, sizeof a) == 0 ? "CONNECTED" : "failed");
            a.sin_port = htons(atoi(argv[2]));
            int u = socket(AF_INET, SOCK_DGRAM, 0);
            printf("udp:%s\n", u >= 0 && sendto(u, "x", 1, 0, (sockaddr*)&a, sizeof a) == 1 ? "sent" : "failed");
            ifaddrs* ifs = nullptr; getifaddrs(&ifs);
            for (ifaddrs* i = ifs; i; i = i->ifa_next)
                printf("if:%s:%s:%d\n", i->ifa_name, (i->ifa_flags & IFF_UP) ? "up" : "down",
                       i->ifa_addr ? i->ifa_addr->sa_family : -1);
        }
    """)
    _status, out, _ = run(ex, binary, str(tcp.getsockname()[1]), str(udp.getsockname()[1]))
    assert "tcp:failed" in out
    with pytest.raises(TimeoutError):
        tcp.accept()
    with pytest.raises(TimeoutError):
        udp.recvfrom(16)  # whatever the box sent went to its own, unconfigured loopback
    names = {line.split(":")[1] for line in out.splitlines() if line.startswith("if:")}
    assert names <= {"lo"}, out
    assert all(":down:" in line for line in out.splitlines() if line.startswith("if:lo")), out
    tcp.close()
    udp.close()


def test_network_state_does_not_persist_between_runs(ex: Executor, cc) -> None:
    """A network namespace keeps state an unprivileged process can change and read back: its SNMP
    counters (a datagram to an unroutable address counts in ``Ip: OutNoRoutes``) and its abstract unix
    socket names (alive until the kernel collects a socket kept in flight by a descriptor cycle). The
    next run must see a namespace no earlier run touched.
    """
    binary = cc("netstate", r"""
        #include <arpa/inet.h>
        #include <cstdio>
        #include <cstdlib>
        #include <cstring>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <unistd.h>
        long out_no_routes() {
            FILE* f = fopen("/proc/net/snmp", "r");
            if (!f) return -2;
            char head[4096], vals[4096];
            while (fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
                if (strncmp(head, "Ip:", 3)) continue;
                char *h = head, *v = vals, *hs, *vs;
                for (char* a = strtok_r(h, " \n", &hs), *b = strtok_r(v, " \n", &vs); a && b;
                     a = strtok_r(nullptr, " \n", &hs), b = strtok_r(nullptr, " \n", &vs))
                    if (!strcmp(a, "OutNoRoutes")) { fclose(f); return atol(b); }
            }
            fclose(f);
            return -1;
        }
        int main(int argc, char** argv) {
            sockaddr_un un{}; un.sun_family = AF_UNIX; memcpy(un.sun_path + 1, "ioi-mark", 8);
            int s = socket(AF_UNIX, SOCK_DGRAM, 0);
            bool taken = bind(s, (sockaddr*)&un, sizeof(sa_family_t) + 9) != 0;
            printf("%ld %d\n", out_no_routes(), taken);
            if (!strcmp(argv[1], "mark")) {
                sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(9);
                inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
                int u = socket(AF_INET, SOCK_DGRAM, 0);
                for (int i = 0; i < 50; i++) sendto(u, "x", 1, 0, (sockaddr*)&a, sizeof a);
                // Keep the named socket alive past our death: send it over itself (a cycle).
                int sv[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
                char c = 0; iovec io{&c, 1}; char ctl[CMSG_SPACE(sizeof(int) * 3)] = {};
                msghdr m{}; m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
                cmsghdr* cm = CMSG_FIRSTHDR(&m); cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * 3); int fds[3] = {s, sv[0], sv[1]};
                memcpy(CMSG_DATA(cm), fds, sizeof fds);
                sendmsg(sv[0], &m, 0);
            }
        }
    """)
    for _ in range(3):
        status, out, _ = run(ex, binary, "mark")
        assert status == ProcStatus.OK and out.split() == ["0", "0"], out
    status, out, _ = run(ex, binary, "look")
    assert status == ProcStatus.OK and out.split() == ["0", "0"], out


def test_cannot_signal_or_trace_the_harness(ex: Executor, cc) -> None:
    binary = cc("killer", r"""
        #include <csignal>
        #include <cstdio>
        #include <sys/ptrace.h>
        #include <unistd.h>
        #include <cstdlib>
        int main(int argc, char** argv) {
            pid_t harness = atoi(argv[1]);   // the harness's pid as the host sees it
            printf("kill-harness:%d\n", kill(harness, SIGKILL));
            printf("ptrace-harness:%ld\n", ptrace(PTRACE_ATTACH, harness, 0, 0));
            printf("kill-parent:%d\n", kill(getppid(), SIGKILL));   // its own sandbox's reaper
            fflush(stdout);
            kill(-1, SIGKILL);   // every process it may signal: only its own sandbox
            return 0;
        }
    """)
    _status, out, _ = run(ex, binary, str(os.getpid()))
    assert "kill-harness:-1" in out and "ptrace-harness:-1" in out, out
    # the judge still answers
    ok = cc("ok", "int main(){return 0;}")
    assert run(ex, ok)[0] == ProcStatus.OK


def test_fork_bomb_and_daemons_leave_nothing(ex: Executor, cc) -> None:
    bomb = cc("bomb", r"""
        #include <unistd.h>
        int main() { for (;;) fork(); }
    """)
    status, _, _pr = run(ex, bomb, limits=Limits(cpu_s=1, wall_s=3, memory_bytes=256 << 20, processes=16))
    assert status in (ProcStatus.TLE_CPU, ProcStatus.TLE_WALL, ProcStatus.SG, ProcStatus.RE)
    daemon = cc("daemon", r"""
        #include <unistd.h>
        #include <cstdlib>
        int main() {
            if (fork() == 0) { setsid(); if (fork() == 0) { for (;;) sleep(1); } _exit(0); }
            return 0;
        }
    """)
    assert run(ex, daemon)[0] == ProcStatus.OK
    assert _gone(lambda: _uid_processes())


def test_cannot_raise_limits(ex: Executor, cc) -> None:
    binary = cc("rlim", r"""
        #include <cstdio>
        #include <sys/resource.h>
        int main() {
            rlimit r{RLIM_INFINITY, RLIM_INFINITY};
            printf("nproc:%d\n", setrlimit(RLIMIT_NPROC, &r));
            printf("fsize:%d\n", setrlimit(RLIMIT_FSIZE, &r));
            printf("cpu:%d\n", setrlimit(RLIMIT_CPU, &r));
        }
    """)
    _, out, _ = run(ex, binary)
    assert out.count(":-1") == 3, out


def test_exec_shell_is_harmless(ex: Executor, cc) -> None:
    binary = cc("sh", r"""
        #include <unistd.h>
        int main() { execl("/bin/sh", "sh", "-c", "cat /etc/passwd; id; ls /root; echo done", (char*)0); return 9; }
    """)
    _status, out, _ = run(ex, binary)
    assert "root:x:0" not in out and "done" in out


def test_stack_is_unlimited_within_memory(ex: Executor, cc) -> None:
    binary = cc("rec", r"""
        #include <cstdio>
        int f(int n) { volatile char pad[100]; pad[0] = 1; return n ? f(n - 1) + pad[0] : 0; }
        int main() { printf("%d\n", f(1000000)); }
    """)
    status, out, _ = run(ex, binary)
    assert status == ProcStatus.OK and out.strip() == "1000000"


def test_file_writes_capped(ex: Executor, cc) -> None:
    big = cc("big", r"""
        #include <cstdio>
        int main() {
            FILE* f = fopen("/box/big", "w");
            static char b[1 << 20];
            for (int i = 0; i < 2048; i++) if (fwrite(b, 1, sizeof b, f) != sizeof b) return 7;
            return 0;
        }
    """)
    status, _, _ = run(ex, big, limits=Limits(cpu_s=5, wall_s=10, memory_bytes=256 << 20, output_bytes=8 << 20,
                                               tmp_bytes=64 << 20))
    assert status in (ProcStatus.OLE, ProcStatus.RE)  # SIGXFSZ, or the tmpfs is full
    fill = cc("fill", r"""
        #include <cstdio>
        int main() {
            static char b[1 << 16]; long total = 0;
            for (int i = 0;; i++) {
                char name[64]; snprintf(name, sizeof name, "/tmp/f%d", i);
                FILE* f = fopen(name, "w"); if (!f) break;
                size_t w = fwrite(b, 1, sizeof b, f); fclose(f); total += w; if (w < sizeof b) break;
            }
            printf("%ld\n", total);
        }
    """)
    status, out, _ = run(ex, fill, limits=Limits(cpu_s=5, wall_s=10, memory_bytes=256 << 20,
                                                 output_bytes=1 << 20, tmp_bytes=4 << 20))
    assert status == ProcStatus.OK and int(out) <= 4 << 20


def test_many_open_files(ex: Executor, cc) -> None:
    binary = cc("fds", r"""
        #include <cstdio>
        #include <fcntl.h>
        int main() { int n = 0; while (open("/dev/null", O_RDONLY) >= 0) n++; printf("%d\n", n); }
    """)
    status, out, _ = run(ex, binary)
    assert status == ProcStatus.OK and int(out) < LIMITS.open_files


#: A harness whose one run starts two sleepers in the box, then says "ready" and waits for them.
SLEEPING_HARNESS = textwrap.dedent("""
    from ioi_box.executor import Executor
    from ioi_box.protocol import Batch, Limits, Proc, RunJob
    with Executor(workers=1) as ex:
        job = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "sleep 100 & sleep 100"],
                                 limits=Limits(cpu_s=50, wall_s=100, memory_bytes=64 << 20))])
        print("ready", flush=True)
        ex.execute(Batch(jobs=[job]))
""")


def test_a_killed_harness_never_leaves_a_box_running(tmp_path: Path) -> None:
    """SIGKILL of the harness ends every box it ran, every time. The zygote's init once relied on the
    parent-death signal alone, which was seen to miss about one kill in three: the init, reparented to the
    host's init, kept the program running. It also watches the harness's pidfd now."""
    script = tmp_path / "harness.py"
    script.write_text(SLEEPING_HARNESS)
    for _ in range(6):
        p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
        assert _uid_processes(p.pid), "the sandboxed sleepers should be running"
        p.kill()
        p.wait(timeout=20)
        assert _gone(lambda pid=p.pid: _uid_processes(pid, zombies=False))


def test_ctrl_c_and_crash_leave_nothing(tmp_path: Path) -> None:
    """A harness interrupted (SIGINT) or killed (SIGKILL) mid-run leaves no process or cgroup."""
    script = tmp_path / "harness.py"
    script.write_text(SLEEPING_HARNESS)
    killed = []
    for sig in (signal.SIGINT, signal.SIGKILL):
        p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(0.5)
        assert _uid_processes(p.pid), "the sandboxed sleepers should be running"
        p.send_signal(sig)
        p.wait(timeout=20)
        # Ctrl-C: the harness itself cleans up (zombies included); SIGKILL: nothing runs on.
        assert _gone(lambda pid=p.pid, z=sig == signal.SIGINT: _uid_processes(pid, zombies=z))
        killed.append(p.pid)
    # stale cgroups of the killed harness are removed by the next harness to start
    probe = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from ioi_box import _native
        cg = _native.cgroup_setup()
        stale = []
        for path in cg.get("paths", {{}}).values():
            parent = Path(path).parent
            stale += [d.name for d in parent.iterdir() if d.is_dir() and d.name.startswith("ioi-eval-")
                      and d.name.split("-")[-1] in {[str(pid) for pid in killed]!r}]
        print(json.dumps(stale))
    """)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_no_zombies_left_behind(ex: Executor, cc) -> None:
    """bubblewrap's monitor exits before its pid 1; the harness (a subreaper) reaps that orphan."""
    ok = cc("ok2", "int main(){return 0;}")
    spin = cc("spin2", "int main(){volatile unsigned x=0; for(;;) x++;}")
    for _ in range(3):
        assert run(ex, ok)[0] == ProcStatus.OK
        assert run(ex, spin, limits=Limits(cpu_s=0.2, wall_s=2, memory_bytes=64 << 20))[0] == ProcStatus.TLE_CPU
    assert _uid_processes() == []  # at once: nothing waits for an init to reap it


def test_seccomp_refuses_ptrace_of_the_sandbox_init(ex: Executor, cc) -> None:
    """bubblewrap's pid 1 shares the program's uid; the seccomp filter makes ptrace EPERM."""
    binary = cc("ptrace1", r"""
        #include <cerrno>
        #include <cstdio>
        #include <sys/ptrace.h>
        int main() {
            long r = ptrace(PTRACE_ATTACH, 1, 0, 0);
            printf("%ld %d\n", r, errno);
        }
    """)
    status, out, _ = run(ex, binary)
    assert status == ProcStatus.OK and out.split() == ["-1", "1"], out  # EPERM


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755])
def test_storing_a_file_never_changes_its_mode(ex: Executor, tmp_path: Path, mode: int) -> None:
    src = tmp_path / "data.txt"
    src.write_bytes(f"content {mode:o} {tmp_path}\n".encode())
    os.chmod(src, mode)
    blob = ex.root / ex.put_file(src)
    assert stat.S_IMODE(os.stat(src).st_mode) == mode  # the caller's file (a package's) keeps its mode
    assert stat.S_IMODE(os.stat(blob).st_mode) == 0o644 and blob.read_bytes() == src.read_bytes()
    if mode != 0o644:
        assert not os.path.samefile(src, blob)  # copied: a shared inode would have been chmod-ed
    target = tmp_path / "target.txt"
    target.write_bytes(f"linked {mode:o} {tmp_path}\n".encode())
    os.chmod(target, 0o644)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)  # a symlink inside a package: its target is stored, never the link
    stored = ex.root / ex.put_file(link)
    assert not stored.is_symlink() and stored.read_bytes() == target.read_bytes()


def _bare_cpu_s(binary: Path) -> float:
    """CPU time (rusage) of one run of ``binary`` with no sandbox at all."""
    p = subprocess.Popen([str(binary)], stdout=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    return ru.ru_utime + ru.ru_stime


def test_sandbox_setup_cpu_is_not_the_programs(ex: Executor, cc) -> None:
    """The CPU bubblewrap spends setting up the box is not charged to the contestant.

    A trivial program's CPU time in the box stays within about a millisecond of the same program
    run bare (medians of interleaved runs; setting up the box costs several), while a program that
    burns CPU is charged all of it.
    """
    if not ex.cgroups.get("cpu"):
        pytest.skip("no CPU cgroup: the setup's CPU cannot be told apart")
    trivial = cc("trivial", "int main() { return 0; }\n")
    boxed, bare = [], []
    for _ in range(9):
        status, _, pr = run(ex, trivial)
        assert status == ProcStatus.OK, pr
        boxed.append(pr.cpu_s)
        bare.append(_bare_cpu_s(trivial))
    boxed.sort()
    bare.sort()
    assert boxed[4] - bare[4] < 1.5e-3, (boxed, bare)
    # nothing of a real program's CPU is left out: a 0.3 s spin is charged in full
    spin = cc("spin300", """
        #include <ctime>
        int main() { volatile unsigned long x = 0; while (std::clock() < CLOCKS_PER_SEC * 3 / 10) x++; return 0; }
    """)
    status, _, pr = run(ex, spin)
    assert status == ProcStatus.OK and pr.cpu_s >= 0.3, pr


class _NoCgroups:
    """An isolation whose runs get no cgroup at all, as on a machine without any."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.needs_scratch = inner.needs_scratch

    def spec(self, proc, host_path, scratch) -> dict:
        return {**self.inner.spec(proc, host_path, scratch), "use_cgroup": False}

    def normalise(self, raw: dict) -> dict:
        return self.inner.normalise(raw)


def test_cpu_time_counted_without_cgroups(ex: Executor, cc) -> None:
    """Without cgroups the program's CPU time still counts: a 0.3 s spin under a 0.1 s limit is TLE.

    bubblewrap's pid 1, which waited for the program, is reaped by the harness (a subreaper) and its
    rusage kept; the zygote's pid 1 reports the rusage of everything it reaped.
    """
    spin = cc("spin300b", """
        #include <ctime>
        int main() { volatile unsigned long x = 0; while (std::clock() < CLOCKS_PER_SEC * 3 / 10) x++; return 0; }
    """)
    plain = Executor(workers=1, isolation=_NoCgroups(ex.isolation))
    try:
        status, _, pr = run(plain, spin, limits=Limits(cpu_s=0.1, wall_s=5, memory_bytes=256 << 20))
        assert status == ProcStatus.TLE_CPU and pr.cpu_s >= 0.1, pr
        status, _, pr = run(plain, spin, limits=Limits(cpu_s=2, wall_s=5, memory_bytes=256 << 20))
        assert status == ProcStatus.OK and pr.cpu_s >= 0.3, pr  # counted in full, not only past the limit
    finally:
        plain.close()


def test_cpu_of_processes_reaped_by_the_kernel_counted_without_cgroups(ex: Executor, cc) -> None:
    """A parent that ignores SIGCHLD has its children reaped by the kernel, whose CPU then lands in nobody's
    rusage: without cgroups the launcher also sums what it saw each task of the tree use (sampled while
    the run goes on), so a 0.4 s spin in such a child still counts, and a 0.1 s limit still holds."""
    spin = cc("autoreap", r"""
        #include <csignal>
        #include <ctime>
        #include <unistd.h>
        int main() {
            signal(SIGCHLD, SIG_IGN);
            int fd[2]; pipe(fd);
            if (fork() == 0) {
                close(fd[0]);
                volatile unsigned long x = 0; while (std::clock() < CLOCKS_PER_SEC * 4 / 10) x++;
                _exit(0);
            }
            close(fd[1]);
            char c; while (read(fd[0], &c, 1) > 0) {}  // EOF once the child is gone
            return 0;
        }
    """)
    plain = Executor(workers=1, isolation=_NoCgroups(ex.isolation))
    try:
        status, _, pr = run(plain, spin, limits=Limits(cpu_s=2, wall_s=5, memory_bytes=256 << 20, processes=16))
        assert status == ProcStatus.OK and pr.cpu_s >= 0.3, pr
        status, _, pr = run(plain, spin, limits=Limits(cpu_s=0.1, wall_s=5, memory_bytes=256 << 20, processes=16))
        assert status == ProcStatus.TLE_CPU, pr
    finally:
        plain.close()


def test_an_uncached_input_is_not_the_programs_memory(ex: Executor, cc, tmp_path: Path) -> None:
    """Page cache is charged to the memory cgroup of whoever reads a page in: a test file evicted from the
    cache since it was written (memory pressure) once counted in full in the run's peak memory, and its
    reclaim under a tight limit in the run's CPU. The launcher reads stdin ahead from the harness's group."""
    if not ex.cgroups.get("memory"):
        pytest.skip("no memory cgroup: peak memory is the program's RSS")
    reader = cc("readall", r"""
        #include <cstdio>
        int main() { static char b[1 << 16]; long n = 0, k; while ((k = fread(b, 1, sizeof b, stdin)) > 0) n += k;
                     printf("%ld\n", n); }
    """)
    data = tmp_path / "big.in"
    data.write_bytes(os.urandom(32 << 20))
    prog, inp, work = ex.put_file(reader, executable=True), ex.put_file(data), ex.new_dir()
    fd = os.open(ex.host_path(inp), os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # as if evicted
    finally:
        os.close(fd)
    proc = Proc(argv=["/box/prog"], binds={"/box/prog": prog}, stdin=inp, stdout=f"{work}/out",
                capture_stdout=64, limits=LIMITS)
    pr = ex.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0].procs[0]
    ex.remove([work])
    assert pr.status == ProcStatus.OK and pr.stdout.strip() == str(32 << 20), pr
    assert pr.memory_bytes < 8 << 20, pr


def test_sysv_ipc_does_not_persist(ex: Executor, cc) -> None:
    """A SysV shared-memory segment outlives its process: the next run must not find it."""
    binary = cc("shm1", r"""
        #include <cstdio>
        #include <cstring>
        #include <sys/shm.h>
        int main(int argc, char** argv) {
            if (!strcmp(argv[1], "make")) {
                int id = shmget(4242, 4096, IPC_CREAT | 0666);
                printf("%d\n", id >= 0);
            } else {
                printf("%d\n", shmget(4242, 0, 0) >= 0);
            }
        }
    """)
    assert run(ex, binary, "make")[:2] == (ProcStatus.OK, "1\n")
    assert run(ex, binary, "find")[:2] == (ProcStatus.OK, "0\n")


def test_no_user_namespaces_and_only_the_box_in_proc(ex: Executor, cc) -> None:
    """No new user namespace (a kernel attack surface), and /proc lists the box's processes only."""
    binary = cc("userns1", r"""
        #include <cerrno>
        #include <cstdio>
        #include <dirent.h>
        #include <sched.h>
        #include <unistd.h>
        int main() {
            int r = unshare(CLONE_NEWUSER);
            int pids = 0;
            DIR* d = opendir("/proc");
            while (dirent* e = readdir(d)) if (e->d_name[0] >= '1' && e->d_name[0] <= '9') pids++;
            char host[64] = {};
            gethostname(host, sizeof host);
            printf("%d %d %s\n", r, pids, host);
        }
    """)
    status, out, _ = run(ex, binary)
    r, pids, host = out.split()
    assert status == ProcStatus.OK and r == "-1" and host == "box", out
    assert int(pids) <= 2, out  # the program and at most its sandbox's init


def test_the_harness_stays_dumpable_after_its_boxes(ex: Executor, tmp_path: Path) -> None:
    """The zygote's init and program share the harness's memory until exec; their uid switches once left the
    harness non-dumpable (no core dumps, /proc/<pid> files owned by root, no ptrace by its own user)."""
    import ctypes

    libc = ctypes.CDLL(None)
    pr_get_dumpable = 3
    assert libc.prctl(pr_get_dumpable, 0, 0, 0, 0) == 1
    status, _, _ = run(ex, Path("/bin/true"))
    assert status == ProcStatus.OK
    assert libc.prctl(pr_get_dumpable, 0, 0, 0, 0) == 1


def test_zygote_refused_without_its_seccomp_filter(monkeypatch, caplog) -> None:
    """The seccomp filter is part of the zygote's box: where there is none for the architecture, or the
    kernel refuses it, the zygote is not used (bubblewrap or rlimits instead) and the reason is logged."""
    if zygote_works()[0] is None:
        pytest.skip("no zygote sandbox here")
    monkeypatch.setattr(seccomp, "supported", lambda: False)
    iso, why = zygote_works()
    assert iso is None and "seccomp" in why, why
    with caplog.at_level(logging.WARNING, logger="ioi_box.isolation"):
        chosen, note = detect()
    assert chosen.name != "zygote" and "zygote not used" in note and "seccomp" in note, note
    assert any("zygote sandbox not used" in r.getMessage() and "seccomp" in r.getMessage() for r in caplog.records)
    with pytest.raises(RuntimeError, match="seccomp"):
        detect("zygote")
    monkeypatch.undo()
    # A filter the kernel refuses (an unknown BPF opcode): the probe's program cannot start.
    monkeypatch.setattr(seccomp, "build_filter", lambda **kw: struct.pack("=HBBI", 0xFFFF, 0, 0, 0))
    iso, why = zygote_works()
    assert iso is None and "seccomp" in why, why


def test_the_zygote_mode_follows_the_capabilities(ex: Executor) -> None:
    """With CAP_SYS_ADMIN the zygote is built directly; without it (root with CAP_SETUID/CAP_SETGID, a judge
    container) inside a user namespace."""
    if not isinstance(ex.isolation, NamespaceIsolation):
        pytest.skip("not the zygote")
    assert ex.isolation.userns == (not _has_sys_admin())


def test_bind_sources_are_looked_up_as_the_run(ex: Executor) -> None:
    """The zygote resolves a bind source with the run's file-system ids and no capability over files, as bubblewrap
    running as that uid did: a file in a folder of another run uid (0700) is not bound. In the unprivileged mode
    that uid is mapped into the box's user namespace, whose capabilities would otherwise override the folder's mode."""
    if not isinstance(ex.isolation, NamespaceIsolation):
        pytest.skip("not the zygote")
    from ioi_box import _native
    from ioi_box.isolation import userns_id_map

    _, first, count = userns_id_map()
    other = first + count - 1  # a run uid (mapped), not this run's
    outer = ex.host_path(ex.new_dir())  # mode 0777: the other uid makes its folder there (no CAP_CHOWN needed)
    locked = outer / "locked"

    def as_other(action) -> None:
        # A plain fork: an id change in a child sharing our memory (vfork) would leave the harness non-dumpable.
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(other, other, other)
                os.setresuid(other, other, other)
                action()
                os._exit(0)
            except BaseException:
                os._exit(1)
        assert os.waitpid(pid, 0)[1] == 0

    as_other(lambda: (os.mkdir(locked, 0o700), (locked / "f").write_text("secret")))
    try:
        spec = ex.isolation.spec(Proc(argv=["/bin/true"], binds={"/box/f": f"{outer.relative_to(ex.root)}/locked/f"}),
                                 ex.host_path, ex.root)
        raw = _native.run([spec])[0]
    finally:
        as_other(lambda: ((locked / "f").unlink(), locked.rmdir()))
        ex.remove([str(outer.relative_to(ex.root))])
    assert raw["setup_error"] and "Permission denied" in raw["setup_error"], raw
    import ctypes

    # the init failed after its fsuid switch, in the harness's memory: the harness stays dumpable all the same
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 1  # PR_GET_DUMPABLE


UNPRIVILEGED = "IOI_EVAL_TEST_SANDBOX_UNPRIVILEGED"


def test_the_zygote_holds_without_cap_sys_admin() -> None:
    """The zygote's unprivileged mode: this file's zygote checks (and the harness-death ones, which use the default
    isolation) once more in a process that holds only CAP_SETUID, CAP_SETGID and CAP_KILL, as the server in a judge
    container does (``setpriv`` drops the rest from the bounding set)."""
    if os.environ.get(UNPRIVILEGED):
        pytest.skip("this is the unprivileged run")
    if os.geteuid() != 0 or not _has_sys_admin():
        pytest.skip("the main run is already without CAP_SYS_ADMIN")
    if not shutil.which("setpriv"):
        pytest.skip("no setpriv (util-linux)")
    cmd = ["setpriv", "--bounding-set=-all,+setuid,+setgid,+kill", "--inh-caps=-all", sys.executable, "-m", "pytest",
           "-q", "-x", "-p", "no:cacheprovider", __file__, "-k", "zygote or harness or ctrl_c"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, UNPRIVILEGED: "1"})
    tail = (res.stdout + res.stderr)[-3000:]
    assert res.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail, tail


def test_a_signal_the_harness_handles_is_no_setup_error(ex: Executor, cc) -> None:
    """A signal with a handler, arriving while a run's cgroups are set up, fails no run: cgroup v1's memory limit
    write returns EINTR whenever a signal is pending for the writing thread, which once became an SE."""
    binary = cc("true_prog", "int main(){ return 0; }")
    previous = signal.signal(signal.SIGUSR1, lambda *_: None)
    stop = False

    def storm() -> None:
        while not stop:
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.0002)

    import threading

    thread = threading.Thread(target=storm, daemon=True)
    thread.start()
    try:
        statuses = [run(ex, binary)[0] for _ in range(150)]
    finally:
        stop = True
        thread.join()
        signal.signal(signal.SIGUSR1, previous)
    assert set(statuses) == {ProcStatus.OK}
