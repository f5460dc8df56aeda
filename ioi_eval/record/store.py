"""The run store: one SQLite file (WAL) per run holding everything needed to resume and report.

Every completion and every judge report is committed the moment it exists, so killing the process
at any point loses at most the work in flight. One connection is shared by the run's threads
behind a lock (SQLite serialises writers anyway; this keeps the connection safe to share).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..generate.base import Completion, GenerationRequest

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
        if readonly:
            return
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

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
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM generations WHERE status != 'done' ORDER BY problem, subtask, sample").fetchall()
        return [GenerationRequest(key=r["key"], problem=r["problem"], subtask=r["subtask"], sample=r["sample"],
                                  language=r["language"], messages=json.loads(r["messages"]), seed=r["seed"])
                for r in rows]

    def save_completion(self, c: Completion) -> None:
        """Record a completion (done) or a failure (failed, with its error)."""
        with self._tx() as db:
            db.execute(
                "UPDATE generations SET status=?, text=?, reasoning=?, finish_reason=?, prompt_tokens=?,"
                " completion_tokens=?, error=?, seed=COALESCE(?, seed), attempts=attempts+1, generated_at=?"
                " WHERE key=?",
                ("failed" if c.failed else "done", c.text, c.reasoning, c.finish_reason, c.prompt_tokens,
                 c.completion_tokens, c.error, c.seed, time.time(), c.key))

    def generation(self, key: str) -> sqlite3.Row:
        """One generation row."""
        with self._lock:
            return self._db.execute("SELECT * FROM generations WHERE key=?", (key,)).fetchone()

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

    def unjudged(self) -> list[sqlite3.Row]:
        """Submissions with code (or a source file) and no report yet."""
        with self._lock:
            return self._db.execute(
                "SELECT s.key, s.code, s.extraction, g.problem, g.language, g.source_path FROM submissions s"
                " JOIN generations g ON g.key = s.key WHERE s.report IS NULL AND s.extraction != 'no_code'"
                " ORDER BY g.problem, g.subtask, g.sample").fetchall()

    def save_report(self, key: str, report_json: str, score: float) -> None:
        """Record a judge report."""
        with self._tx() as db:
            db.execute("UPDATE submissions SET report=?, score=?, judge_count=judge_count+1, judged_at=?"
                       " WHERE key=?", (report_json, score, time.time(), key))

    def rows(self) -> list[sqlite3.Row]:
        """Every generation joined with its submission, for scoring and reports."""
        with self._lock:
            return self._db.execute(
                "SELECT g.*, s.code, s.extraction, s.note, s.report, s.score, s.judge_count FROM generations g"
                " LEFT JOIN submissions s ON s.key = g.key ORDER BY g.problem, g.subtask, g.sample").fetchall()

    def counts(self) -> dict[str, int]:
        """Progress counters."""
        with self._lock:
            g = dict(self._db.execute("SELECT status, COUNT(*) FROM generations GROUP BY status").fetchall())
            judged = self._db.execute("SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL").fetchone()[0]
            no_code = self._db.execute("SELECT COUNT(*) FROM submissions WHERE extraction='no_code'").fetchone()[0]
        return {"pending": g.get("pending", 0), "done": g.get("done", 0), "failed": g.get("failed", 0),
                "judged": judged, "no_code": no_code}
