"""The submission path's pieces that need no cluster: a package packed reproducibly and unpacked once per node,
a problem's paths moved onto the node's copy, and the driver's pool retrying once on another actor, then SE."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.backends.ray.shipping import NodeBlobs
from ioi_eval.errors import PackageError
from ioi_eval.judge.judge import Judge, not_judged
from ioi_eval.judge.on_ray import OUTSIDE, SubmissionPool, pack_problem, rebase, unpack
from ioi_eval.judge.results import JudgeReport, ReportText, Verdict
from ioi_eval.problem.writer import write_plain_package
from ioi_eval.sources.loader import load_problem


def _package(folder: Path) -> Path:
    tests = {f"1-{i}": (f"{i} {i}\n", f"{2 * i}\n") for i in range(3)}
    return write_plain_package(
        folder, problem={"code": "sum", "name": "Sum", "time_limit": 1.0, "memory_limit": 256 << 20,
                         "score_precision": 2, "task_type": "Batch"},
        subtasks={"01-all": {"score": 100, "testcases": list(tests)}}, tests=tests)


def test_a_package_packs_reproducibly_and_unpacks_once_per_node(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")
    name, data = pack_problem(root)
    assert (name, data) == pack_problem(root) and name.endswith(".pkg.tar")
    blobs = NodeBlobs("node-a", tmp_path / "blobs")
    copy = unpack(blobs, name, data)
    assert unpack(blobs, name, None) == copy  # the second actor on the node finds it
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(FileNotFoundError, match="neither on this node"):
        unpack(NodeBlobs("node-b", tmp_path / "blobs"), name, None)
    changed = next(p for p in root.rglob("*") if p.is_file())
    changed.write_bytes(changed.read_bytes() + b" ")
    assert pack_problem(root)[0] != name  # another content, another name


def test_a_problem_view_moves_onto_the_nodes_copy(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")
    problem = load_problem(root)
    view = problem.model_copy(update={"subtasks": problem.subtasks[:1], "score_type": "GroupMin"})
    name, data = pack_problem(root)
    copy = unpack(NodeBlobs("n", tmp_path / "blobs"), name, data)
    moved = rebase(view, problem.root, copy)
    assert moved.root == copy and moved.subtasks == view.subtasks
    assert all(t.input.is_relative_to(copy) and t.input.read_bytes() == problem.tests[n].input.read_bytes()
               for n, t in moved.tests.items())
    assert rebase(view, tmp_path / "elsewhere", copy) is view  # nothing under that root: unchanged


class _Ref:
    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self.value, self.error = value, error


class _Method:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def remote(self, *args: Any, **kw: Any) -> _Ref:
        try:
            return _Ref(self.fn(*args, **kw))
        except Exception as exc:
            return _Ref(error=exc)


class _Handle:
    """An actor whose process dies (its calls fail as Ray's do) when ``dead``."""

    def __init__(self, ray: _FakeRay, **init: Any) -> None:
        self.ray, self.pid = ray, len(ray.started) + 1
        ray.started.append(self)
        self.where = _Method(lambda: {"node_id": f"node{self.pid}", "host": "h", "pid": self.pid, "info": None})
        self.shutdown = _Method(lambda: None)
        self.judge_submissions = _Method(self._judge)

    def _judge(self, problems: list, jobs: list, skip: bool, parallel: int | None = None
               ) -> list[tuple[bytes, str, Any]]:
        import ray

        from ioi_eval.judge.results import JudgeReport, facts

        self.ray.judged_on.append(self.pid)
        self.ray.parallel.append(parallel)
        self.ray.calls.append((len(problems), len(jobs)))
        if self.pid in self.ray.dying:
            raise ray.exceptions.RayActorError()
        return [(self.ray.report, "", list(facts(JudgeReport.model_validate_json(self.ray.report)))) for _ in jobs]


class _FakeRay:
    """What SubmissionPool asks of ray, with the real exception types."""

    def __init__(self, report: bytes, dying: set[int]) -> None:
        import ray

        self.exceptions = ray.exceptions
        self.report, self.dying = report, dying
        self.started: list[_Handle] = []
        self.judged_on: list[int] = []
        self.parallel: list[int | None] = []
        self.calls: list[tuple[int, int]] = []  # (distinct problems, submissions) of each judge call
        self.killed: list[int] = []

    def put(self, value: Any) -> _Ref:
        return _Ref(value)

    def get(self, ref: Any, timeout: float | None = None) -> Any:
        if isinstance(ref, list):
            return [self.get(r) for r in ref]
        if ref.error is not None:
            raise ref.error
        return ref.value

    def kill(self, handle: _Handle, no_restart: bool = True) -> None:
        self.killed.append(handle.pid)

    def nodes(self) -> list[dict]:
        return [{"NodeID": f"node{h.pid}", "Alive": h.pid not in self.dying} for h in self.started]


class _Class:
    def __init__(self, ray: _FakeRay) -> None:
        self.ray = ray

    def options(self, **_: Any) -> _Class:
        return self

    def remote(self, **init: Any) -> _Handle:
        return _Handle(self.ray, **init)


def _pool(tmp_path: Path, dying: set[int], room: Any = lambda: True) -> tuple[SubmissionPool, _FakeRay, Any]:
    from ioi_eval.backends.ray.channel import ChannelStats

    problem = load_problem(_package(tmp_path / "pkg"))
    good = not_judged(problem, "x").model_copy(update={"score": 100.0})
    fake = _FakeRay(good.model_dump_json().encode(), dying)
    return SubmissionPool(fake, _Class(fake), {}, {}, 2, 1, ChannelStats(), 5.0, room), fake, problem


def test_a_lost_actor_s_submission_is_judged_once_more_on_another(tmp_path: Path) -> None:
    pool, fake, problem = _pool(tmp_path, dying={1})
    got = pool.judge(problem, object())
    assert isinstance(got, ReportText) and got.score == 100.0 and got.system_error[1] == "x"  # its facts came too
    assert got.report.score == 100.0 and JudgeReport.model_validate_json(got.json) == got.report  # the actor's JSON
    assert fake.judged_on == [1, 2] and fake.killed == [1]
    assert pool.stats.broken == 1 and "its node left the cluster" in pool.stats.causes[0]
    for t in [t for t in threading.enumerate() if t.name == "ioi-ray-replace"]:
        t.join(5)
    assert pool.replacements == 1 and pool.alive() == (2, 2)  # a fresh actor took the lost one's place


def test_lost_twice_is_a_report_of_se_naming_both_causes(tmp_path: Path) -> None:
    pool, fake, problem = _pool(tmp_path, dying={1, 2, 3, 4}, room=lambda: False)
    got = pool.judge(problem, object())
    assert isinstance(got, str) and got.count("ray actor on node") == 2 and "; then " in got
    assert fake.judged_on == [1, 2]  # once, then once more: never a third time
    pool.close()  # ends the replacement that waits for room at once
    assert not [t for t in threading.enumerate() if t.name == "ioi-ray-replace" and t.is_alive()]
    report = not_judged(problem, got)
    assert report.score == 0 and all(t.verdict == Verdict.SE and got in t.message for t in report.tests)
    assert report.has_system_error


def test_judge_uses_the_submission_path_only_where_the_backend_has_one(tmp_path: Path) -> None:
    with Judge("local", workers=1) as judge:
        assert judge._submission_pool() is None and judge.submission_pool is None


def test_a_lost_chunk_is_retried_whole_on_another_actor(tmp_path: Path) -> None:
    pool, fake, problem = _pool(tmp_path, dying={1})
    got = pool.judge_chunk([(problem, object())] * 3)
    assert [r.score for r in got] == [100.0] * 3  # type: ignore[union-attr]
    assert fake.judged_on == [1, 2] and pool.stats.results == 3
    pool.close()


def test_a_busy_pool_waits_for_a_slot_however_long_judging_takes(tmp_path: Path) -> None:
    """Every slot busy is no fault: a caller waits past the start-up timeout instead of an SE that blames
    a lost cluster (serve-rewards runs more callers than slots by design)."""
    pool, _, _ = _pool(tmp_path, dying=set())
    held = [pool._acquire(0.2), pool._acquire(0.2)]  # two actors of one slot each
    assert all(a is not None for a in held)
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(pool._acquire(0.2)))
    waiter.start()
    waiter.join(0.8)
    assert waiter.is_alive() and not got  # well past its 0.2 s: still waiting, not given up
    pool._release(held[0])
    waiter.join(5)
    assert got == [held[0]]
    pool.close()


