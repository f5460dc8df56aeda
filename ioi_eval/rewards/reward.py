"""``CodeReward``: the strict judge as a reward function for RL trainers (TRL, verl, OpenRLHF, plain Python).

Built once for the trainer's lifetime: it loads the problem set, opens one box pool on the backend and checks the
toolchain at construction, so a misconfiguration fails before step 1. Each call:

1. finds every row's target (``targets.py``) and extracts the code of every completion (``run/extract.py``); a
   completion without code is a real 0;
2. judges each distinct (target, language, code) once, concurrently on the shared box pool and compile cache; a
   small memory of recent verdicts spares re-judging code seen in earlier calls;
3. turns each report into a reward with the mode (``modes.py``). A judge fault (an SE test, a lost box, a judge
   error, a sample not judged within the call's ``budget_s``) is ``None``, never 0, and counts in the fault window
   (``faults.py``), which raises when faults dominate.

Picklable (TRL's AsyncGRPOTrainer ships reward functions to another process): only the configuration travels; the
box pool and the problems are opened again, on first use, where the copy lands.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..backends.base import Backend
from ..errors import IoiEvalError, JudgeError, RewardConfigError
from ..judge.judge import Judge
from ..judge.languages import get_language
from ..judge.results import JudgeReport, Verdict
from ..judge.submission import Submission
from ..problem.model import Problem
from ..run.extract import extract_code
from .faults import FaultWindow
from .modes import get_mode, passed
from .targets import InlineProblems, ProblemIndex, Target

Status = Literal["judged", "no_code", "fault", "timeout"]

#: keyword arguments TRL passes besides the dataset's columns
TRAINER_KWARGS = frozenset({"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric",
                            "environments"})


class RewardResult(BaseModel):
    """The reward of one sample and the verdicts behind it (``reward`` is None for a fault or a timeout)."""

    reward: float | None
    status: Status
    target: str | None = None
    verdict: str = ""
    failed_test: str | None = None
    passed: int = 0
    tests: int = 0
    score: float | None = None
    max_score: float | None = None
    message: str = ""
    cached: bool = False

    @property
    def fault(self) -> bool:
        """Whether the judge (not the model) failed on this sample."""
        return self.status in ("fault", "timeout")


@dataclass(frozen=True)
class Sample:
    """A completion to judge against a target."""

    target: Target
    text: str


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the last message of a conversational one (its text parts)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, Sequence) and completion:
        content = completion[-1].get("content") if isinstance(completion[-1], Mapping) else completion[-1]
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):  # content parts: [{"type": "text", "text": ...}]
            return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return ""


def summarise(report: JudgeReport, reward: float) -> RewardResult:
    """A judged report as a reward result: the first failing test and its verdict."""
    n_passed = sum(passed(t) for t in report.tests)
    if not report.compile.ok:
        verdict, failed, message = Verdict.CE.value, None, report.compile.message[:500]
    else:
        bad = next((t for t in report.tests if not passed(t) and t.verdict != Verdict.SKIPPED), None)
        verdict = bad.verdict.value if bad else Verdict.AC.value
        failed, message = (bad.name, bad.message[:500]) if bad else (None, "")
    return RewardResult(reward=reward, status="judged", target=report.problem, verdict=verdict, failed_test=failed,
                        passed=n_passed, tests=len(report.tests), score=report.score, max_score=report.max_score,
                        message=message)


def fault(target: str | None, message: str, status: Status = "fault") -> RewardResult:
    """A sample the judge could not score."""
    return RewardResult(reward=None, status=status, target=target, verdict="SE" if status == "fault" else "TIMEOUT",
                        message=message)


class CodeReward:
    """The strict judge as a reward: ``reward(prompts, completions, **columns) -> list[float | None]``.

    ``problems`` is a ``--problems`` spec (a folder of packages, ``hf:open-r1/ioi``...), a list of loaded problems,
    or None when every row carries open-r1's ``verification_info``. ``mode`` is ``binary``, ``partial``, ``ioi``
    or ``codeforces`` (with ``cf_scoring``). ``backend`` is a backend's name (with ``backend_options``) or a
    backend. ``budget_s`` bounds the wall time of one call: samples not judged by then are ``None``. More than
    ``max_fault_share`` faults among the last ``fault_window`` samples (once ``min_fault_samples`` are in) raise
    :class:`~ioi_eval.errors.RewardFaultError`.
    """

    def __init__(self, problems: str | Sequence[Problem] | None = None, *, mode: str = "binary",
                 cf_scoring: str = "weighted_sum", backend: str | Backend = "local", workers: int | None = None,
                 judge_profile: str | None = None, language: str = "cpp", budget_s: float | None = None,
                 max_fault_share: float = 0.5, fault_window: int = 256, min_fault_samples: int = 32,
                 memo_size: int = 4096, inline_time_limit: float = 2.0, inline_memory_mb: int = 256,
                 name: str = "code_reward", backend_options: Mapping[str, Any] | None = None) -> None:
        self._config = dict(problems=problems if isinstance(problems, (str, type(None))) else list(problems),
                            mode=mode, cf_scoring=cf_scoring, backend=backend, workers=workers,
                            judge_profile=judge_profile, language=language, budget_s=budget_s,
                            max_fault_share=max_fault_share, fault_window=fault_window,
                            min_fault_samples=min_fault_samples, memo_size=memo_size,
                            inline_time_limit=inline_time_limit, inline_memory_mb=inline_memory_mb, name=name,
                            backend_options=dict(backend_options or {}))
        self._setup()
        self._open()  # a misconfiguration fails here, not at step 1,000

    # -- configuration and lifecycle ----------------------------------------------------------------
    def _setup(self) -> None:
        """Everything cheap, checked at once (also in an unpickled copy)."""
        c = self._config
        self.__name__ = c["name"]  # TRL names the reward's metrics after it (rewards/<name>/mean)
        self.mode = get_mode(c["mode"], c["cf_scoring"])
        if c["budget_s"] is not None and c["budget_s"] <= 0:
            raise RewardConfigError(f"budget_s must be positive, not {c['budget_s']}")
        try:
            self.language = get_language(c["language"]).name
        except IoiEvalError as exc:
            raise RewardConfigError(str(exc)) from None
        self.budget_s: float | None = c["budget_s"]
        self.faults = FaultWindow(c["max_fault_share"], c["fault_window"], c["min_fault_samples"])
        self._inline = InlineProblems(c["inline_time_limit"], c["inline_memory_mb"])
        self._memo: OrderedDict[tuple, RewardResult] = OrderedDict()
        self._memo_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._judge: Judge | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._index: ProblemIndex | None = None
        self._inflight: dict[tuple, Future[RewardResult]] = {}

    def _open(self) -> None:
        """Load the problems, open the box pool and check the toolchain (once per process)."""
        with self._open_lock:
            if self._judge is not None:
                return
            c = self._config
            problems = self._load_problems(c["problems"])
            backend = c["backend"]
            name = backend if isinstance(backend, str) else type(backend).__name__
            try:
                judge = Judge(backend, workers=c["workers"], profile=c["judge_profile"], **c["backend_options"])
            except IoiEvalError as exc:
                raise RewardConfigError(f"reward backend: {exc}") from None
            try:
                info, workers = judge.info, judge.capacity
            except Exception as exc:  # whatever the backend raises while starting: one line
                judge.close()
                raise RewardConfigError(f"cannot open the {name} backend: {type(exc).__name__}: {exc}") from None
            if self.language not in info.tools:
                judge.close()
                raise RewardConfigError(f"the {name} backend has no {self.language} toolchain "
                                        f"(it has: {', '.join(info.tools) or 'none'}); is the compiler installed?")
            self._index = ProblemIndex(problems, self.language, self._inline)
            self._pool = ThreadPoolExecutor(max_workers=max(2, 2 * workers), thread_name_prefix="ioi-reward")
            self._judge = judge

    @staticmethod
    def _load_problems(problems: str | list[Problem] | None) -> list[Problem]:
        if problems is None:
            return []
        if not isinstance(problems, str):
            return list(problems)
        from ..sources import load_problem_set

        try:
            return load_problem_set(problems)
        except IoiEvalError as exc:
            raise RewardConfigError(f"reward problems {problems}: {exc}") from None

    @property
    def problems(self) -> dict[str, Problem]:
        """The problem set by code."""
        self._open()
        assert self._index is not None
        return dict(self._index.by_code)

    def close(self) -> None:
        """Release the box pool (a later call opens a new one)."""
        with self._open_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            with self._memo_lock:  # cancelled judgings must not be joined by a later call
                self._inflight.clear()
            if self._judge is not None:
                self._judge.close()
                self._judge = None

    def __enter__(self) -> CodeReward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self._config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._config = state["config"]
        self._setup()  # the box pool opens on first use in this process

    def __repr__(self) -> str:
        c = self._config
        return f"{type(self).__name__}(mode={c['mode']!r}, backend={c['backend']!r}, problems={c['problems']!r})"

    # -- targets ------------------------------------------------------------------------------------
    def target_of(self, row: Mapping[str, Any]) -> Target:
        """The target a dataset row names (raises :class:`RewardConfigError` for one it cannot find)."""
        self._open()
        assert self._index is not None
        return self._index.from_row(row)

    def target_of_label(self, label: str, language: str | None = None) -> Target:
        """The target of a label: ``<id>``, ``<id>/<subtask>`` or a ``verification_info`` JSON object."""
        self._open()
        assert self._index is not None
        return self._index.from_label(label, language)

    def check_dataset(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Find the target of every row now (before training); returns how many rows were checked."""
        n = 0
        for row in rows:
            self.target_of(row)
            n += 1
        return n

    # -- judging ------------------------------------------------------------------------------------
    def _prepare(self, samples: Sequence[Sample]) -> tuple[list[RewardResult | None], dict[tuple, list[int]],
                                                             dict[tuple, Sample]]:
        """Extract code; answer no-code samples and memorised verdicts; group the rest by distinct code."""
        out: list[RewardResult | None] = [None] * len(samples)
        groups: dict[tuple, list[int]] = {}
        first: dict[tuple, Sample] = {}
        for i, sample in enumerate(samples):
            t = sample.target
            ex = extract_code(sample.text, t.language, t.problem)
            if not ex.ok or ex.code is None:
                out[i] = RewardResult(reward=0.0, status="no_code", target=t.label, verdict="NO_CODE",
                                      message=ex.note)
                continue
            key = (t.problem.code, str(t.problem.root), t.subtask.name if t.subtask else None, t.language,
                   hashlib.sha256(ex.code.encode()).hexdigest())
            with self._memo_lock:
                hit = self._memo.get(key)
                if hit is not None:
                    self._memo.move_to_end(key)
            if hit is not None:
                out[i] = hit.model_copy(update={"cached": True})
                continue
            groups.setdefault(key, []).append(i)
            first.setdefault(key, Sample(t, ex.code))
        return out, groups, first

    def _submit(self, key: tuple, sample: Sample) -> Future[RewardResult]:
        """Judge one distinct submission on the pool (joining one already in flight for the same key)."""
        with self._memo_lock:
            fut = self._inflight.get(key)
            if fut is not None:
                return fut
            done = self._memo.get(key)
            if done is not None:  # judged by another call since this one looked
                fut = Future()
                fut.set_result(done)
                return fut
            assert self._pool is not None
            fut = self._pool.submit(self._judge_one, key, sample)
            self._inflight[key] = fut
        return fut

    def _judge_one(self, key: tuple, sample: Sample) -> RewardResult:
        try:
            result = self._judge_code(sample.target, sample.text)
        finally:
            with self._memo_lock:
                self._inflight.pop(key, None)
        if not result.fault:
            with self._memo_lock:
                self._memo[key] = result
                while len(self._memo) > self._config["memo_size"]:
                    self._memo.popitem(last=False)
        return result

    def _judge_code(self, target: Target, code: str) -> RewardResult:
        """Judge extracted code against a target: a judged result or a fault, never an exception for a fault."""
        judge = self._judge
        if judge is None:
            return fault(target.label, "the reward was closed")
        view, skip = self.mode.view(target.problem, target.subtask)
        sub = Submission(name=get_language(target.language).source_name("submission"), language=target.language,
                         source=code.encode())
        parallel = None
        if skip:  # with others in flight, fewer tests at once: a failure then leaves fewer started tests wasted
            with self._memo_lock:
                in_flight = len(self._inflight)
            parallel = max(1, judge.capacity // max(1, in_flight))
        try:
            report = judge.judge(view, sub, skip=skip, parallel=parallel)
        except (JudgeError, OSError) as exc:  # the judge failed (a lost box, a broken channel), not the model
            return fault(target.label, f"{type(exc).__name__}: {exc}")
        if report.has_system_error:
            bad = report.system_errors()[0]
            return fault(target.label, f"judge error on test {bad.name}: {bad.message}")
        result = summarise(report, self.mode.score(report))
        return result.model_copy(update={"target": target.label})

    def _finish(self, out: list[RewardResult | None], groups: dict[tuple, list[int]], first: dict[tuple, Sample],
                futures: dict[tuple, Future[RewardResult]]) -> list[RewardResult]:
        """Fill in the judged results; what is not done yet (past the budget) is a timeout, not a 0."""
        for key, fut in futures.items():
            if fut.cancelled():  # the reward was closed while it waited: a fault, not a 0
                res = fault(first[key].target.label, "the reward was closed before this sample was judged")
            elif fut.done():
                res = fut.result()
            else:  # it goes on judging and fills the memory for a later call
                res = fault(first[key].target.label, f"not judged within the call's budget of {self.budget_s:g} s",
                            status="timeout")
            for n, i in enumerate(groups[key]):
                out[i] = res if n == 0 else res.model_copy(update={"cached": True})
        return [r for r in out if r is not None]

    def judge_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Judge samples (concurrently, each distinct code once); faults are results, not exceptions."""
        self._open()
        out, groups, first = self._prepare(samples)
        futures = {key: self._submit(key, first[key]) for key in groups}
        if futures:
            wait_futures(list(futures.values()), timeout=self.budget_s)
        return self._finish(out, groups, first, futures)

    async def ajudge_samples(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """:meth:`judge_samples` without blocking the event loop."""
        self._open()
        out, groups, first = self._prepare(samples)
        futures = {key: self._submit(key, first[key]) for key in groups}
        if futures:
            await asyncio.wait([asyncio.wrap_future(f) for f in futures.values()], timeout=self.budget_s)
        return self._finish(out, groups, first, futures)

    # -- the trainer's contract ---------------------------------------------------------------------
    def _samples(self, completions: Sequence[Any], columns: Mapping[str, Any]) -> list[Sample]:
        n = len(completions)
        cols = {k: v for k, v in columns.items()
                if k not in TRAINER_KWARGS and isinstance(v, (list, tuple)) and len(v) == n}
        samples = []
        for i, completion in enumerate(completions):
            row = {k: v[i] for k, v in cols.items()}
            samples.append(Sample(self.target_of(row), completion_text(completion)))
        return samples

    def _report(self, results: list[RewardResult], seconds: float, kwargs: Mapping[str, Any]) -> list[float | None]:
        """Log the call's metrics (when the trainer gave ``log_metric``/``log_extra``) and feed the fault window."""
        n = max(1, len(results))
        log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
        log_extra: Callable[[str, list], None] | None = kwargs.get("log_extra")
        name = self.__name__
        if callable(log_metric):
            log_metric(f"{name}/faults", sum(r.status == "fault" for r in results) / n)
            log_metric(f"{name}/timeouts", sum(r.status == "timeout" for r in results) / n)
            log_metric(f"{name}/no_code", sum(r.status == "no_code" for r in results) / n)
            log_metric(f"{name}/reused", sum(r.cached for r in results) / n)
            log_metric(f"{name}/seconds", seconds)
        if callable(log_extra):
            log_extra(f"{name}/verdict", [r.verdict + (f" {r.failed_test}" if r.failed_test else "")
                                          for r in results])
        self.faults.record([r.message or r.status if r.fault else None for r in results])
        return [r.reward for r in results]

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                 **kwargs: Any) -> list[float | None]:
        """TRL's reward contract: one reward per completion (None where the judge failed)."""
        if completions is None:
            raise TypeError("CodeReward needs completions=")
        start = time.monotonic()
        results = self.judge_samples(self._samples(completions, kwargs))
        return self._report(results, time.monotonic() - start, kwargs)

    async def acall(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                    **kwargs: Any) -> list[float | None]:
        """:meth:`__call__` as a coroutine (judging runs on the reward's threads; the loop stays free)."""
        if completions is None:
            raise TypeError("CodeReward needs completions=")
        start = time.monotonic()
        self._open()
        samples = await asyncio.to_thread(self._samples, completions, kwargs)  # may write inline packages
        results = await self.ajudge_samples(samples)
        return self._report(results, time.monotonic() - start, kwargs)


class AsyncCodeReward(CodeReward):
    """:class:`CodeReward` whose ``__call__`` is a coroutine: TRL gathers async reward functions concurrently."""

    async def __call__(self, prompts: Sequence[Any] | None = None,  # type: ignore[override]
                       completions: Sequence[Any] | None = None, **kwargs: Any) -> list[float | None]:
        """The async reward contract."""
        return await self.acall(prompts, completions, **kwargs)
