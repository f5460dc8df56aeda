"""Extra sandbox work of ``ioi-eval select``: the model's input generator, and samples run on extra inputs.

Every result is committed to the run store the moment it exists (``extra_inputs``, ``extra_runs``), so a
second ``select`` (or one resumed after a kill) runs nothing it ran before; the box is opened only when
something is missing.

A sample's *behaviour* on an input is a fingerprint of what it did, no expected output needed:

* Batch: its standard output (or output file), with the grader when the problem links one, compared
  token by token (whitespace runs are one separator), or its verdict when it did not end normally;
* Communication: the manager's outcome (score and message) of a run through the manager and the stub,
  or the users' verdict.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ioi_box.protocol import Limits, Proc, ProcStatus, RunJob

from ..errors import JudgeError
from ..judge.checkers import make_checker
from ..judge.compiler import Compiler, CompileUnit
from ..judge.judge import Judge
from ..judge.languages import Program, get_language
from ..judge.results import Verdict
from ..judge.submission import Submission
from ..judge.task_types import JudgeContext, TaskType, get_task_type
from ..judge.task_types.base import PROC_VERDICT, STDERR_CAPTURE
from ..problem.model import Problem, TestCase
from ..record.store import ExtraInput, ExtraRun, GeneratorRecord, RunStore

GENERATOR_LIMITS = Limits(cpu_s=10, wall_s=21, memory_bytes=1 << 30, output_bytes=64 << 20, processes=16,
                          tmp_bytes=64 << 20)
READ_CAP = 64 << 20


def digest(data: bytes) -> str:
    """The sha256 of ``data`` (hex)."""
    return hashlib.sha256(data).hexdigest()


def output_fingerprint(output: bytes) -> str:
    """An output's fingerprint: its tokens (split at whitespace), hashed."""
    return "OK:" + digest(b" ".join(output.split()))[:20]


@dataclass
class WorkDone:
    """What the extra work of one ``select`` cost: runs made in the box, runs found in the store, seconds."""

    runs: int = 0
    cached: int = 0
    generator_runs: int = 0
    sandbox_s: float = 0.0  # wall time of the sandbox runs made (generators and samples)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, runs: int = 0, cached: int = 0, generator_runs: int = 0, seconds: float = 0.0) -> None:
        """Count work (thread-safe)."""
        with self._lock:
            self.runs += runs
            self.cached += cached
            self.generator_runs += generator_runs
            self.sandbox_s += seconds


@dataclass(frozen=True)
class SampleCode:
    """A sample to run: its key, language and code."""

    key: str
    language: str
    code: str