def test_symlinks_inside_a_package_travel_as_what_they_point_at(tmp_path: Path) -> None:
    root = _package(tmp_path / "pkg")
    (root / "graders" / "shared").mkdir(parents=True)
    (root / "graders" / "shared" / "g.h").write_text("int g();\n")
    (root / "graders" / "link").symlink_to("shared")
    first = next(p for p in (root / "tests").iterdir() if p.is_file())
    (root / "tests" / "copy.in").symlink_to(first.name)
    name, data = pack_problem(root)
    copy = unpack(NodeBlobs("n", tmp_path / "blobs"), name, data)
    assert (copy / "graders" / "link" / "g.h").read_text() == "int g();\n"
    assert (copy / "tests" / "copy.in").read_bytes() == first.read_bytes()
    assert not any(p.is_symlink() for p in copy.rglob("*"))


def test_files_a_problem_names_outside_its_folder_travel_with_its_package(tmp_path: Path) -> None:
    """A hand-made view whose test input and checker live elsewhere: the node's copy holds them, side by side as
    they were, and the problem the actor gets names them there; the driver's problem is left as it was."""
    pool, _, problem = _pool(tmp_path, dying=set())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "big.in").write_text("20 22\n")
    (elsewhere / "checker.cpp").write_text('#include "testlib.h"\n')
    (elsewhere / "testlib.h").write_text("// named too\n")
    first = problem.test_order()[0]
    view = problem.model_copy(update={
        "tests": {**problem.tests, first: problem.tests[first].model_copy(update={"input": elsewhere / "big.in"})},
        "checker": problem.checker.model_copy(update={"source": elsewhere / "checker.cpp"}),
        "grader_files": (elsewhere / "testlib.h",)})
    name, package_ref, problem_ref = pool._ship(view)
    assert pool._ship(view) == (name, package_ref, problem_ref)  # shipped once per problem object
    assert pool._ship(problem)[0] != name  # the package alone is another tar
    copy = unpack(NodeBlobs("n", tmp_path / "blobs"), name, package_ref.value)
    sent = problem_ref.value
    on_node = rebase(sent, sent.root, copy)
    moved = on_node.tests[first].input
    assert moved.is_relative_to(copy / OUTSIDE) and moved.read_text() == "20 22\n"
    assert on_node.checker.source.parent == moved.parent  # one folder's files stay together
    assert (on_node.checker.source.parent / "testlib.h").read_text() == "// named too\n"
    assert on_node.tests[problem.test_order()[1]].input.is_relative_to(copy)  # the package's own, as before
    assert view.tests[first].input == elsewhere / "big.in"  # the driver's view is untouched
    pool.close()


