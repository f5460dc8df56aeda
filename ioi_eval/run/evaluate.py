"""The library entry point of a run (``ioi-eval run`` and ``ioi-eval ci``): config, store, engine, judge, scores.

Before anything is queued, the engine is built and checked (:func:`start_engine`: its ``preflight()``), whenever
the run has generations to make: a dead server, a model the server does not list or an engine that does not start
stops the run with an :class:`~ioi_eval.errors.EngineError`, and no generation is recorded as failed.

It draws nothing: what happens is reported through the :class:`~ioi_eval.run.pipeline.Progress` events the caller
passes (the CLI turns them into progress bars and notes; a library caller may pass none).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import EngineError, IoiEvalError
from ..generate import engine_class, get_engine
from ..generate import engine_options as validated_options
from ..generate.base import Engine, SamplingConfig
from ..judge.judge import Judge
from ..prompts import resolve_template
from ..record.config import RunConfig, default_run_dir, template_digest
from ..record.folder import RunFolder
from ..record.metadata import META_KEY, assemble, mark_started, now, save_cards
from ..record.store import RunStore
from ..scoring.run_score import RunScore, score_run
from ..sources import is_local, load_problem_set
from .events import Progress, RunResult
from .pipeline import Runner
from .plan import select_problems


def start_engine(engine: str, model: str, options: BaseModel) -> Engine:
    """Build the engine and run its ``preflight()``: an engine ready to serve, or an :class:`EngineError`.

    Whatever the engine's library raises while starting (a missing package, a model that does not load, a CUDA
    error) becomes one clear line naming the cause; an engine that fails its check is closed again.
    """
    try:
        built = get_engine(engine, model, options)
    except IoiEvalError:
        raise
    except Exception as exc:  # the engine's library may raise anything: one line, no traceback
        raise EngineError(f"cannot start the {engine} engine: {type(exc).__name__}: {exc}") from exc
    check = getattr(built, "preflight", None)  # optional on the protocol: an engine without it is ready
    try:
        if check is not None:
            check()
    except IoiEvalError:
        built.close()
        raise
    except Exception as exc:
        built.close()
        raise EngineError(f"the {engine} engine is not ready: {type(exc).__name__}: {exc}") from exc
    return built


def needs_engine(folder: RunFolder, config: RunConfig) -> bool:
    """Whether a run has generations to make: a new run, or a stored one (of this config) with some not done.

    A stored run of another config answers False: the runner refuses it before anything is generated. (The
    runner still builds the engine later should a generation turn out to be missing after all.)
    """
    if not folder.store_path.is_file():
        return True
    try:
        store = RunStore(folder.store_path, readonly=True)
    except sqlite3.Error:  # the runner will say what is wrong with the store; start the engine as for a new run
        return True
    try:
        stored = store.get_meta("config")
        if stored is None:
            return True
        if stored != config.stored():
            return False
        counts = store.counts()
        return counts.pending + counts.failed > 0 or counts.done == 0
    except sqlite3.Error:
        return True
    finally:
        store.close()


class _EngineSlot:
    """The run's engine: started ahead (and checked) when the run needs one, else on the runner's demand."""

    def __init__(self, engine: str, model: str, options: BaseModel, progress: Progress) -> None:
        self.engine, self.model, self.options, self.progress = engine, model, options, progress
        self.ready: Engine | None = None  # started ahead, not yet handed to the runner

    def _started(self) -> Engine:
        """A started engine; its ``notes`` (what it found in its source, e.g. replayed rows without code) are
        passed on as the run's notes."""
        engine = start_engine(self.engine, self.model, self.options)
        for note in getattr(engine, "notes", ()):
            self.progress.on_note(note)
        return engine

    def start(self) -> None:
        """Build and check the engine now (:func:`start_engine`)."""
        self.ready = self._started()

    def take(self) -> Engine:
        """The engine for the runner (which closes it): the one started ahead, else a new one."""
        engine, self.ready = self.ready, None
        return engine if engine is not None else self._started()

    def close(self) -> None:
        """Close an engine started ahead that the runner never took."""
        if self.ready is not None:
            engine, self.ready = self.ready, None
            engine.close()


