"""The judge: compile a submission, evaluate the tests it needs, and score it.

Each distinct test runs at most once per submission even when several subtasks share it. When the
score type makes a zero final for a subtask (GroupMin), a subtask's remaining tests are skipped
once one of its tests scores 0, unless another subtask still needs them; skipped tests are marked
SKIPPED. Tests run in parallel on the box's workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioi_box.protocol import BoxInfo

from ..backends import get_backend
from ..backends.base import Backend, Box
from ..errors import BoxLostError, JudgeError
from ..problem.model import Problem, Subtask, TestCase
from .checkers import make_checker
from .compiler import Compiler, SharedCompiles
from .grading import KattisGrading, make_grading
from .profile import JudgeProfile, get_profile
from .results import CompileResult, JudgeReport, ReportText, SubtaskResult, TestResult, Verdict
from .score_types import ScoreType, get_score_type
from .submission import Submission
from .task_types import JudgeContext, TaskType, get_task_type
from .task_types.base import system_error

log = logging.getLogger(__name__)

TestCallback = Callable[[TestResult], None]


@dataclass
class _ProblemState:
    ctx: JudgeContext
    task_type: TaskType
    grading: KattisGrading | None = None


class Judge:
    """Judges submissions on one backend; reuse it for many submissions (caches per problem).

    ``backend`` is a backend's name (made with ``backend_options``) or a :class:`Backend` itself.
    ``shared_compiles`` is a compile cache shared beyond this machine, behind the local one (a Ray judge actor's
    link to its cluster's registry: :class:`~ioi_eval.judge.compiler.SharedCompiles`).
    """

    def __init__(self, backend: str | Backend = "local", workers: int | None = None, cache_dir: Path | None = None,
                 use_cache: bool = True, profile: str | JudgeProfile | None = None,
                 shared_compiles: SharedCompiles | None = None, **backend_options: object) -> None:
        self.profile = get_profile(profile)
        if isinstance(backend, str):
            self.backend = get_backend(backend, **backend_options)
        elif backend_options:
            raise TypeError(f"backend options ({', '.join(backend_options)}) go with a backend name; "
                            f"this {type(backend).__name__} is made already")
        else:
            self.backend = backend
        self.workers = workers
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.shared_compiles = shared_compiles
        self._box: Box | None = None
        self._compiler: Compiler | None = None
        self._problems: dict[tuple[str, Path], _ProblemState] = {}
        self._lock = threading.Lock()
        self._slots: threading.BoundedSemaphore | None = None
        self._pool: Any = None  # the Ray backend's submission path (ioi_eval.judge.on_ray.SubmissionPool)
        self._warned_on_test = False
        self._threads: ThreadPoolExecutor | None = None  # submit_text's judging threads (not on the Ray path)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def box(self) -> Box:
        """The box, opened on first use."""
        if self._box is None:
            self._box = self.backend.open(self.workers)
            self._compiler = Compiler(self._box, self.cache_dir, use_cache=self.use_cache, shared=self.shared_compiles)
            # One slot per worker, shared by every compile and test of every submission in flight,
            # so that one submission's compile overlaps another's tests without oversubscribing.
            self._slots = threading.BoundedSemaphore(max(1, self._box.workers))
        return self._box

    def _submission_pool(self) -> Any:
        """The backend's submission path, opened on first use, where it has one (``--backend ray``: whole
        submissions judged in actors on the nodes) and nobody opened the box itself before; else None."""
        if self._pool is not None:
            return self._pool
        if self._box is not None or not getattr(self.backend, "judges_submissions", False):
            return None
        with self._lock:
            if self._pool is None:
                from .on_ray import open_pool

                self._pool = self.backend.open_submissions(  # type: ignore[attr-defined]
                    open_pool, Judge, self.workers, {"profile": self.profile, "use_cache": self.use_cache})
        return self._pool

    @property
    def submission_pool(self) -> Any:
        """The submission path's pool of judge actors while it is open (else None; asking opens nothing)."""
        return self._pool

    @property
    def streams_tests(self) -> bool:
        """Whether ``judge``'s ``on_test`` sees each test as it finishes (False on the Ray backend's submission
        path: a submission's tests come back with its report). Opens nothing."""
        return not getattr(self.backend, "judges_submissions", False) or self._box is not None

    @property
    def capacity(self) -> int:
        """How many runs (box path) or submissions (submission path) this judge takes at once."""
        pool = self._submission_pool()
        return max(1, pool.workers if pool is not None else self.box.workers)

    @property
    def info(self) -> BoxInfo:
        """What the box says about itself (its tools, isolation), opening the judge's box or actors."""
        pool = self._submission_pool()
        if pool is not None:
            return BoxInfo.model_validate(pool.info)
        return self.box.info

    @property
    def box_info(self) -> BoxInfo | None:
        """What the box says about itself, once it is open (None before: asking does not open it)."""
        if self._pool is not None and self._pool.info is not None:
            return BoxInfo.model_validate(self._pool.info)
        return self._box.info if self._box is not None else None

    def close(self) -> None:
        """Release the box (and the submission path's actors), once judging handed to threads has ended."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._box is not None:
            self._box.close()
            self._box = None

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- per problem -------------------------------------------------------------------------
    def _state(self, problem: Problem) -> _ProblemState:
        key = (problem.code, problem.root)
        with self._lock:
            if key in self._problems:
                return self._problems[key]
            box = self.box
            assert self._compiler is not None
            ctx = JudgeContext(box=box, compiler=self._compiler, problem=problem, profile=self.profile)
            ctx.checker = make_checker(problem.checker, self.profile, ctx)
            task_type = get_task_type(problem.task_type)
            task_type.setup(ctx)
            state = _ProblemState(ctx, task_type)
            self._problems[key] = state
            return state

    # -- judging -----------------------------------------------------------------------------
    def judge(self, problem: Problem, submission: Submission, on_test: TestCallback | None = None,
              skip: bool = True, parallel: int | None = None) -> JudgeReport:
        """Judge one submission. Judge errors of single tests are SE results, not exceptions.

        ``problem`` may be a view of a loaded problem (``model_copy`` with other subtasks, e.g. only the one a
        reward targets): it shares the package's compiled checker and graders, and only its tests are run.
        ``parallel`` caps this submission's tests in flight (default: the box's workers); with many submissions
        judged at once, a low cap keeps a failed submission from having started tests it would skip.

        ``on_test`` is called with each test's result as it finishes; on the Ray backend's submission path
        (whole submissions judged in the actors, :attr:`streams_tests` False) it is called for every test once the
        report has come back, and a warning says so the first time.

        ``skip=False`` runs every test even where a subtask is already decided (full verdicts). A
        problem scored the Codeforces way never skips: its partial fraction needs every test; nor does one
        scored by a Kattis group tree: its graders read every test's result.
        """
        skip = skip and problem.scoring != "codeforces" and problem.grading is None
        log.debug("judging %s on %s", submission.name, problem.code)
        pool = self._submission_pool()
        if pool is not None:  # judged whole on a node: the report comes back (tests reported after it)
            if on_test is not None and not self._warned_on_test:
                self._warned_on_test = True
                log.warning("the Ray backend judges each submission whole on a node: on_test is called for its "
                            "tests once its report has come back, not as each test finishes")
            got = pool.judge(problem, submission, skip, parallel)
            report = got.report if isinstance(got, ReportText) else not_judged(problem, got)
            if on_test is not None:
                for test in ran_tests(report):
                    on_test(test)
            return report
        state = self._state(problem)
        assert self._slots is not None
        with self._slots:
            compile_result, prepared = state.task_type.prepare(state.ctx, submission)
        score_type = get_score_type(problem.score_type)
        if not compile_result.ok or prepared is None:
            tests = {name: TestResult(name=name, verdict=Verdict.CE, message="Compilation failed")
                     for name in problem.test_order()}
        else:
            tests = self._run_tests(state, problem, prepared, score_type, on_test, skip, parallel)
        report = build_report(problem, compile_result, tests, score_type)
        if problem.grading is None:  # a view of a graded problem (e.g. a reward's one group) is scored as it says
            return report
        with self._lock:  # the grader is compiled once, when a problem that is graded first arrives
            if state.grading is None:
                state.grading = make_grading(problem, state.ctx)
        return state.grading.report(state.ctx, report, problem)

    def judge_text(self, problem: Problem, submission: Submission, skip: bool = True) -> ReportText:
        """Judge one submission for the record (``ioi-eval run``): its report as JSON with its score and first SE.

        On the submission path (``--backend ray``) the actor's JSON is kept as it came, unparsed: a driver that
        records thousands of reports a second spends no time turning them into objects and back (nor its GC
        walking them). Elsewhere it is :meth:`judge`'s report, dumped once."""
        skip = skip and problem.scoring != "codeforces" and problem.grading is None
        pool = self._submission_pool()
        if pool is None:
            return ReportText.of(self.judge(problem, submission, skip=skip))
        got = pool.judge(problem, submission, skip)
        return got if isinstance(got, ReportText) else ReportText.of(not_judged(problem, got))

    def submit_text(self, problem: Problem, submission: Submission, skip: bool = True) -> Future[ReportText]:
        """:meth:`judge_text` without waiting: a future of the report (``ioi-eval run`` queues every submission
        so). On the submission path, the queued submissions go to the actors in chunks where the driver is the
        limit (:meth:`~ioi_eval.judge.on_ray.SubmissionPool.submit`); elsewhere ``capacity`` threads judge them.
        Callbacks added to the future run in the thread that judged it."""
        skip = skip and problem.scoring != "codeforces" and problem.grading is None
        pool = self._submission_pool()
        if pool is not None:
            def convert(got: ReportText | str) -> ReportText:
                return got if isinstance(got, ReportText) else ReportText.of(not_judged(problem, got))

            return pool.submit(problem, submission, skip, convert)
        workers = self.capacity  # opens the box (outside the lock: opening it takes no lock of this judge)
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ioi-run-judge")
            threads = self._threads
        return threads.submit(self.judge_text, problem, submission, skip)

    def judge_many(self, items: list[tuple[Problem, Submission]], skip: bool = True,
                   on_report: Callable[[JudgeReport], None] | None = None) -> list[JudgeReport]:
        """Judge several submissions concurrently (compiles overlap tests); reports in input order.

        ``on_report`` is called with each report as it is ready (in completion order: progress)."""
        pool = self._submission_pool()
        if pool is not None:
            return self._judge_chunks(pool, items, skip, on_report)
        workers = self.capacity
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ioi-sub") as pool:
            futures = [pool.submit(self.judge, p, s, None, skip) for p, s in items]
            if on_report is not None:
                for fut in as_completed(futures):
                    on_report(fut.result())
            return [fut.result() for fut in futures]

    def _judge_chunks(self, pool: Any, items: list[tuple[Problem, Submission]], skip: bool,
                      on_report: Callable[[JudgeReport], None] | None) -> list[JudgeReport]:
        """The submission path's judge_many: with many more submissions than actor slots, several go in one
        actor call (at most ``CHUNK_MAX``, and ``CHUNKS_PER_SLOT`` calls for every slot), which spares the
        driver a Ray call per submission; a lost call is retried once, whole, on another actor."""
        from .on_ray import chunk_size

        size = chunk_size(len(items), pool.workers)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]

        def run(chunk: list[tuple[Problem, Submission]]) -> list[JudgeReport]:
            out = []
            for (problem, _), got in zip(chunk, pool.judge_chunk(chunk, skip), strict=True):
                if isinstance(got, Exception):  # that submission's box failed: its SE, the chunk's others kept
                    got = f"{type(got).__name__}: {got}"
                out.append(got.report if isinstance(got, ReportText) else not_judged(problem, got))
            return out

        with ThreadPoolExecutor(max_workers=pool.workers, thread_name_prefix="ioi-sub") as threads:
            futures = [threads.submit(run, chunk) for chunk in chunks]
            if on_report is not None:
                for fut in as_completed(futures):
                    for report in fut.result():
                        on_report(report)
            return [report for fut in futures for report in fut.result()]

    def _run_tests(self, state: _ProblemState, problem: Problem, prepared: object, score_type: ScoreType,
                   on_test: TestCallback | None, skip: bool, parallel: int | None = None) -> dict[str, TestResult]:
        # ``problem`` may be a view of the state's problem (same package, fewer subtasks: a reward's target).
        order = problem.test_order()
        owners: dict[str, list[int]] = {t: [] for t in order}
        for st in problem.subtasks:
            for t in st.tests:
                owners[t].append(st.index)
        zeroed: set[int] = set()
        # Subtasks that one zero outcome decides (their remaining tests may be skipped).
        decides = {st.index: subtask_score_type(st, score_type).zero_decides for st in problem.subtasks}
        results: dict[str, TestResult] = {}
        workers = max(1, min(parallel or state.ctx.box.workers, state.ctx.box.workers))

        def needed(name: str) -> bool:
            return not skip or any(i not in zeroed for i in owners[name])

        slots = self._slots
        assert slots is not None

        def evaluate(test: TestCase) -> TestResult:
            with slots:
                if not needed(test.name):  # decided while this test waited for a slot
                    return skipped(test.name)
                try:
                    try:
                        return state.task_type.evaluate(state.ctx, prepared, test)
                    except BoxLostError:  # a remote box died between two steps of the test: all of it again
                        return state.task_type.evaluate(state.ctx, prepared, test)
                except JudgeError as exc:
                    return system_error(test, str(exc))

        pending = iter(order)
        in_flight: dict[Future[TestResult], str] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ioi-judge") as pool:
            while True:
                while len(in_flight) < workers:
                    name = next(pending, None)
                    if name is None:
                        break
                    if needed(name):
                        in_flight[pool.submit(evaluate, problem.tests[name])] = name
                    else:
                        results[name] = skipped(name)
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = in_flight.pop(fut)
                    res = fut.result()
                    results[name] = res
                    if res.score <= 0.0 and res.verdict != Verdict.SE:
                        zeroed.update(i for i in owners[name] if decides[i])
                    if on_test is not None:
                        on_test(res)
        return results