def test_a_folder_named_outside_the_package_is_a_clear_error(tmp_path: Path) -> None:
    pool, _, problem = _pool(tmp_path, dying=set())
    (tmp_path / "dir.in").mkdir()
    first = problem.test_order()[0]
    view = problem.model_copy(update={
        "tests": {**problem.tests, first: problem.tests[first].model_copy(update={"input": tmp_path / "dir.in"})}})
    with pytest.raises(PackageError, match=r"dir\.in is outside its package folder .* not a plain file"):
        pool.judge(view, object())
    pool.close()


def test_parallel_reaches_the_actor_and_on_test_comes_after_the_report(tmp_path: Path, caplog) -> None:
    """The submission path passes ``parallel`` to the actor's judge; ``on_test`` sees the tests that ran, once the
    report is back, and a warning says so once."""
    pool, fake, problem = _pool(tmp_path, dying=set())
    from ioi_eval.judge.submission import Submission

    sub = Submission(name="a.cpp", language="cpp", source=b"int main(){}")
    seen: list[str] = []
    with Judge("local", workers=1) as judge, caplog.at_level("WARNING", logger="ioi_eval.judge.judge"):
        judge._pool = pool  # the Ray backend's submission path, on a fake cluster
        for _ in range(2):
            report = judge.judge(problem, sub, on_test=lambda t: seen.append(t.name), parallel=2)
        judge.judge_many([(problem, sub)])
    assert fake.parallel == [2, 2, None]
    assert seen == [t.name for t in report.tests] * 2
    warned = [r.message for r in caplog.records if "on_test" in r.message]
    assert len(warned) == 1 and "once its report has come back" in warned[0]
    assert Judge("ray").streams_tests is False and Judge("local").streams_tests is True


