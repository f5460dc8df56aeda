"""Run the adversarial cases through a real :class:`~ioi_eval.judge.judge.Judge` and check, after
each one, that the host came through unharmed.

One :class:`AdversarialSuite` holds everything the cases aim at: the a+b package (its expected
outputs are what a cheat would read), a compile cache, canary files (in a private temporary
folder, in the harness's working directory, in ``/tmp``, and the package's own files), listeners on
the host's ``127.0.0.1`` (TCP, UDP, an abstract unix socket), and fake tokens in the harness's
environment. After every case it checks that

- the verdicts are among the case's expected ones (and the case's own ``check`` holds);
- every canary is unchanged (content, mtime, mode, owner) and no file appeared beside it;
- no process is left under the sandbox uids of the harness that runs the boxes (this process on the local
  backend, each judge actor of this machine on ``--backend ray`` with local boxes; as root; 5 s for
  stragglers; a zombie counts, since the harness is alive to reap it);
- the listeners received nothing;
- the boxes hold no scratch folder of the case any more;

and every 10 cases, and after the last, that the judge still answers a control program with AC.
The suite only ever addresses 127.0.0.1 and never resolves a name.

On ``--backend ray`` the cases are judged as any submission is: whole, in the judge actors (the submission
path), or, with ``submissions=False``, by a judge on the driver over the actors' boxes (the box path). The
placeholders that name the harness (``@HARNESS_PID@``, ``@BOX_ROOT@``) then name a judge actor and its box.

``IOI_EVAL_ADVERSARIAL_CASES=name1,name2`` restricts :func:`run_suite` (and so
``ioi-eval doctor --adversarial``) to those cases, in suite order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import cache_root
from ..errors import SuiteError
from ..judge.judge import Judge
from ..judge.languages import get_language
from ..judge.results import JudgeReport, Verdict
from ..judge.submission import Submission
from ..problem.model import Problem
from ..sources.loader import load_problem
from .cases import CONTROL, Case, get_cases
from .context import SECRET_MARK, CheckContext, SuiteInfo
from .package import TESTS, write_sum_package
from .procs import sandbox_processes, wait_until_gone

CASES_ENV = "IOI_EVAL_ADVERSARIAL_CASES"
CONTROL_EVERY = 10
STRAGGLER_GRACE_S = 5.0
# Fake secrets put in the harness's environment while the suite runs; no case may see them.
SECRET_NAMES = ("FAKE_HF_TOKEN", "FAKE_OPENAI_API_KEY", "FAKE_AWS_SECRET_ACCESS_KEY")


@dataclass
class CaseResult:
    """How one case went: ``held`` when its verdicts were expected and no safety check failed."""

    name: str
    held: bool
    verdict: Verdict | None  # the verdict that explains the score (None when the judge raised)
    expected: frozenset[Verdict]
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    about: str = ""


@dataclass(frozen=True)
class Harness:
    """A process that runs boxes: its pid, its box's work root on that process's machine (None: not a folder
    there, e.g. a container's), and whether it is on this machine with the local backend's boxes (so its runs'
    uids can be checked here)."""

    pid: int
    root: Path | None
    checkable: bool


@dataclass
class _Canary:
    path: Path
    content: bytes
    stat: tuple[int, int, int, int]  # mtime_ns, mode, uid, gid

    @classmethod
    def record(cls, path: Path) -> _Canary:
        st = path.stat()
        return cls(path, path.read_bytes(), (st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid))

    def problems(self) -> list[str]:
        try:
            st = self.path.stat()
            content = self.path.read_bytes()
        except OSError as exc:
            return [f"canary {self.path}: {exc.strerror}"]
        out = []
        if content != self.content:
            out.append(f"canary {self.path}: content changed")
        if (st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid) != self.stat:
            out.append(f"canary {self.path}: mtime, mode or owner changed")
        return out


def cases_from_env() -> list[Case]:
    """All cases, or those named in ``$IOI_EVAL_ADVERSARIAL_CASES`` (comma-separated)."""
    names = os.environ.get(CASES_ENV)
    return get_cases(names.split(",") if names else None)


def backend_ready(name: str) -> tuple[bool, str]:
    """Whether the suite can meaningfully run on a backend here, and why not."""
    from ..backends import BACKENDS

    if name not in BACKENDS:
        return False, f"backend {name!r} is not registered"
    if name == "local":
        from ioi_box.isolation import detect, namespaced

        iso, note = detect()
        return namespaced(iso), note
    if name == "docker":
        from ..backends.docker_engine import DEFAULT_IMAGE, engine_info, image_exists
        from ..errors import DockerError

        try:
            engine_info()
        except DockerError as exc:
            return False, str(exc)
        if not image_exists(DEFAULT_IMAGE):
            return False, f"the judge image {DEFAULT_IMAGE} is missing (ioi-eval sandbox build --offline)"
        return True, "the docker engine answers and has the judge image"
    if name == "e2b":
        if not os.environ.get("E2B_API_KEY"):
            return False, "E2B_API_KEY is not set"
        return True, "E2B_API_KEY is set"
    return True, "registered"


class AdversarialSuite:
    """The package, the judge, the canaries and the listeners of one suite run (a context manager)."""

    def __init__(self, backend: str = "local", workers: int | None = None, **backend_options: object) -> None:
        self.backend = backend
        self.workers = workers
        self.backend_options = backend_options  # e.g. --backend ray's address, box, submissions
        self.notes: list[str] = []  # checks that do not apply here, and why
        self._judged = 0
        self._tmp: Path | None = None
        self._judge: Judge | None = None
        self._problem: Problem | None = None
        self._info: SuiteInfo | None = None
        self._canaries: list[_Canary] = []
        self._canary_dirs: dict[Path, set[str]] = {}
        self._own_files: list[Path] = []
        self._sockets: dict[str, socket.socket] = {}
        self._saved_env: dict[str, str | None] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> AdversarialSuite:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def info(self) -> SuiteInfo:
        """What this run created, as the cases' placeholders and checks see it."""
        assert self._info is not None, "the suite is not open"
        return self._info

    @property
    def judge(self) -> Judge:
        """The suite's judge."""
        assert self._judge is not None, "the suite is not open"
        return self._judge

    def open(self) -> None:
        """Build the package, start the listeners, plant the canaries and the secrets, warm the judge."""
        self._tmp = Path(tempfile.mkdtemp(prefix="ioi-adv-"))
        package = write_sum_package(self._tmp / "package")
        self._problem = load_problem(package)
        cache = self._tmp / "cache"
        cache.mkdir()
        self._share_pch(cache)
        secret_values = {name: f"{name.lower()}-{SECRET_MARK}-{secrets.token_hex(8)}" for name in SECRET_NAMES}
        for name, value in secret_values.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        tcp, udp, unix_name = self._listen()
        self._judge = Judge(backend=self.backend, workers=self.workers, cache_dir=cache, **self.backend_options)
        first = self.harnesses(here_only=False)[0]
        self._info = SuiteInfo(
            package_dir=package, cache_dir=cache, box_root=first.root,
            harness_cwd=Path.cwd(), harness_pid=first.pid, canary_dir=self._tmp / "canary",
            tcp_port=tcp, udp_port=udp, unix_name=unix_name, secrets=secret_values,
            answers={name: out for name, (_inp, out) in TESTS.items()})
        self._plant_canaries()
        if os.geteuid() != 0:
            self.notes.append("leftover processes are not checked: the harness is not root, so runs share its uid")
        elif not any(h.checkable for h in self.harnesses()):
            self.notes.append(f"leftover processes are checked where the local backend's boxes run on this machine, "
                              f"not on {self.backend}{self._where()}")
        if self.backend == "ray":
            self.notes.append("the fake secrets are in the driver's environment; the judge actors' is their node's")
        problems = self.control_problems()
        if problems:
            raise SuiteError("the judge fails the well-behaved control program: " + "; ".join(problems))

    def close(self) -> None:
        """Release the judge, the listeners, the canaries and the secrets."""
        if self._judge is not None:
            self._judge.close()
            self._judge = None
        for s in self._sockets.values():
            s.close()
        self._sockets.clear()
        for p in self._own_files:
            p.unlink(missing_ok=True)
        self._own_files.clear()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def harnesses(self, here_only: bool = True) -> list[Harness]:
        """The processes that run the boxes (asked anew: an actor may have been replaced): this one on the local
        and Docker backends, the judge actors on Ray (on this machine only, with ``here_only``)."""
        judge = self.judge
        if self.backend != "ray":
            box = judge.box
            return [Harness(os.getpid(), box.host_root, checkable=self.backend == "local")]
        _ = judge.info  # opens the actors (the submission path) or the box over them (the box path)
        pool = judge.submission_pool
        if pool is not None:
            wheres = [a.where for a in pool.actors if a.alive]
        else:  # the box path: the box's channels are judge actors
            wheres = [s.channel.where for s in judge.box.pool.slots  # type: ignore[attr-defined]
                      if s.channel is not None and getattr(s.channel, "alive", False)]
        host = socket.gethostname()
        found = [Harness(w["pid"], Path(w["host_root"]) if w.get("host_root") else None,
                         checkable=w.get("host") == host and w.get("box") == "local")
                 for w in wheres if not here_only or w.get("host") == host]
        if not found and not here_only:
            raise SuiteError("no judge actor is alive to judge the suite")
        return found

    def _where(self) -> str:
        box = self.backend_options.get("box") or getattr(self.judge.backend, "box", None)
        return f" with {box} boxes" if self.backend == "ray" and box else ""

    # -- set-up helpers ------------------------------------------------------------------------
    def _share_pch(self, cache: Path) -> None:
        """Reuse the user's precompiled header (building it takes long), never their compile cache."""
        try:
            shared = cache_root() / "pch"
            shared.mkdir(parents=True, exist_ok=True)
            (cache / "pch").symlink_to(shared, target_is_directory=True)
        except OSError:
            self.notes.append("the precompiled header is built afresh (the user's cache is not writable)")

    def _listen(self) -> tuple[int, int, str]:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(16)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        unix_name = f"ioi-adv-{os.getpid()}-{secrets.token_hex(4)}"
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind("\0" + unix_name)
        unix.listen(16)
        self._sockets = {"TCP": tcp, "UDP": udp, "unix": unix}
        for s in self._sockets.values():
            s.setblocking(False)
        return tcp.getsockname()[1], udp.getsockname()[1], unix_name

    def _plant_canaries(self) -> None:
        info = self.info
        info.canary_dir.mkdir()
        places = [info.canary_dir / "canary.txt", Path("/tmp") / f"ioi-adv-canary-{os.getpid()}.txt",
                  info.harness_cwd / f".ioi-adv-canary-{os.getpid()}"]
        for p in places:
            try:
                p.write_text(f"canary {secrets.token_hex(16)}\n")
            except OSError as exc:
                self.notes.append(f"no canary in {p.parent} ({exc.strerror})")
                continue
            if p.parent != info.canary_dir:
                self._own_files.append(p)
            self._canaries.append(_Canary.record(p))
        for p in sorted(info.package_dir.rglob("*")):
            if p.is_file():
                self._canaries.append(_Canary.record(p))
        for d in (info.canary_dir, info.package_dir, info.package_dir / "tests"):
            self._canary_dirs[d] = {p.name for p in d.iterdir()}

    # -- judging -------------------------------------------------------------------------------
    def _judge_source(self, case: Case) -> JudgeReport:
        source = case.render(self.info.placeholders())
        name = get_language(case.language).source_name(case.name)
        sub = Submission(name=name, language=case.language, source=source.encode())
        assert self._problem is not None
        return self.judge.judge(self._problem, sub)

    def control_problems(self) -> list[str]:
        """Judge the control program: anything but AC on every test means the judge is broken."""
        try:
            report = self._judge_source(CONTROL)
        except Exception as exc:  # a judge that raises on a well-behaved program is broken
            return [f"the judge no longer answers: it raised {type(exc).__name__}: {exc}"]
        if report.verdicts() != {Verdict.AC}:
            detail = "; ".join(f"{t.name}: {t.verdict.value} {t.message[:200]}" for t in report.tests)
            return [f"the judge no longer answers the control correctly: {detail or report.compile.message[:300]}"]
        return []

    def run_case(self, case: Case, final: bool = False) -> CaseResult:
        """Judge one case, then check every safety property; ``final`` also judges the control."""
        started = time.monotonic()
        problems: list[str] = []
        report: JudgeReport | None = None
        try:
            report = self._judge_source(case)
        except Exception as exc:  # the judge must answer hostile programs with verdicts
            problems.append(f"the judge raised {type(exc).__name__}: {exc}")
        verdict = None
        if report is not None:
            verdict = report.subtasks[0].status if report.subtasks else None
            problems += _verdict_problems(case, report)
        ctx = CheckContext(info=self.info, report=report)
        if case.check is not None:
            try:
                problems += case.check(ctx)
            except Exception as exc:  # a broken check must not pass silently
                problems.append(f"the case's check raised {type(exc).__name__}: {exc}")
        problems += self.safety_problems(ctx)
        self._judged += 1
        if final or self._judged % CONTROL_EVERY == 0:
            problems += self.control_problems()
        return CaseResult(name=case.name, held=not problems, verdict=verdict, expected=case.expected,
                          problems=problems, seconds=time.monotonic() - started, about=case.about)

    # -- safety checks -------------------------------------------------------------------------
    def safety_problems(self, ctx: CheckContext | None = None) -> list[str]:
        """Everything that must hold after any case, whatever the program did."""
        problems = []
        for c in self._canaries:
            problems += c.problems()
        for d, names in self._canary_dirs.items():
            now = {p.name for p in d.iterdir()} if d.is_dir() else set()
            if now != names:
                problems.append(f"{d}: files appeared or vanished: {sorted(now ^ names)}")
        problems += self._process_problems()
        problems += self._listener_problems()
        problems += self._scratch_problems()
        if ctx is not None:
            shown = [n for n, v in self.info.secrets.items() if v in ctx.messages()]
            if shown:
                problems.append(f"the judge's messages show the harness's secrets: {', '.join(shown)}")
        return problems

    def _process_problems(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        problems = []
        for h in self.harnesses():
            if not h.checkable:
                continue
            left = wait_until_gone(lambda h=h: sandbox_processes(h.pid), STRAGGLER_GRACE_S)
            if left:
                whose = "" if h.pid == os.getpid() else f" of the judge actor {h.pid}"
                problems.append(f"processes left under the sandbox uids{whose} after {STRAGGLER_GRACE_S:g} s: "
                                f"{'; '.join(left)}")
        return problems

    def _listener_problems(self) -> list[str]:
        got = []
        for kind, s in self._sockets.items():
            for _ in range(100):  # drain, so that a later case is not blamed for this one
                try:
                    if s.type == socket.SOCK_DGRAM:
                        data, addr = s.recvfrom(4096)
                        got.append(f"{kind} datagram {data[:32]!r} from {addr}")
                    else:
                        conn, addr = s.accept()
                        got.append(f"{kind} connection from {addr or 'an unnamed socket'}")
                        conn.close()
                except (BlockingIOError, InterruptedError):
                    break
        return [f"the host's loopback listeners received: {'; '.join(got)}"] if got else []

    def _scratch_problems(self) -> list[str]:
        problems = []
        for h in self.harnesses():
            if h.root is None or not (h.root / "work").is_dir():
                continue
            left = list((h.root / "work").iterdir())
            for p in left:  # noted; do not blame the next case for them
                shutil.rmtree(p, ignore_errors=True)
            if left:
                problems.append(f"scratch folders left in the box {h.root}: {len(left)}")
        return problems


def _verdict_problems(case: Case, report: JudgeReport) -> list[str]:
    ran = [t for t in report.tests if t.verdict != Verdict.SKIPPED]
    if not ran:
        return ["no test was run"]
    groups: dict[tuple[Verdict, str], list[str]] = {}
    for t in ran:
        if t.verdict not in case.expected:
            message = t.message if t.verdict != Verdict.CE else report.compile.message
            groups.setdefault((t.verdict, message[:300]), []).append(t.name)
    want = "/".join(sorted(v.value for v in case.expected))
    return [f"{verdict.value} on {', '.join(names)} (expected {want})" + (f": {message}" if message else "")
            for (verdict, message), names in groups.items()]


def run_suite(backend: str = "local", workers: int | None = None, cases: Sequence[Case] | None = None,
              on_result: Callable[[CaseResult], None] | None = None, *,
              notes: list[str] | None = None, backend_options: dict[str, object] | None = None) -> list[CaseResult]:
    """Judge every case (default: all, or ``$IOI_EVAL_ADVERSARIAL_CASES``) and check the host after each.

    ``on_result`` is called with each result as it comes; ``notes``, when given, receives the
    checks that do not apply on this machine and why. ``backend_options`` make the backend (``--backend ray``:
    ``address``, ``box``).
    """
    chosen = list(cases) if cases is not None else cases_from_env()
    results = []
    with AdversarialSuite(backend, workers, **(backend_options or {})) as suite:
        for i, case in enumerate(chosen):
            result = suite.run_case(case, final=i == len(chosen) - 1)
            results.append(result)
            if on_result is not None:
                on_result(result)
        if notes is not None:
            notes.extend(suite.notes)
    return results
