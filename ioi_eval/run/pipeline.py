"""``ioi-eval run``: generate, extract, judge and score a problem set, resumable end to end.

Generation and judging overlap: each completion is stored, its code extracted and its submission
handed to the judge pool the moment it arrives. Everything is committed to the run store as it
happens, so a killed run resumes where it stopped: finished generations are not regenerated and
judged submissions are not re-judged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from pathlib import Path

from ..errors import ConfigMismatch, EngineError, IoiEvalError
from ..generate.base import Completion, Engine, GenerationRequest
from ..judge.judge import Judge
from ..judge.languages import get_language
from ..judge.results import ReportText
from ..judge.submission import Submission
from ..judge.task_types import TASK_TYPES
from ..problem.model import Problem
from ..record.config import RunConfig, diff_configs
from ..record.folder import RunFolder
from ..record.store import Generation, RunStore
from .events import Progress, RunResult
from .extract import extract_code
from .plan import build_generator_requests, build_requests

log = logging.getLogger(__name__)


class Runner:
    """Drives one run folder."""

    def __init__(self, config: RunConfig, run_dir: Path, judge: Judge, problems: list[Problem],
                 engine_factory: Callable[[], Engine] | None, template: Path | None = None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.folder = RunFolder(run_dir)
        self.judge = judge
        self.problems = {p.code: p for p in problems}
        self.engine_factory = engine_factory
        self.template = template
        self.store = self.folder.open_store()
        self._judge_lock = threading.Lock()

    def prepare(self) -> None:
        """Check the stored config (refuse a different one) and register all requests."""
        stored = self.store.get_meta("config")
        new = self.config.stored()
        if stored is not None and stored != new:
            changes = "\n  ".join(diff_configs(stored, new))
            raise ConfigMismatch(f"{self.run_dir} holds a run with another configuration:\n  {changes}\n"
                                 "resume with the same options, or pass --new-run for a fresh run")
        if stored is None:
            self.store.set_meta("config", new)
        requests, sources = build_requests(self.config, list(self.problems.values()), self.template)
        self.store.add_requests(requests, sources)
        self.store.add_generator_requests(build_generator_requests(self.config, list(self.problems.values())))

    # -- the run --------------------------------------------------------------------------------
    def execute(self, progress: Progress | None = None) -> RunResult:
        """Generate what is missing, extract, judge what is unjudged; overlapping all three."""
        progress = progress or Progress()
        result = RunResult()
        for key in self.store.unextracted():  # a previous run stopped between the two writes
            self._extract(key)
        pending = self.store.pending_requests() + self.store.pending_generator_requests()
        unjudged = self.store.unjudged()
        log.info("%d generation(s) to make, %d stored submission(s) to judge", len(pending), len(unjudged))
        progress.on_totals(len(pending), len(unjudged))
        _ = self.judge.capacity  # open it now: the run's metadata records its box even when nothing is left to judge
        queued: list[Future[None]] = []  # one per submission handed to the judge: done once it is recorded
        self._recorder = _Recorder(self.store)
        try:
            for sample in unjudged:
                code = sample.judgement.code if sample.judgement is not None else None
                queued.append(self._queue_judging(sample.key, result, progress, sample.generation, code))
            if pending:
                if self.engine_factory is None:
                    raise IoiEvalError(f"{len(pending)} generations are missing and no engine is configured")
                try:
                    engine = self.engine_factory()
                except IoiEvalError:
                    raise
                except Exception as exc:  # whatever the engine's library raises: one clear line, no traceback
                    raise EngineError(f"cannot start the {self.config.engine} engine: "
                                      f"{type(exc).__name__}: {exc}") from exc
                try:
                    for completion in self._completions(engine, pending):
                        if self.store.is_generator(completion.key):  # --generate-inputs: kept, never judged
                            self._save_generator(completion, result, progress)
                            continue
                        self.store.save_completion(completion)
                        progress.on_generated(completion)
                        if completion.failed:
                            result.generation_failed(completion.error or "failed")
                            continue
                        result.generated += 1
                        if self._extract(completion.key):
                            progress.on_queued(completion.key)
                            queued.append(self._queue_judging(completion.key, result, progress))
                finally:
                    engine.close()
        finally:  # what was queued is judged and recorded before the run ends, even when generation failed
            wait(queued)
            self._recorder.close()
        for fut in queued:
            fut.result()
        return result

    def _completions(self, engine: Engine, pending: list[GenerationRequest]):
        """The engine's completions; an engine failure is a clear error (what was stored stays).

        Any exception the engine raises (vLLM's ``EngineDeadError``, a worker that died, a bug in the engine)
        ends the run as an :class:`~ioi_eval.errors.EngineError`: the completions stored so far and the judging
        of their code are kept, and the same command resumes. (Only the engine's own iteration is guarded here:
        errors of the store or the judge are not the engine's.)
        """
        try:
            yield from engine.generate(pending, self.config.sampling)
        except IoiEvalError as exc:
            raise EngineError(f"the {self.config.engine} engine failed: {exc} "
                              "(completions received so far are kept; re-run to resume)") from exc
        except Exception as exc:
            raise EngineError(f"the {self.config.engine} engine failed: {type(exc).__name__}: {exc} "
                              "(completions received so far are kept; re-run to resume)") from exc

    def _save_generator(self, completion: Completion, result: RunResult, progress: Progress) -> None:
        """Store an input generator's completion and its code (``ioi-eval select`` runs it)."""
        self.store.save_generator_completion(completion)
        progress.on_generated(completion)
        if completion.failed:
            result.generation_failed(completion.error or "failed")
            return
        result.generated += 1
        ex = extract_code(completion.text or "", self.config.language)
        self.store.save_generator_extraction(completion.key, ex.code, ex.status, ex.note)

    def _extract(self, key: str) -> bool:
        """Extract the code of a finished generation; True when there is something to judge."""
        gen = self.store.generation(key)
        if gen.source_path:
            self.store.save_extraction(key, None, "source", "reference solution file")  # judged from the file
            return True
        ex = extract_code(gen.text or "", gen.language, self.problems.get(gen.problem))
        self.store.save_extraction(key, ex.code, ex.status, ex.note)
        return ex.status == "ok"

    def _queue_judging(self, key: str, result: RunResult, progress: Progress, gen: Generation | None = None,
                       code: str | None = None) -> Future[None]:
        """Hand one stored submission to the judge (``gen`` and ``code``: as the store holds them, when at
        hand); the future is done once its report is recorded, or its failure reported (never a silent 0)."""
        recorded: Future[None] = Future()
        gen = gen or self.store.generation(key)
        problem = self.problems.get(gen.problem)
        if problem is None:
            self._judge_failed(result, progress, key, f"problem {gen.problem} is not in the problem set")
            recorded.set_result(None)
            return recorded
        try:
            if gen.source_path:
                sub = Submission.from_path(Path(gen.source_path), TASK_TYPES[problem.task_type].takes_code)
            else:
                code = code if code is not None else self.store.code(key)
                name = get_language(gen.language).source_name(key.replace("/", "_"))
                sub = Submission(name=name, language=gen.language, source=code.encode())
            judging = self.judge.submit_text(problem, sub)
        except IoiEvalError as exc:
            self._judge_failed(result, progress, key, str(exc))
            recorded.set_result(None)
            return recorded

        def judged(done: Future[ReportText]) -> None:  # in the thread that judged it
            try:
                report = done.result()
            except IoiEvalError as exc:
                self._judge_failed(result, progress, key, str(exc))
                recorded.set_result(None)
                return
            except BaseException as exc:  # not the judge's verdict but a failure of the judge itself
                recorded.set_exception(exc)
                return
            if report.system_error is not None:
                name, message = report.system_error
                self._judge_failed(result, progress, key, f"judge error on test {name}: {message}")
                recorded.set_result(None)
                return
            self._recorder.put(key, report, lambda error: self._recorded(key, report, error, result, progress,
                                                                         recorded))

        judging.add_done_callback(judged)
        return recorded

    def _recorded(self, key: str, report: ReportText, error: BaseException | None, result: RunResult,
                  progress: Progress, recorded: Future[None]) -> None:
        """A report is in the store (``error``: its transaction failed, and the run ends with that error)."""
        if error is not None:
            recorded.set_exception(error)
            return
        log.debug("judged %s: %g/%g", key, report.score, report.max_score)
        with self._judge_lock:
            result.judged += 1
        try:
            progress.on_judged(key, report)
        except BaseException as exc:
            recorded.set_exception(exc)
            return
        recorded.set_result(None)

    def _judge_failed(self, result: RunResult, progress: Progress, key: str, message: str) -> None:
        """Never a silent 0: the submission stays unjudged, is reported, and retried on resume."""
        log.info("%s could not be judged: %s", key, message)
        with self._judge_lock:
            result.judge_errors.append(f"{key}: {message}")
        progress.on_judged(key, None)

    def close(self) -> None:
        """Close the store."""
        self.store.close()


class _Recorder:
    """The run store's one writer of reports: a thread that writes every report waiting in one transaction
    (the judging threads hand them in and go on judging), then tells each its outcome. A killed process loses
    at most the transaction in flight, whose reports were not counted: they are judged again on resume."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._waiting: list[tuple[str, ReportText, Callable[[BaseException | None], None]]] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="ioi-run-record", daemon=True)
        self._thread.start()

    def put(self, key: str, report: ReportText, done: Callable[[BaseException | None], None]) -> None:
        """Queue ``report`` for ``key``; ``done(None)`` once it is committed, ``done(error)`` if that failed."""
        with self._cond:
            self._waiting.append((key, report, done))
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stop:
                    self._cond.wait()
                if not self._waiting:
                    return
                batch, self._waiting = self._waiting, []
            error: BaseException | None = None
            try:
                self.store.save_reports([(key, report.json, report.score) for key, report, _ in batch])
            except BaseException as exc:
                error = exc
            for _, _, done in batch:
                done(error)

    def close(self) -> None:
        """Write what waits, then end the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join()