def test_chunks_grow_only_where_every_slot_still_gets_several_calls() -> None:
    from ioi_eval.judge.on_ray import CHUNK_MAX, CHUNKS_PER_SLOT, chunk_size

    assert chunk_size(1, 64) == 1 and chunk_size(CHUNKS_PER_SLOT * 64 - 1, 64) == 1
    assert chunk_size(CHUNKS_PER_SLOT * 64 * 3, 64) == 3
    assert chunk_size(10**6, 64) == CHUNK_MAX and chunk_size(5, 0) == 1


def test_queued_submissions_go_in_chunks_with_each_problem_once_per_call(tmp_path: Path) -> None:
    """Where many wait (the driver is the limit), one call carries several; every future gets its own answer;
    a chunk's problem refs travel once, not once per submission."""
    pool, fake, problem = _pool(tmp_path, dying=set())
    gate = threading.Event()
    first = fake.started[0]._judge
    fake.started[0].judge_submissions = type(first.__self__.judge_submissions)(
        lambda *a: (gate.wait(5), first(*a))[1])  # the first call blocks until all are queued
    futures = [pool.submit(problem, object(), convert=lambda got: ("converted", got)) for _ in range(40)]
    gate.set()
    answers = [f.result(10) for f in futures]
    assert all(a[0] == "converted" and isinstance(a[1], ReportText) and a[1].score == 100.0 for a in answers)
    assert sum(n for _, n in fake.calls) == 40 and len(fake.calls) < 40  # chunks formed while the driver waited
    assert all(problems == 1 for problems, _ in fake.calls)
    assert pool.stats.results == 40
    pool.close()


def test_a_closed_pool_fails_what_still_waits_and_takes_no_more(tmp_path: Path) -> None:
    from ioi_eval.errors import BoxRequestError

    pool, fake, problem = _pool(tmp_path, dying=set())
    gate = threading.Event()
    for h in fake.started:
        judge = h._judge
        h.judge_submissions = type(h.judge_submissions)(lambda *a, j=judge: (gate.wait(5), j(*a))[1])
    futures = [pool.submit(problem, object()) for _ in range(10)]
    pool.close()
    gate.set()
    for f in futures:  # each ends: judged (it was sent), lost with the closed pool, or refused; none hangs
        try:
            got = f.result(10)
        except BoxRequestError as exc:
            assert "closed" in str(exc)
        else:
            assert isinstance(got, ReportText | str)
    with pytest.raises(BoxRequestError, match="closed"):
        pool.submit(problem, object())


def test_a_report_text_carries_what_a_run_reads_and_parses_only_on_demand(tmp_path: Path) -> None:
    problem = load_problem(_package(tmp_path / "pkg"))
    report = not_judged(problem, "lost")
    text = ReportText.of(report)
    assert text.report is report and text.score == report.score and text.max_score == report.max_score
    assert text.system_error == (report.tests[0].name, "lost") and text.has_system_error
    raw = ReportText(text.json, 0.0, 100.0)
    assert raw.report == report and not raw.has_system_error  # parsed from its JSON when asked