class BehaviourRunner:
    """Runs generators and samples in the judge's box, through the run store's cache.

    ``judge_factory`` makes the judge (and so opens the box) only when some run is not in the store.
    """

    def __init__(self, store: RunStore, judge_factory: Callable[[], Judge]) -> None:
        self.store = store
        self.judge_factory = judge_factory
        self.work = WorkDone()
        self._judge: Judge | None = None
        self._compiler: Compiler | None = None
        self._contexts: dict[str, tuple[JudgeContext, TaskType]] = {}
        self._lock = threading.Lock()
        self._tmp = tempfile.TemporaryDirectory(prefix="ioi-eval-select-")

    def close(self) -> None:
        """Close the judge's box (if opened) and remove the temporary input files."""
        if self._judge is not None:
            self._judge.close()
            self._judge = None
        self._tmp.cleanup()

    # -- the box, opened on demand --------------------------------------------------------------
    def _context(self, problem: Problem) -> tuple[JudgeContext, TaskType]:
        with self._lock:
            if problem.code in self._contexts:
                return self._contexts[problem.code]
            if self._judge is None:
                self._judge = self.judge_factory()
                self._compiler = Compiler(self._judge.box, self._judge.cache_dir, use_cache=self._judge.use_cache)
            assert self._compiler is not None
            ctx = JudgeContext(box=self._judge.box, compiler=self._compiler, problem=problem,
                               profile=self._judge.profile)
            ctx.checker = make_checker(problem.checker, self._judge.profile, ctx)
            task_type = get_task_type(problem.task_type)
            task_type.setup(ctx)
            self._contexts[problem.code] = (ctx, task_type)
            return ctx, task_type

    @property
    def workers(self) -> int:
        """Parallel runs (the box's workers once open, else 1)."""
        return max(1, self._judge.box.workers) if self._judge is not None else 1

    # -- inputs ---------------------------------------------------------------------------------
    def generated_inputs(self, problem: Problem, generator: GeneratorRecord, count: int) -> list[ExtraInput]:
        """The generator's outputs for seeds 1..count (failures included), made once and stored."""
        stored = {i.name: i for i in self.store.extra_inputs(problem.code) if i.origin == "generated"}
        names = [f"seed-{seed}" for seed in range(1, count + 1)]
        if all(n in stored for n in names):
            return [stored[n] for n in names]
        if generator.extraction != "ok" or not generator.code:
            return []
        ctx, _ = self._context(problem)
        lang = get_language(generator.language)
        source = lang.source_name("generator")
        unit = CompileUnit(language=lang.name, files=((source, generator.code.encode()),), compiled=(source,),
                           main=source, flags=lang.compile_flags(ctx.profile.cpp_flags, ()))
        result, program = ctx.compiler.compile(unit)
        if not result.ok or program is None:
            failed = [ExtraInput(name=n, origin="generated", sha256=None, data=None, wall_s=0.0,
                                 error=f"the generator does not compile: {result.message.strip()[:300]}")
                      for n in names]
            self.store.save_extra_inputs(problem.code, failed)
            return failed

        def one(seed: int) -> ExtraInput:
            made = self._generate(ctx, program, seed)
            self.store.save_extra_inputs(problem.code, [made])
            return made

        missing = [seed for seed, n in enumerate(names, 1) if n not in stored]
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ioi-select-gen") as pool:
            for made in pool.map(one, missing):
                stored[made.name] = made
        return [stored[n] for n in names]

    def _generate(self, ctx: JudgeContext, program: Program, seed: int) -> ExtraInput:
        work = ctx.box.new_dir()
        try:
            out = f"{work}/input"
            proc = Proc(argv=[*program.argv, str(seed)], binds=dict(program.files), limits=GENERATOR_LIMITS,
                        stdout=out, stderr=f"{work}/stderr", capture_stderr=STDERR_CAPTURE)
            start = time.monotonic()
            result = ctx.run(RunJob(procs=[proc]))
            took = time.monotonic() - start
            self.work.add(generator_runs=1, seconds=took)
            name = f"seed-{seed}"
            if result.error:
                raise JudgeError(f"sandbox error running the input generator: {result.error}")
            pr = result.procs[0]
            if pr.status == ProcStatus.XX:  # the sandbox failed, not the generator: never cached as its outcome
                raise JudgeError(f"sandbox error running the input generator: {pr.message}")
            if pr.status != ProcStatus.OK:
                return ExtraInput(name=name, origin="generated", sha256=None, data=None, wall_s=took,
                                  error=f"{PROC_VERDICT[pr.status].value}: {pr.message}")
            data = ctx.box.read_bytes(out, READ_CAP)
            if not data.strip():
                return ExtraInput(name=name, origin="generated", sha256=None, data=None, wall_s=took,
                                  error="empty output")
            return ExtraInput(name=name, origin="generated", sha256=digest(data), data=data, wall_s=took, error=None)
        finally:
            ctx.box.remove([work])

    # -- behaviour ------------------------------------------------------------------------------
    def behaviours(self, problem: Problem, samples: Sequence[SampleCode], inputs: Sequence[ExtraInput]
                   ) -> dict[str, tuple[str, ...]]:
        """Each sample's outcome on each input (in ``inputs``' order); stored runs are not run again."""
        usable = [i for i in inputs if i.sha256 is not None and i.data is not None]
        if not usable:
            return {s.key: () for s in samples}
        known = self.store.extra_runs(s.key for s in samples)
        todo = [s for s in samples if any((s.key, i.sha256) not in known for i in usable)]
        self.work.add(cached=sum(1 for s in samples for i in usable if (s.key, i.sha256) in known))
        if todo:
            paths = {i.sha256: self._input_file(i) for i in usable}

            def run_sample(sample: SampleCode) -> None:
                for got in self._run_sample(problem, sample, [i for i in usable if (sample.key, i.sha256) not in known],
                                            paths):
                    known[(sample.key, got[0])] = got[1]

            self._context(problem)  # opens the box first, so the pool below has its workers
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ioi-select-run") as pool:
                list(pool.map(run_sample, todo))
        return {s.key: tuple(known[(s.key, i.sha256)].outcome for i in usable) for s in samples}  # type: ignore[index]

    def _input_file(self, extra: ExtraInput) -> Path:
        assert extra.sha256 is not None and extra.data is not None
        path = Path(self._tmp.name) / f"{extra.sha256}.in"
        if not path.exists():
            path.write_bytes(extra.data)
        return path

    def _run_sample(self, problem: Problem, sample: SampleCode, inputs: Sequence[ExtraInput],
                    paths: dict[str | None, Path]) -> list[tuple[str, ExtraRun]]:
        ctx, task_type = self._context(problem)
        name = get_language(sample.language).source_name(sample.key.replace("/", "_"))
        compiled, prepared = task_type.prepare(ctx, Submission(name=name, language=sample.language,
                                                               source=sample.code.encode()))
        out = []
        for extra in inputs:
            assert extra.sha256 is not None
            if not compiled.ok or prepared is None:
                run = ExtraRun(outcome="CE", cpu_s=0.0, wall_s=0.0)
            else:
                test = TestCase(name=f"extra-{extra.sha256[:12]}", input=paths[extra.sha256], output=None)
                start = time.monotonic()
                run = self._run_one(ctx, task_type, prepared, test)
                self.work.add(runs=1, seconds=time.monotonic() - start)
            self.store.save_extra_run(sample.key, extra.sha256, run)
            out.append((extra.sha256, run))
        return out

    def _run_one(self, ctx: JudgeContext, task_type: TaskType, prepared: object, test: TestCase) -> ExtraRun:
        if hasattr(task_type, "run_program"):  # a task type that runs the program alone (Batch): its raw output
            return self._run_batch(ctx, task_type, prepared, test)  # type: ignore[arg-type]
        result = task_type.evaluate(ctx, prepared, test)  # through the manager: its outcome is the behaviour
        if result.verdict == Verdict.SE:  # a judge fault is no behaviour of the sample: never cached as one
            raise JudgeError(f"judge error running {test.name}: {result.message}")
        score = f"{result.score:.6f}" if result.verdict.value not in ("TLE", "MLE", "RE", "OLE") else ""
        outcome = f"{result.verdict.value}:{score}:{digest(result.message.encode())[:12]}" if score else \
            result.verdict.value
        return ExtraRun(outcome=outcome, cpu_s=result.cpu_s, wall_s=result.wall_s)

    def _run_batch(self, ctx: JudgeContext, task_type: TaskType, prepared: Program, test: TestCase) -> ExtraRun:
        """The program (with its grader) on the input; its output (no checker: there is no expected output)."""
        work = ctx.box.new_dir()
        try:
            result, output = task_type.run_program(ctx, prepared, test, work)  # type: ignore[attr-defined]
            if result.error:
                raise JudgeError(f"sandbox error running {test.name}: {result.error}")
            pr = result.procs[0]
            if pr.status == ProcStatus.XX:
                raise JudgeError(f"sandbox error running {test.name}: {pr.message}")
            if pr.status != ProcStatus.OK:
                return ExtraRun(outcome=PROC_VERDICT[pr.status].value, cpu_s=pr.cpu_s, wall_s=pr.wall_s)
            return ExtraRun(outcome=output_fingerprint(ctx.box.read_bytes(output, READ_CAP)), cpu_s=pr.cpu_s,
                            wall_s=pr.wall_s)
        finally:
            ctx.box.remove([work])
