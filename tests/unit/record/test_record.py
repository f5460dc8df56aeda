"""The run folder contract (ioi_eval.record): RunFolder's paths and check, and the store's typed records,
including a store laid down with the schema as it was written before the records existed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from ioi_eval.errors import RunFolderError
from ioi_eval.generate.base import Completion, GenerationRequest
from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.record.folder import RunFolder
from ioi_eval.record.store import SCHEMA, Counts, Generation, Judgement, RunStore, Sample

#: The schema of run.sqlite as every run so far was created with (ioi_eval/run/store.py before the
#: record package): stores written with it must keep opening, so it must not change.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    problem TEXT NOT NULL,
    subtask TEXT,
    sample INTEGER NOT NULL,
    language TEXT NOT NULL,
    messages TEXT NOT NULL,
    seed INTEGER,
    status TEXT NOT NULL DEFAULT 'pending',      -- pending | done | failed
    text TEXT, reasoning TEXT, finish_reason TEXT,
    prompt_tokens INTEGER, completion_tokens INTEGER,
    error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    source_path TEXT,                             -- reference solutions: judged from this file
    generated_at REAL
);
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY REFERENCES generations(key),
    code TEXT,
    extraction TEXT NOT NULL,                     -- ok | no_code | source
    note TEXT,
    report TEXT,                                  -- JudgeReport JSON once judged
    score REAL,
    judge_count INTEGER NOT NULL DEFAULT 0,
    judged_at REAL
);
CREATE INDEX IF NOT EXISTS generations_status ON generations(status);
"""

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "solve rainfall"}]


def _report(score: float = 6.0) -> JudgeReport:
    return JudgeReport(problem="rainfall", score=score, max_score=100, compile=CompileResult(ok=True),
                       subtasks=[SubtaskResult(name="01-small", points=6, score=score, status=Verdict.AC)],
                       tests=[TestResult(name="1-01", verdict=Verdict.AC, score=1.0)])


# ------------------------------------------------------------------------------------------ RunFolder

def test_run_folder_names_every_file(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "m-set")
    assert folder.name == "m-set"
    assert folder.store_path == tmp_path / "m-set" / "run.sqlite"
    assert folder.summary_path == tmp_path / "m-set" / "summary.json"
    assert folder.ci_summary_path == tmp_path / "m-set" / "ci-summary.md"
    assert folder.ci_junit_path == tmp_path / "m-set" / "ci-junit.xml"
    assert folder.ci_baseline_path == tmp_path / "m-set" / "ci-baseline.json"


def test_check_says_what_is_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="no such run folder"):
        RunFolder(tmp_path / "nowhere").check()
    empty = RunFolder(tmp_path / "empty")
    empty.root.mkdir()
    assert not empty.is_run()
    with pytest.raises(RunFolderError, match=r"not a run folder \(no run.sqlite\)"):
        empty.check()
    with pytest.raises(RunFolderError, match="not a run folder"), empty.reading():
        pass
    assert not empty.store_path.exists()  # a reader never creates a store
    store = empty.open_store()  # the writer does
    assert isinstance(store, RunStore) and store.path == empty.store_path
    store.close()
    assert empty.is_run()
    empty.check()


@pytest.mark.parametrize("foreign", [True, False])
def test_reading_a_store_that_is_not_ours_is_a_clear_error(tmp_path: Path, foreign: bool) -> None:
    folder = RunFolder(tmp_path)
    if foreign:
        sqlite3.connect(folder.store_path).execute("CREATE TABLE t(x)").connection.close()
    else:
        folder.store_path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(RunFolderError, match="not a readable run store"), folder.reading() as store:
        store.samples()
    if foreign:  # read-only: not given our tables
        assert sqlite3.connect(folder.store_path).execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


# ------------------------------------------------------------------------------------------ records

