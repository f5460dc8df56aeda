"""How a run starts its engine (``run/evaluate.py``): build, preflight, close on failure; when it needs one; and
how a run's result tells that nothing was produced."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

import ioi_eval.generate as registry
from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.record.config import RunConfig
from ioi_eval.record.folder import RunFolder
from ioi_eval.record.store import RunStore
from ioi_eval.run.evaluate import needs_engine, start_engine
from ioi_eval.run.events import RunResult


class Options(BaseModel, extra="forbid"):
    """``fail``: where the test engine fails ('build', 'check', 'check-odd' or nowhere)."""

    fail: str = ""


class CheckedEngine:
    """A test engine that fails where it is told to, and remembers whether it was closed."""

    name = "checked"
    closed: ClassVar[list[CheckedEngine]] = []

    def __init__(self, fail: str) -> None:
        if fail == "build":
            raise KeyError("CUDA out of memory while loading the weights")
        self.fail = fail

    @classmethod
    def from_options(cls, model: str, options: Options) -> CheckedEngine:
        return cls(options.fail)

    def preflight(self) -> None:
        if self.fail == "check":
            raise EngineError("the server does not serve the model 'x'")
        if self.fail == "check-odd":
            raise ZeroDivisionError("odd")

    def generate(self, requests, sampling):  # pragma: no cover - never called here
        yield from ()

    def close(self) -> None:
        CheckedEngine.closed.append(self)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._ENGINES, "checked", f"{__name__}:CheckedEngine")
    CheckedEngine.closed.clear()


def test_a_ready_engine_is_returned_open(checked: None) -> None:
    engine = start_engine("checked", "m", Options())
    assert isinstance(engine, CheckedEngine) and CheckedEngine.closed == []


def test_an_engine_that_does_not_build_is_one_clear_error(checked: None) -> None:
    with pytest.raises(EngineError, match=r"cannot start the checked engine: KeyError: .*CUDA out of memory"):
        start_engine("checked", "m", Options(fail="build"))


@pytest.mark.parametrize(("fail", "message"), [("check", "does not serve the model 'x'"),
                                               ("check-odd", "not ready: ZeroDivisionError: odd")])
def test_a_failed_preflight_closes_the_engine(checked: None, fail: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        start_engine("checked", "m", Options(fail=fail))
    assert len(CheckedEngine.closed) == 1


def _config(samples: int = 1) -> RunConfig:
    return RunConfig(model="m", engine="replay", problems="p", problem_codes=["p"], samples=samples,
                     sampling=SamplingConfig())


def test_needs_engine_only_with_generations_to_make(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    config = _config()
    assert needs_engine(folder, config) and not folder.root.exists()  # a new run; the check creates nothing
    store = RunStore(folder.store_path)
    store.set_meta("config", config.stored())
    assert needs_engine(folder, config)  # no request stored yet
    store.add_requests([GenerationRequest(key="p/s/0", problem="p", messages=[])])
    assert needs_engine(folder, config)  # pending
    store.save_completion(Completion(key="p/s/0", error="ConnectError"))
    assert needs_engine(folder, config)  # failed: retried on resume
    store.save_completion(Completion(key="p/s/0", text="done"))
    assert not needs_engine(folder, config)  # every generation stored: only judging is left
    assert not needs_engine(folder, _config(samples=2))  # another config: the runner refuses it first
    store.close()


def test_produced_nothing_and_the_first_distinct_causes() -> None:
    result = RunResult()
    assert not result.produced_nothing  # nothing attempted
    for i in range(10):
        result.generation_failed("ConnectError: refused" if i % 2 else f"HTTP 400: bad {i}")
    assert result.produced_nothing and result.failed_generations == 10
    assert result.generation_errors[:2] == ["HTTP 400: bad 0", "ConnectError: refused"]
    assert len(result.generation_errors) == RunResult.MAX_CAUSES
    result.generated = 1
    assert not result.produced_nothing
