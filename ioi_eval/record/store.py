"""The run store: one SQLite file (WAL) per run holding everything needed to resume and report.

Every completion and every judge report is committed the moment it exists, so killing the process
at any point loses at most the work in flight. One connection is shared by the run's threads
behind a lock (SQLite serialises writers anyway; this keeps the connection safe to share).

Readers get typed records, never database rows: a :class:`Sample` is one request with its
:class:`Generation` (the ``generations`` row) and, once its code is extracted, its :class:`Judgement`
(the ``submissions`` row: the code, the extraction status and, once judged, the judge report).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ..generate.base import Completion, GenerationRequest
from ..judge.results import JudgeReport

GenerationStatus = Literal["pending", "done", "failed"]
Extraction = Literal["ok", "no_code", "source"]

SCHEMA = """
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

#: Tables of ``ioi-eval run --generate-inputs`` and ``ioi-eval select`` (added to every store, old ones too):
#: the input-generator requests (kept apart from the samples: they are never judged or scored), the extra
#: inputs (the generators' outputs by seed, or the sample inputs) and every extra sandbox run of a sample on
#: one of them, so that ``select`` never runs a sample on an input twice.
EXTRA_SCHEMA = """
CREATE TABLE IF NOT EXISTS generators (
    key TEXT PRIMARY KEY,
    problem TEXT NOT NULL,
    language TEXT NOT NULL,
    messages TEXT NOT NULL,
    seed INTEGER,
    status TEXT NOT NULL DEFAULT 'pending',      -- pending | done | failed
    text TEXT, reasoning TEXT, completion_tokens INTEGER, error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    code TEXT, extraction TEXT, note TEXT,        -- extraction: ok | no_code (NULL: not extracted)
    generated_at REAL
);
CREATE TABLE IF NOT EXISTS extra_inputs (
    problem TEXT NOT NULL,
    name TEXT NOT NULL,                           -- seed-<n> (generated) or the sample test's name
    origin TEXT NOT NULL,                         -- generated | samples
    sha256 TEXT,                                  -- NULL: the generator failed on this seed (see error)
    data BLOB,
    error TEXT,
    wall_s REAL,
    PRIMARY KEY (problem, name)
);
CREATE TABLE IF NOT EXISTS extra_runs (
    key TEXT NOT NULL,                            -- the sample (generations.key)
    input_sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL,                        -- the behaviour's fingerprint (verdict + output digest)
    cpu_s REAL, wall_s REAL, ran_at REAL,
    PRIMARY KEY (key, input_sha256)
);
"""


@dataclass(frozen=True)
class Generation:
    """One request of a run and what the engine made of it (a ``generations`` row)."""

    key: str
    problem: str
    subtask: str | None  # the subtask the prompt targeted; None: the whole problem
    sample: int
    language: str
    messages_json: str  # the prompt's chat messages, as stored (see :attr:`messages`)
    seed: int | None
    status: GenerationStatus
    text: str | None
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    attempts: int
    source_path: str | None  # reference solutions: judged from this file
    generated_at: float | None

    @property
    def done(self) -> bool:
        """The generation finished (a completion is stored)."""
        return self.status == "done"

    @property
    def failed(self) -> bool:
        """The generation failed for good (so far: a resume retries it)."""
        return self.status == "failed"

    @cached_property
    def messages(self) -> list[dict[str, str]]:
        """The prompt's chat messages (role, content)."""
        return json.loads(self.messages_json)

    def request(self) -> GenerationRequest:
        """The request this generation answers."""
        return GenerationRequest(key=self.key, problem=self.problem, subtask=self.subtask, sample=self.sample,
                                 language=self.language, messages=self.messages, seed=self.seed)


@dataclass(frozen=True)
class Judgement:
    """The code extracted from a finished generation and, once judged, its report (a ``submissions`` row)."""

    code: str | None
    extraction: Extraction  # ok: code found | no_code: none found | source: a reference solution file
    note: str | None
    report_json: str | None  # the JudgeReport as stored (see :attr:`report`); None until judged
    score: float | None
    judge_count: int
    judged_at: float | None

    @property
    def has_code(self) -> bool:
        """There is something to judge (extracted code, or a reference solution file)."""
        return self.extraction in ("ok", "source")

    @property
    def judged(self) -> bool:
        """The judge gave a report."""
        return bool(self.report_json)

    @cached_property
    def report(self) -> JudgeReport | None:
        """The judge report (None until judged); a damaged one raises pydantic's ValidationError."""
        return JudgeReport.model_validate_json(self.report_json) if self.report_json else None


