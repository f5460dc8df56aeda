"""The run store's tables for ``--generate-inputs`` and ``ioi-eval select``: added to old stores, never in the way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ioi_eval.generate.base import Completion, GenerationRequest
from ioi_eval.record.config import RunConfig
from ioi_eval.record.store import SCHEMA, ExtraInput, ExtraRun, RunStore


def _request(key: str, problem: str = "p") -> GenerationRequest:
    return GenerationRequest(key=key, problem=problem, subtask="#input-generator", sample=0, language="cpp",
                             messages=[{"role": "user", "content": "write a generator"}], seed=0)


def test_an_old_store_gets_the_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    with sqlite3.connect(path) as db:  # a store made before these tables existed
        db.executescript(SCHEMA)
        db.execute("INSERT INTO generations(key, problem, subtask, sample, language, messages) "
                   "VALUES('p/01/0', 'p', '01', 0, 'cpp', '[]')")
    store = RunStore(path)
    try:
        assert [s.key for s in store.samples()] == ["p/01/0"]
        assert store.generators() == [] and store.extra_inputs("p") == [] and store.extra_runs(["p/01/0"]) == {}
    finally:
        store.close()


def test_generators_are_kept_apart_from_the_samples(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run.sqlite")
    try:
        assert store.add_generator_requests([_request("p/#input-generator/0")]) == 1
        assert store.add_generator_requests([_request("p/#input-generator/0")]) == 0
        assert [r.key for r in store.pending_generator_requests()] == ["p/#input-generator/0"]
        assert store.samples() == [] and store.pending_requests() == []  # never a sample
        assert store.is_generator("p/#input-generator/0") and not store.is_generator("p/01/0")
        store.save_generator_completion(Completion(key="p/#input-generator/0", text="```cpp\nint main(){}\n```"))
        store.save_generator_extraction("p/#input-generator/0", "int main(){}", "ok")
        [gen] = store.generators()
        assert (gen.status, gen.code, gen.extraction) == ("done", "int main(){}", "ok")
        assert store.pending_generator_requests() == []
        assert store.counts().done == 0
    finally:
        store.close()


def test_extra_inputs_and_runs_round_trip(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run.sqlite")
    try:
        inputs = [ExtraInput(name=f"seed-{i}", origin="generated", sha256=f"{i:064x}", data=b"1 2\n", error=None,
                             wall_s=0.1) for i in (10, 2, 1)]
        inputs.append(ExtraInput(name="seed-3", origin="generated", sha256=None, data=None, error="TLE", wall_s=1.0))
        store.save_extra_inputs("p", inputs)
        assert [i.name for i in store.extra_inputs("p")] == ["seed-1", "seed-2", "seed-3", "seed-10"]
        assert store.extra_inputs("q") == []
        store.save_extra_run("p/01/0", "a" * 64, ExtraRun("OK:abc", 0.01, 0.02))
        store.save_extra_run("p/01/0", "a" * 64, ExtraRun("TLE", 1.0, 2.0))  # replaced, not doubled
        assert store.extra_runs(["p/01/0", "p/01/1"]) == {("p/01/0", "a" * 64): ExtraRun("TLE", 1.0, 2.0)}
    finally:
        store.close()


def test_generate_inputs_is_part_of_the_config_only_when_set() -> None:
    base = RunConfig(model="m", engine="replay", problems="x", problem_codes=["p"], samples=1)
    assert "generate_inputs" not in base.stored()  # runs stored before the option resume
    assert base.model_copy(update={"generate_inputs": 5}).stored()["generate_inputs"] == 5
    assert base.fingerprint() != base.model_copy(update={"generate_inputs": 5}).fingerprint()