@dataclass
class RunOutcome:
    """What one ``ioi-eval run`` execution left: where, its scores, and what went wrong this time."""

    folder: RunFolder
    config: RunConfig
    score: RunScore
    result: RunResult


def evaluate(*, model: str, problems: str, engine: str, engine_options: BaseModel | Mapping[str, Any],
             samples: int, per: str,
             language: str, only: list[str] | None, temperature: float, top_p: float, max_tokens: int | None,
             seed: int, prompt_template: Path | None, run_dir: Path | None, new_run: bool, backend: str,
             workers: int | None, judge_profile: str = "cms", generate_inputs: int = 0,
             progress: Progress | None = None, model_name: str | None = None,
             system_prompt: str | None = None, backend_options: Mapping[str, Any] | None = None) -> RunOutcome:
    """Run (or resume) an evaluation and score it; the summary (``RunFolder.summary_path``) is written at the end.

    ``engine_options`` are the engine's ``Options`` (or a mapping of them); the run records those that were set.
    ``model_name`` is the model's label in the run folder's name and the scores (default: the model the engine
    names, as a replay source whose rows carry one, else ``model``); ``system_prompt`` replaces the template's
    system message; ``backend_options`` go to the backend (e.g. the Ray backend's ``address`` and ``box``).
    Raises :class:`IoiEvalError` when the run cannot go on (what was stored stays for a resume).
    """
    progress = progress or Progress()
    try:
        options = validated_options(engine, engine_options)
    except ValueError as exc:  # an unknown engine, or options it does not take
        raise IoiEvalError(f"the {engine} engine: {exc}") from exc
    prompt_template = resolve_template(prompt_template)  # a file, or a shipped name such as 'source'
    if prompt_template is not None and not prompt_template.is_file():
        raise IoiEvalError(f"{prompt_template}: prompt template not found")
    problem_list = load_problem_set(problems, only)
    problem_list, skipped = select_problems(engine, problem_list)
    if skipped:
        progress.on_note(f"skipping output-only problems (models answer with code): {', '.join(skipped)}")
    if not problem_list:
        raise IoiEvalError(f"{problems}: no problems to evaluate")
    slot = _EngineSlot(engine, model, options, progress)
    if model_name is None and getattr(engine_class(engine), "names_model", False):
        slot.start()  # the engine reads its source now (a replay): the rows may name the model
        model_name = getattr(slot.ready, "model_name", None)
    config = RunConfig(
        model=model, model_name=model_name if model_name != model else None, engine=engine,
        system_prompt=system_prompt, problems=str(Path(problems).resolve()) if is_local(problems) else problems,
        problem_codes=sorted(p.code for p in problem_list), samples=samples, per=per, language=language,
        sampling=SamplingConfig(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed),
        engine_options=options.model_dump(exclude_unset=True), prompt_template_sha256=template_digest(prompt_template),
        judge_profile=judge_profile, generate_inputs=generate_inputs)
    folder = RunFolder(run_dir or default_run_dir(Path("runs"), config.label, problems))
    if new_run and folder.store_path.exists():
        folder = RunFolder(folder.root.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}"))
    if slot.ready is None and needs_engine(folder, config):
        slot.start()  # preflight: nothing is queued, no run folder is made, for an engine that cannot serve
    try:
        progress.on_start(folder.root)
        judge = Judge(backend=backend, workers=workers, profile=judge_profile, **dict(backend_options or {}))
        try:
            runner = Runner(config, folder.root, judge, problem_list, slot.take, prompt_template)
            try:
                runner.prepare()
                started = mark_started(runner.store)
                save_cards(runner.store, problem_list)
                result = runner.execute(progress)
                score = score_run(runner.store, runner.problems, config.label)
                score.metadata = assemble(
                    config, problem_list, template=prompt_template, loads_hub_weights="revision" in type(options)
                    .model_fields, backend=backend, box_info=judge.box_info, started_at=started, finished_at=now(),
                    prompts_sha256=runner.store.prompts_sha256())
                runner.store.set_meta(META_KEY, score.metadata.model_dump(mode="json"))
            finally:
                runner.close()
        finally:
            judge.close()
    finally:
        slot.close()
    folder.summary_path.write_text(score.model_dump_json(indent=2))
    return RunOutcome(folder=folder, config=config, score=score, result=result)