def _filled(folder: RunFolder) -> None:
    """A store with one sample in each state: judged, no code, extracted not judged, pending, failed, reference."""
    store = folder.open_store()
    store.set_meta("config", {"model": "m", "problem_codes": ["rainfall"]})
    reqs = [GenerationRequest(key=f"rainfall/01-small/{i}", problem="rainfall", subtask="01-small", sample=i,
                              messages=MESSAGES, seed=10 + i) for i in range(5)]
    ref = GenerationRequest(key="rainfall/reference/0", problem="rainfall", language="cpp", messages=[])
    assert store.add_requests([*reqs, ref], {ref.key: "/pkg/rainfall.cpp"}) == 6
    assert store.add_requests(reqs) == 0
    store.save_completion(Completion(key=reqs[0].key, text="```cpp\nint main(){}\n```", reasoning="think",
                                     finish_reason="stop", prompt_tokens=12, completion_tokens=34))
    store.save_extraction(reqs[0].key, "int main(){}", "ok")
    store.save_report(reqs[0].key, _report().model_dump_json(), 6.0)
    store.save_completion(Completion(key=reqs[1].key, text="no idea"))
    store.save_extraction(reqs[1].key, None, "no_code", "no fenced block")
    store.save_completion(Completion(key=reqs[2].key, text="```cpp\nint main(){}\n```"))
    store.save_extraction(reqs[2].key, "int main(){}", "ok")
    store.save_completion(Completion(key=reqs[4].key, error="HTTP 500"))
    store.save_completion(Completion(key=ref.key, text="", finish_reason="reference"))
    store.save_extraction(ref.key, None, "source", "reference solution file")
    store.close()


