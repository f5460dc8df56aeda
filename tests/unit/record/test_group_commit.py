"""The run store's group commit: reports handed in together are written in one transaction, each exactly once,
and a caller returns only once its report is committed (or raises when its batch failed)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ioi_eval.record.store import RunStore


def _store(tmp_path: Path, n: int) -> tuple[RunStore, list[str]]:
    store = RunStore(tmp_path / "run.sqlite")
    keys = [f"p/01/{i}" for i in range(n)]
    for key in keys:
        store.save_extraction(key, "int main(){}", "ok")
    return store, keys


def test_reports_arriving_together_share_a_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, keys = _store(tmp_path, 64)
    batches: list[int] = []
    gate = threading.Event()
    real = store.save_reports

    def slow(reports: list[tuple[str, str, float]]) -> None:
        batches.append(len(reports))
        gate.wait(5)  # the first transaction holds on until every other thread has queued its report
        real(reports)

    monkeypatch.setattr(store, "save_reports", slow)
    threads = [threading.Thread(target=store.save_report, args=(k, '{"x": 1}', 1.0)) for k in keys]
    for t in threads:
        t.start()
    while len(store._queued) < len(keys) - 1:  # all but the writer's own report wait in the queue
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(10)
    assert batches == [1, len(keys) - 1]
    store.close()
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        assert db.execute("SELECT COUNT(*), MIN(judge_count), MAX(judge_count) FROM submissions "
                          "WHERE report IS NOT NULL").fetchone() == (len(keys), 1, 1)


def test_a_failed_batch_fails_each_of_its_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, keys = _store(tmp_path, 8)
    gate = threading.Event()
    calls = 0
    real = store.save_reports

    def failing(reports: list[tuple[str, str, float]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            gate.wait(5)
            real(reports)
            return
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "save_reports", failing)
    errors: list[str] = []

    def save(key: str) -> None:
        try:
            store.save_report(key, "{}", 0.0)
        except sqlite3.OperationalError as exc:
            errors.append(f"{key}: {exc}")

    threads = [threading.Thread(target=save, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    while len(store._queued) < len(keys) - 1:
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(errors) == len(keys) - 1 and all("disk I/O error" in e for e in errors)
    assert _judged(tmp_path) == [keys[0]]
    monkeypatch.setattr(store, "save_reports", real)
    store.save_report(keys[1], "{}", 0.0)  # the store goes on after a failed batch
    assert _judged(tmp_path) == keys[:2]
    store.close()


def _judged(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        return [k for (k,) in db.execute("SELECT key FROM submissions WHERE report IS NOT NULL ORDER BY key")]