@dataclass(frozen=True)
class Sample:
    """One sample of a run as a whole: its request and generation, and its judgement once extracted."""

    generation: Generation
    judgement: Judgement | None  # None until the code of a finished generation is extracted

    @property
    def key(self) -> str:
        """The sample's key, e.g. ``rainfall/03-full/7``."""
        return self.generation.key

    @property
    def problem(self) -> str:
        """The problem code."""
        return self.generation.problem

    @property
    def done(self) -> bool:
        """The generation finished."""
        return self.generation.done

    @property
    def failed(self) -> bool:
        """The generation failed."""
        return self.generation.failed

    @property
    def extraction(self) -> Extraction | None:
        """The extraction status (None: not extracted yet)."""
        return self.judgement.extraction if self.judgement else None

    @property
    def has_code(self) -> bool:
        """There is something to judge."""
        return bool(self.judgement and self.judgement.has_code)

    @property
    def no_code(self) -> bool:
        """No code was found in the completion."""
        return self.extraction == "no_code"

    @property
    def judged(self) -> bool:
        """The judge gave a report."""
        return bool(self.judgement and self.judgement.judged)

    @property
    def report(self) -> JudgeReport | None:
        """The judge report, or None (see :attr:`Judgement.report`)."""
        return self.judgement.report if self.judgement else None


@dataclass(frozen=True)
class GeneratorRecord:
    """The input generator a model wrote for one problem (``ioi-eval run --generate-inputs``)."""

    key: str
    problem: str
    language: str
    status: GenerationStatus
    text: str | None
    error: str | None
    code: str | None
    extraction: Extraction | None
    note: str | None


@dataclass(frozen=True)
class ExtraInput:
    """One extra input of a problem: a generator's output for one seed (or its failure), or a sample input."""

    name: str
    origin: Literal["generated", "samples"]
    sha256: str | None
    data: bytes | None
    error: str | None
    wall_s: float | None


@dataclass(frozen=True)
class ExtraRun:
    """A sample's outcome on one extra input, as ``ioi-eval select`` recorded it."""

    outcome: str
    cpu_s: float
    wall_s: float


@dataclass(frozen=True)
class Counts:
    """Progress counters of a run: generations by status, submissions judged and without code."""

    pending: int
    done: int
    failed: int
    judged: int
    no_code: int


_GENERATION_FIELDS = tuple(f.name for f in fields(Generation))
_JUDGEMENT_FIELDS = tuple(f.name for f in fields(Judgement))
#: The columns of a sample, named as the records' fields (the JSON columns get a ``_json`` suffix).
_SAMPLE_COLUMNS = (
    "g.key, g.problem, g.subtask, g.sample, g.language, g.messages AS messages_json, g.seed, g.status, g.text,"
    " g.reasoning, g.finish_reason, g.prompt_tokens, g.completion_tokens, g.error, g.attempts, g.source_path,"
    " g.generated_at, s.key AS judgement_key, s.code, s.extraction, s.note, s.report AS report_json, s.score,"
    " s.judge_count, s.judged_at")
_SAMPLES = (f"SELECT {_SAMPLE_COLUMNS} FROM generations g LEFT JOIN submissions s ON s.key = g.key"
            " {where} ORDER BY g.problem, g.subtask, g.sample")


def _sample(row: sqlite3.Row) -> Sample:
    judgement = (Judgement(**{f: row[f] for f in _JUDGEMENT_FIELDS}) if row["judgement_key"] is not None
                 else None)
    return Sample(Generation(**{f: row[f] for f in _GENERATION_FIELDS}), judgement)


