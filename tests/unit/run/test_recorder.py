"""The run's one writer of reports: every report that waits goes into one transaction, each learns its outcome."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ioi_eval.judge.results import ReportText
from ioi_eval.record.store import RunStore
from ioi_eval.run.pipeline import _Recorder


def _store(tmp_path: Path, keys: list[str]) -> RunStore:
    store = RunStore(tmp_path / "run.sqlite")
    for key in keys:
        store.save_extraction(key, "int main(){}", "ok")
    return store


def test_reports_from_many_threads_are_written_in_batches_and_each_is_told(tmp_path: Path) -> None:
    keys = [f"p/s/{i}" for i in range(200)]
    store = _store(tmp_path, keys)
    batches: list[int] = []
    write = store.save_reports

    def counted(reports: list) -> None:
        batches.append(len(reports))
        write(reports)

    store.save_reports = counted  # type: ignore[method-assign]
    recorder = _Recorder(store)
    told: dict[str, BaseException | None] = {}
    lock = threading.Lock()

    def hand_in(part: list[str]) -> None:
        for key in part:
            recorder.put(key, ReportText(f'{{"k": "{key}"}}', 50.0, 100.0),
                         lambda error, key=key: (lock.acquire(), told.__setitem__(key, error), lock.release()))

    threads = [threading.Thread(target=hand_in, args=(keys[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    assert told == dict.fromkeys(keys)  # every report told it is committed, none an error
    assert sum(batches) == len(keys) and len(batches) <= len(keys)
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        rows = dict(db.execute("SELECT key, report FROM submissions WHERE score = 50.0").fetchall())
    assert rows == {key: f'{{"k": "{key}"}}' for key in keys}
    store.close()


def test_a_failed_transaction_is_each_of_its_reports_error(tmp_path: Path) -> None:
    store = _store(tmp_path, ["p/s/0"])
    store.close()  # writes fail from now on
    recorder = _Recorder(store)
    told: list[BaseException | None] = []
    recorder.put("p/s/0", ReportText("{}", 1.0, 1.0), told.append)
    recorder.close()
    assert len(told) == 1 and isinstance(told[0], sqlite3.ProgrammingError)