def test_samples_are_typed_records(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    _filled(folder)
    with folder.reading() as store:
        samples = {s.key: s for s in store.samples()}
        # by problem, subtask (none first), sample
        assert list(samples) == ["rainfall/reference/0", *(f"rainfall/01-small/{i}" for i in range(5))]
        counts = store.counts()
        unjudged = [s.key for s in store.unjudged()]
        pending = store.pending_requests()
        gen = store.generation("rainfall/01-small/0")
        with pytest.raises(KeyError):
            store.generation("rainfall/01-small/99")
        assert store.code("rainfall/01-small/0") == "int main(){}" and store.code("rainfall/01-small/1") == ""
        assert store.get_meta("config") == {"model": "m", "problem_codes": ["rainfall"]}
    assert all(isinstance(s, Sample) and isinstance(s.generation, Generation) for s in samples.values())
    judged = samples["rainfall/01-small/0"]
    assert judged.generation == gen
    assert (gen.problem, gen.subtask, gen.sample, gen.language, gen.seed) == ("rainfall", "01-small", 0, "cpp", 10)
    assert (gen.status, gen.done, gen.failed, gen.attempts) == ("done", True, False, 1)
    assert (gen.text, gen.reasoning, gen.finish_reason) == ("```cpp\nint main(){}\n```", "think", "stop")
    assert (gen.prompt_tokens, gen.completion_tokens, gen.error, gen.source_path) == (12, 34, None, None)
    assert gen.messages == MESSAGES and json.loads(gen.messages_json) == MESSAGES
    assert gen.generated_at is not None
    j = judged.judgement
    assert isinstance(j, Judgement)
    assert (j.code, j.extraction, j.note, j.score, j.judge_count) == ("int main(){}", "ok", "", 6.0, 1)
    assert j.judged and j.has_code and j.judged_at is not None
    assert judged.report == _report() and judged.report is judged.report  # parsed once
    assert (judged.judged, judged.has_code, judged.no_code, judged.extraction) == (True, True, False, "ok")

    no_code = samples["rainfall/01-small/1"]
    assert (no_code.no_code, no_code.has_code, no_code.judged, no_code.report) == (True, False, False, None)
    assert no_code.judgement is not None and no_code.judgement.note == "no fenced block"
    extracted = samples["rainfall/01-small/2"]
    assert (extracted.has_code, extracted.judged, extracted.report) == (True, False, None)
    never = samples["rainfall/01-small/3"]
    assert (never.done, never.failed, never.judgement, never.extraction) == (False, False, None, None)
    assert (never.generation.status, never.generation.text, never.generation.attempts) == ("pending", None, 0)
    failed = samples["rainfall/01-small/4"]
    assert failed.failed and failed.generation.error == "HTTP 500" and failed.judgement is None
    ref = samples["rainfall/reference/0"]
    assert ref.generation.source_path == "/pkg/rainfall.cpp" and ref.extraction == "source" and ref.has_code

    assert counts == Counts(pending=1, done=4, failed=1, judged=1, no_code=1)
    assert unjudged == ["rainfall/reference/0", "rainfall/01-small/2"]
    assert [r.key for r in pending] == ["rainfall/01-small/3", "rainfall/01-small/4"]
    assert pending[0] == GenerationRequest(key="rainfall/01-small/3", problem="rainfall", subtask="01-small",
                                           sample=3, messages=MESSAGES, seed=13)


def test_a_re_extraction_drops_the_old_report(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    _filled(folder)
    store = folder.open_store()
    store.save_extraction("rainfall/01-small/0", "int main(){return 0;}", "ok")
    sample = next(s for s in store.samples() if s.key == "rainfall/01-small/0")
    store.close()
    assert sample.judgement is not None and sample.judgement.code == "int main(){return 0;}"
    assert not sample.judged and sample.report is None and sample.judgement.judge_count == 1


def test_a_damaged_report_fails_when_read(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    _filled(folder)
    with sqlite3.connect(folder.store_path) as db:
        db.execute("UPDATE submissions SET report='{\"broken\": 1}' WHERE report IS NOT NULL")
    with folder.reading() as store:
        sample = next(s for s in store.samples() if s.judged)  # reading the rows does not parse reports
    with pytest.raises(ValidationError):
        _ = sample.report


def test_the_schema_is_that_of_every_run_so_far() -> None:
    assert SCHEMA == OLD_SCHEMA


def test_a_store_written_with_the_old_schema_reads(tmp_path: Path) -> None:
    """Rows laid down by raw SQL on the old schema, as the code before the records wrote them."""
    folder = RunFolder(tmp_path / "old-run")
    folder.root.mkdir()
    db = sqlite3.connect(folder.store_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO meta(key, value) VALUES('config', ?)", (json.dumps({"model": "old"}),))
    db.execute("INSERT INTO generations(key, problem, subtask, sample, language, messages, seed, status, text,"
               " reasoning, finish_reason, prompt_tokens, completion_tokens, attempts, generated_at)"
               " VALUES('rainfall/-/0', 'rainfall', NULL, 0, 'cpp', ?, 7, 'done', 'answer', NULL, 'length', 5, 9,"
               " 2, 1700000000.5)", (json.dumps(MESSAGES),))
    db.execute("INSERT INTO generations(key, problem, sample, language, messages)"
               " VALUES('rainfall/-/1', 'rainfall', 1, 'python', '[]')")
    db.execute("INSERT INTO submissions(key, code, extraction, note, report, score, judge_count, judged_at)"
               " VALUES('rainfall/-/0', 'int main(){}', 'ok', '', ?, 6.0, 1, 1700000001.0)",
               (_report().model_dump_json(),))
    db.commit()
    db.close()
    with folder.reading() as store:
        first, second = store.samples()
        assert store.get_meta("config") == {"model": "old"}
        assert store.counts() == Counts(pending=1, done=1, failed=0, judged=1, no_code=0)
    g = first.generation
    assert (g.key, g.subtask, g.seed, g.status, g.text, g.finish_reason, g.attempts) == \
        ("rainfall/-/0", None, 7, "done", "answer", "length", 2)
    assert g.messages == MESSAGES and g.generated_at == 1700000000.5
    assert first.report == _report() and first.judgement is not None and first.judgement.judged_at == 1700000001.0
    assert second.generation.status == "pending" and second.generation.language == "python"
    assert second.judgement is None and second.generation.messages == []
    store = folder.open_store()  # a writer opens it as it is (CREATE ... IF NOT EXISTS) and resumes it
    store.save_completion(Completion(key="rainfall/-/1", text="late"))
    assert store.generation("rainfall/-/1").text == "late"
    store.close()


def test_stored_configs_hold_no_credentials() -> None:
    from ioi_eval.record.config import RunConfig

    config = RunConfig(model="m", engine="openai", problems="p", problem_codes=["a"], samples=1, engine_options={
        "api_key": "sk-secret", "headers": {"Authorization": "Bearer sk-secret", "X-Org": "o"},
        "llm_kwargs": {"hf_token": "hf_secret", "enable_prefix_caching": True}, "concurrency": 4})
    stored = config.stored()
    assert "secret" not in json.dumps(stored)
    assert stored["engine_options"] == {"headers": {"Authorization": "***", "X-Org": "***"},
                                        "llm_kwargs": {"hf_token": "***", "enable_prefix_caching": True},
                                        "concurrency": 4}


def test_runs_named_before_the_organisation_was_kept_are_resumed(tmp_path: Path) -> None:
    from ioi_eval.record.config import default_run_dir

    assert default_run_dir(tmp_path, "Qwen/Qwen3-8B", "problems/").name == "Qwen--Qwen3-8B-problems"
    old = tmp_path / "Qwen3-8B-problems"
    old.mkdir()
    assert default_run_dir(tmp_path, "Qwen/Qwen3-8B", "problems/").name == "Qwen--Qwen3-8B-problems"  # no store
    (old / "run.sqlite").write_bytes(b"")
    assert default_run_dir(tmp_path, "Qwen/Qwen3-8B", "problems/") == old