class RunStore:
    """Access to one run's SQLite database."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        """Open (creating it if need be) the store; ``readonly`` opens an existing one for reading only."""
        self.path = path
        if readonly:  # readers (reports) never create, migrate or checkpoint a run they were pointed at
            if not path.is_file():
                raise FileNotFoundError(path)
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None, timeout=60)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        # save_report's group commit: reports queued while a batch is written, and how far batches got
        self._group = threading.Condition()
        self._queued: list[tuple[str, str, float]] = []
        self._queue_seq = self._written_seq = 0
        self._writing = False
        self._failed: list[tuple[int, int, BaseException]] = []
        if readonly:
            return
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.executescript(EXTRA_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database (the WAL is checkpointed)."""
        with self._lock:
            self._db.close()

    # -- config ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> Any:
        """A JSON value stored under ``key``, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row["value"]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, json.dumps(value)))

    # -- generations -----------------------------------------------------------------------
    def add_requests(self, requests: Iterable[GenerationRequest], source_paths: dict[str, str] | None = None) -> int:
        """Insert requests not yet known; returns how many were new."""
        source_paths = source_paths or {}
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO generations(key, problem, subtask, sample, language, messages, seed,"
                " source_path) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.key, r.problem, r.subtask, r.sample, r.language, json.dumps(r.messages), r.seed,
                  source_paths.get(r.key)) for r in requests])
            return db.total_changes - before

    def pending_requests(self) -> list[GenerationRequest]:
        """Requests without a finished generation (never generated, or failed before)."""
        return [s.generation.request() for s in self._samples("WHERE g.status != 'done'")]

    def save_completion(self, c: Completion) -> None:
        """Record a completion (done) or a failure (failed, with its error)."""
        with self._tx() as db:
            db.execute(
                "UPDATE generations SET status=?, text=?, reasoning=?, finish_reason=?, prompt_tokens=?,"
                " completion_tokens=?, error=?, seed=COALESCE(?, seed), attempts=attempts+1, generated_at=?"
                " WHERE key=?",
                ("failed" if c.failed else "done", c.text, c.reasoning, c.finish_reason, c.prompt_tokens,
                 c.completion_tokens, c.error, c.seed, time.time(), c.key))

    def generation(self, key: str) -> Generation:
        """One generation; KeyError when the run has no such key."""
        found = self._samples("WHERE g.key = ?", (key,))
        if not found:
            raise KeyError(key)
        return found[0].generation

    # -- submissions -----------------------------------------------------------------------
    def save_extraction(self, key: str, code: str | None, extraction: str, note: str = "") -> None:
        """Record the code extracted from a completion (replacing an earlier extraction)."""
        with self._tx() as db:
            db.execute("INSERT INTO submissions(key, code, extraction, note) VALUES(?, ?, ?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET code=excluded.code, extraction=excluded.extraction,"
                       " note=excluded.note, report=NULL, score=NULL", (key, code, extraction, note))

    def code(self, key: str) -> str:
        """The extracted code of a submission ("" when none)."""
        with self._lock:
            row = self._db.execute("SELECT code FROM submissions WHERE key=?", (key,)).fetchone()
        return (row["code"] if row else None) or ""

    def unextracted(self) -> list[str]:
        """Keys of finished generations whose code has not been extracted yet."""
        with self._lock:
            rows = self._db.execute(
                "SELECT g.key FROM generations g LEFT JOIN submissions s ON s.key = g.key"
                " WHERE g.status = 'done' AND s.key IS NULL").fetchall()
        return [r["key"] for r in rows]

    def unjudged(self) -> list[Sample]:
        """Samples with code (or a source file) and no report yet."""
        return self._samples("WHERE s.report IS NULL AND s.extraction != 'no_code'")

    def save_report(self, key: str, report_json: str, score: float) -> None:
        """Record a judge report; returns once it is committed.

        Group commit: reports that threads hand in while a transaction is being written wait for it, and the
        first of them then writes them all in the next one (one transaction per batch, not per report). A killed
        process loses at most the batch in flight, whose callers have not returned: nothing is recorded twice.
        """
        with self._group:
            self._queued.append((key, report_json, score))
            self._queue_seq += 1
            mine = self._queue_seq
            while self._written_seq < mine and self._writing:
                self._group.wait()
            if self._written_seq >= mine:  # a batch written by another thread held it
                failed = next((exc for lo, hi, exc in self._failed if lo <= mine <= hi), None)
                if failed is not None:
                    raise failed
                return
            batch, self._queued = self._queued, []
            first, last = self._written_seq + 1, self._queue_seq
            self._writing = True
        error: BaseException | None = None
        try:
            self.save_reports(batch)
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._group:
                if error is not None:
                    self._failed = [*self._failed[-15:], (first, last, error)]
                self._written_seq, self._writing = last, False
                self._group.notify_all()

    def save_reports(self, reports: list[tuple[str, str, float]]) -> None:
        """Record judge reports ((key, report JSON, score) each) in one transaction: all of them or none."""
        now = time.time()
        with self._tx() as db:
            db.executemany("UPDATE submissions SET report=?, score=?, judge_count=judge_count+1, judged_at=?"
                           " WHERE key=?", [(text, score, now, key) for key, text, score in reports])

    def samples(self, problem: str | None = None) -> list[Sample]:
        """Every sample of the run, or of one problem (ordered by problem, subtask, sample), for scoring and
        reports."""
        return self._samples("WHERE g.problem = ?", (problem,)) if problem is not None else self._samples("")

    def prompts_sha256(self) -> str:
        """A digest of every request's key and chat messages, in key order (what the model was asked)."""
        h = hashlib.sha256()
        with self._lock:
            for row in self._db.execute("SELECT key, messages FROM generations ORDER BY key"):
                h.update(row["key"].encode() + b"\0" + row["messages"].encode() + b"\1")
        return h.hexdigest()

    def _samples(self, where: str, args: tuple[Any, ...] = ()) -> list[Sample]:
        with self._lock:
            rows = self._db.execute(_SAMPLES.format(where=where), args).fetchall()
        return [_sample(r) for r in rows]

    def counts(self) -> Counts:
        """Progress counters."""
        with self._lock:
            g = dict(self._db.execute("SELECT status, COUNT(*) FROM generations GROUP BY status").fetchall())
            judged = self._db.execute("SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL").fetchone()[0]
            no_code = self._db.execute("SELECT COUNT(*) FROM submissions WHERE extraction='no_code'").fetchone()[0]
        return Counts(pending=g.get("pending", 0), done=g.get("done", 0), failed=g.get("failed", 0), judged=judged,
                      no_code=no_code)

    # -- input generators (``--generate-inputs``) ------------------------------------------------
    def add_generator_requests(self, requests: Iterable[GenerationRequest]) -> int:
        """Insert input-generator requests not yet known; returns how many were new."""
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO generators(key, problem, language, messages, seed) VALUES(?, ?, ?, ?, ?)",
                [(r.key, r.problem, r.language, json.dumps(r.messages), r.seed) for r in requests])
            return db.total_changes - before

    def pending_generator_requests(self) -> list[GenerationRequest]:
        """Input-generator requests without a finished generation."""
        with self._lock:
            rows = self._db.execute("SELECT key, problem, language, messages, seed FROM generators"
                                    " WHERE status != 'done' ORDER BY key").fetchall()
        return [GenerationRequest(key=r["key"], problem=r["problem"], subtask=None, sample=0, language=r["language"],
                                  messages=json.loads(r["messages"]), seed=r["seed"]) for r in rows]

    def is_generator(self, key: str) -> bool:
        """Whether ``key`` is an input-generator request (not a sample)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM generators WHERE key=?", (key,)).fetchone() is not None

    def save_generator_completion(self, c: Completion) -> None:
        """Record an input generator's completion (done) or failure (failed)."""
        with self._tx() as db:
            db.execute("UPDATE generators SET status=?, text=?, reasoning=?, completion_tokens=?, error=?,"
                       " attempts=attempts+1, generated_at=? WHERE key=?",
                       ("failed" if c.failed else "done", c.text, c.reasoning, c.completion_tokens, c.error,
                        time.time(), c.key))

    def save_generator_extraction(self, key: str, code: str | None, extraction: str, note: str = "") -> None:
        """Record the code extracted from an input generator's completion."""
        with self._tx() as db:
            db.execute("UPDATE generators SET code=?, extraction=?, note=? WHERE key=?", (code, extraction, note, key))

    def generators(self) -> list[GeneratorRecord]:
        """Every input-generator request of the run (ordered by key)."""
        with self._lock:
            rows = self._db.execute("SELECT key, problem, language, status, text, error, code, extraction, note"
                                    " FROM generators ORDER BY key").fetchall()
        return [GeneratorRecord(**dict(r)) for r in rows]

    # -- extra inputs and runs (``ioi-eval select``) ---------------------------------------------
    def extra_inputs(self, problem: str) -> list[ExtraInput]:
        """The extra inputs stored for ``problem`` (generated ones by seed, then sample inputs), with failures."""
        with self._lock:
            rows = self._db.execute("SELECT name, origin, sha256, data, error, wall_s FROM extra_inputs"
                                    " WHERE problem=? ORDER BY origin, length(name), name", (problem,)).fetchall()
        return [ExtraInput(**dict(r)) for r in rows]

    def save_extra_inputs(self, problem: str, inputs: Iterable[ExtraInput]) -> None:
        """Store extra inputs of ``problem`` (replacing those of the same name)."""
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO extra_inputs(problem, name, origin, sha256, data, error, wall_s)"
                           " VALUES(?, ?, ?, ?, ?, ?, ?)",
                           [(problem, i.name, i.origin, i.sha256, i.data, i.error, i.wall_s) for i in inputs])

    def extra_runs(self, keys: Iterable[str]) -> dict[tuple[str, str], ExtraRun]:
        """The recorded extra runs of the samples ``keys``, by (key, input sha256)."""
        wanted = list(keys)
        out: dict[tuple[str, str], ExtraRun] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = self._db.execute(
                    f"SELECT key, input_sha256, outcome, cpu_s, wall_s FROM extra_runs WHERE key IN"
                    f" ({','.join('?' * len(chunk))})", chunk).fetchall()
                for r in rows:
                    out[(r["key"], r["input_sha256"])] = ExtraRun(r["outcome"], r["cpu_s"] or 0.0, r["wall_s"] or 0.0)
        return out

    def save_extra_run(self, key: str, input_sha256: str, run: ExtraRun) -> None:
        """Record a sample's outcome on one extra input (committed at once: a killed ``select`` resumes)."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO extra_runs(key, input_sha256, outcome, cpu_s, wall_s, ran_at)"
                       " VALUES(?, ?, ?, ?, ?, ?)", (key, input_sha256, run.outcome, run.cpu_s, run.wall_s,
                                                     time.time()))