def ran_tests(report: JudgeReport) -> list[TestResult]:
    """The tests of ``report`` that ran (what ``on_test`` sees): none when the compile failed, no SKIPPED one."""
    return [t for t in report.tests if t.verdict != Verdict.SKIPPED] if report.compile.ok else []


def not_judged(problem: Problem, cause: str) -> JudgeReport:
    """The report of a submission no box could judge: every test SE naming ``cause`` (never a silent 0)."""
    tests = {name: TestResult(name=name, verdict=Verdict.SE, message=cause) for name in problem.test_order()}
    return build_report(problem, CompileResult(ok=True), tests, get_score_type(problem.score_type))


def skipped(name: str) -> TestResult:
    """A test not run because every subtask that holds it already scored 0."""
    return TestResult(name=name, verdict=Verdict.SKIPPED, message="Skipped: its subtasks already scored 0")


def subtask_score_type(subtask: Subtask, default: ScoreType) -> ScoreType:
    """The subtask's own score type where it has one (e.g. a Polygon each-test group), else the problem's."""
    return get_score_type(subtask.score_type) if subtask.score_type else default


def subtask_status(tests: list[TestResult]) -> Verdict:
    """The verdict that explains a subtask's score: SE first, else the first worst-scoring test."""
    if any(t.verdict == Verdict.SE for t in tests):
        return Verdict.SE
    ran = [t for t in tests if t.verdict != Verdict.SKIPPED]
    if not ran:
        return Verdict.SKIPPED
    worst = min(t.score for t in ran)
    return next(t.verdict for t in ran if t.score == worst)


def build_report(problem: Problem, compile_result: CompileResult, tests: dict[str, TestResult],
                 score_type: ScoreType) -> JudgeReport:
    """Score the per-test results into subtasks and a total."""
    subtasks = []
    for st in problem.subtasks:
        st_tests = [tests[t] for t in st.tests]
        points = subtask_score_type(st, score_type).subtask_points(st, [t.score for t in st_tests])
        subtasks.append(SubtaskResult(name=st.name, points=st.points,
                                      score=round(points, problem.score_precision),
                                      status=subtask_status(st_tests)))
    total = round(sum(s.score for s in subtasks), problem.score_precision)
    return JudgeReport(problem=problem.code, score=total, max_score=problem.max_score, compile=compile_result,
                       subtasks=subtasks, tests=[tests[t] for t in problem.test_order()])
