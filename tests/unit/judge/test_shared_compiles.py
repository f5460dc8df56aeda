"""The compile cache's shared tier (issue 16: compile once per cluster), without Ray.

Two "nodes" are two compilers, each with its own box and its own cache folder, sharing one
:class:`~ioi_eval.backends.ray.compiles.CompileRegistry` through :class:`~ioi_eval.backends.ray.compiles.SharedTier`
in this process (the Ray actor and tier are these classes, reached through Ray). What the local cache keeps (a
program, a CE that ran to completion) is shared; what it does not (a transient failure, a CE cut by a limit) is
not, and its claim is released.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ioi_box.protocol import CompareJob, JobResult, ProcStatus, RunJob

from ioi_eval.backends.ray.compiles import CompileRegistry, SharedTier
from ioi_eval.errors import JudgeError
from ioi_eval.judge.compiler import Compiler, CompileUnit
from tests.fixtures.fake_box import FakeBox, is_compile, proc

UNIT = CompileUnit(language="cpp", files=(("a.cpp", b"int main() {}\n"),), compiled=("a.cpp",), main="a.cpp")
PROGRAM = b"\x7fELF fake program"
CE = proc(ProcStatus.RE, exit_code=1, stderr="a.cpp:1:1: error: expected ';' before '}' token")
KILLED = proc(ProcStatus.SG, signal=9, cpu_s=0.3)


class Node:
    """A compiler with its own box and cache, answering compiles with ``outcomes`` (then success)."""

    def __init__(self, tmp: Path, name: str, tier: Any, *outcomes: JobResult, gate: threading.Event | None = None,
                 use_cache: bool = True) -> None:
        self.queue = list(outcomes)
        self.gate = gate  # a compile waits for it: another node asks meanwhile
        self.started = threading.Event()
        self.cache = tmp / name
        self.box = FakeBox(self.handle)
        self.compiler = Compiler(self.box, cache_dir=self.cache, use_cache=use_cache, shared=tier)

    def handle(self, job: RunJob | CompareJob, box: FakeBox) -> JobResult:
        assert is_compile(job)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        got = self.queue.pop(0) if self.queue else proc()
        if got.procs and got.procs[0].status == ProcStatus.OK:
            box.write(f"{job.procs[0].rw_binds['/box']}/prog", PROGRAM)
        return got

    @property
    def compiles(self) -> int:
        return len(self.box.jobs)

    def entries(self) -> list[Path]:
        return [p for p in (self.cache / "compile").glob("*/*") if not p.name.startswith(".")]


def tier_over(registry: CompileRegistry, wait_s: float = 5.0, **timing: float) -> SharedTier:
    return SharedTier(lambda method, *args: getattr(registry, method)(*args), wait_s=wait_s, **timing)


def test_a_program_compiled_on_one_node_is_taken_by_the_other_not_compiled(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a, b = Node(tmp_path, "a", tier_over(registry)), Node(tmp_path, "b", tier_over(registry))
    res_a, prog_a = a.compiler.compile(UNIT)
    res_b, prog_b = b.compiler.compile(UNIT)
    assert res_a.ok and not res_a.cached and a.compiles == 1
    assert res_b.ok and res_b.cached and b.compiles == 0  # compiled once in the "cluster"
    assert prog_a is not None and prog_b is not None and prog_a.argv == prog_b.argv
    assert b.box.read_bytes(prog_b.files["/box/prog"]) == PROGRAM
    assert len(b.entries()) == 1 and (b.entries()[0] / "prog").read_bytes() == PROGRAM  # now in b's own cache
    again, _ = b.compiler.compile(UNIT)
    assert again.cached and b.compiles == 0
    state = registry.state()
    assert (state["entries"], state["registered"], state["hits"], state["claims"]) == (1, 1, 1, 0)
    assert state["bytes"] > len(PROGRAM)


def test_a_second_node_waits_for_the_first_compile_of_a_key_instead_of_compiling_too(tmp_path: Path) -> None:
    registry = CompileRegistry()
    gate = threading.Event()
    a = Node(tmp_path, "a", tier_over(registry), gate=gate)
    b = Node(tmp_path, "b", tier_over(registry))
    got: dict[str, Any] = {}
    first = threading.Thread(target=lambda: got.setdefault("a", a.compiler.compile(UNIT)))
    first.start()
    assert a.started.wait(10)  # a holds the claim and compiles
    second = threading.Thread(target=lambda: got.setdefault("b", b.compiler.compile(UNIT)))
    second.start()
    deadline = time.monotonic() + 10
    while registry.state()["busy"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert registry.state()["busy"] > 0 and "b" not in got  # b is waiting for a
    gate.set()
    first.join(10)
    second.join(10)
    assert got["a"][0].ok and got["b"][0].ok and got["b"][0].cached
    assert (a.compiles, b.compiles) == (1, 0)


def test_a_compile_error_that_ran_to_completion_is_shared_like_the_local_cache_keeps_it(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a, b = Node(tmp_path, "a", tier_over(registry), CE), Node(tmp_path, "b", tier_over(registry))
    res_a, _ = a.compiler.compile(UNIT)
    res_b, prog_b = b.compiler.compile(UNIT)
    assert not res_a.ok and not res_b.ok and prog_b is None and res_b.cached
    assert "expected ';'" in res_b.message and b.compiles == 0 and len(b.entries()) == 1


def test_a_transient_failure_is_never_shared_and_releases_the_claim(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a = Node(tmp_path, "a", tier_over(registry), KILLED, KILLED)
    b = Node(tmp_path, "b", tier_over(registry))
    with pytest.raises(JudgeError, match="outside the submission"):
        a.compiler.compile(UNIT)
    state = registry.state()
    assert (state["entries"], state["claims"], state["released"]) == (0, 0, 1)
    res_b, _ = b.compiler.compile(UNIT)  # not held up by a's claim: b compiles it at once
    assert res_b.ok and not res_b.cached and b.compiles == 1
    assert registry.state()["entries"] == 1


def test_a_compile_error_cut_by_a_limit_is_not_shared(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a = Node(tmp_path, "a", tier_over(registry), proc(ProcStatus.TLE_CPU, cpu_s=20.5, wall_s=21.0))
    b = Node(tmp_path, "b", tier_over(registry))
    res_a, _ = a.compiler.compile(UNIT)
    assert not res_a.ok and a.entries() == []
    assert registry.state()["entries"] == 0 and registry.state()["claims"] == 0
    res_b, _ = b.compiler.compile(UNIT)
    assert res_b.ok and b.compiles == 1  # compiled again, on b


def test_a_claim_whose_holder_never_answers_holds_others_only_until_the_wait_ends(tmp_path: Path) -> None:
    registry = CompileRegistry()
    b = Node(tmp_path, "b", tier_over(registry, wait_s=0.3))
    key = UNIT.key(b.box.info.tools["cpp"])  # the compile cache's key (no linker flags on a box elsewhere)
    assert registry.claim(key, "an actor that died since", 60) == ("mine", None)
    started = time.monotonic()
    res, _ = b.compiler.compile(UNIT)  # b waits for the dead claimant, then compiles it itself and shares it
    assert res.ok and b.compiles == 1 and time.monotonic() - started >= 0.3
    assert registry.claim(key, "anyone")[0] == "hit"  # registered although b held no claim
    c = Node(tmp_path, "c", tier_over(registry))
    assert c.compiler.compile(UNIT)[0].cached and c.compiles == 0


def test_a_claim_of_a_holder_that_died_lapses_within_its_ttl(tmp_path: Path) -> None:
    registry = CompileRegistry()
    b = Node(tmp_path, "b", tier_over(registry, wait_s=30))
    key = UNIT.key(b.box.info.tools["cpp"])
    assert registry.claim(key, "an actor killed while compiling", 0.2) == ("mine", None)  # never renewed
    started = time.monotonic()
    res, _ = b.compiler.compile(UNIT)
    assert res.ok and b.compiles == 1 and time.monotonic() - started < 5  # not the whole wait
    assert registry.state()["lapsed"] == 1 and registry.state()["entries"] == 1


def test_a_compile_longer_than_the_claims_ttl_keeps_its_claim_by_renewing_it(tmp_path: Path) -> None:
    registry = CompileRegistry()
    gate = threading.Event()
    timing = {"claim_ttl_s": 0.2, "renew_s": 0.05}
    a = Node(tmp_path, "a", tier_over(registry, **timing), gate=gate)
    b = Node(tmp_path, "b", tier_over(registry, **timing))
    first = threading.Thread(target=a.compiler.compile, args=(UNIT,))
    first.start()
    assert a.started.wait(10)
    second = threading.Thread(target=b.compiler.compile, args=(UNIT,))
    second.start()
    time.sleep(1.0)  # five times the ttl: a's claim holds, renewed
    assert registry.state()["renewed"] >= 5 and b.compiles == 0
    gate.set()
    first.join(10)
    second.join(10)
    assert (a.compiles, b.compiles) == (1, 0) and registry.state()["lapsed"] == 0


def test_claims_lapse_and_a_released_or_lapsed_key_can_be_claimed_again() -> None:
    registry = CompileRegistry()
    assert registry.claim("k", "t1", 0.05) == ("mine", None)
    assert registry.claim("k", "t2", 0.05) == ("busy", None)
    assert registry.claim("k", "t1", 0.05) == ("mine", None)  # its own claim, taken again
    assert registry.renew("k", "t1", 0.05) and not registry.renew("k", "t2", 10)
    time.sleep(0.06)
    assert registry.claim("k", "t2", 10) == ("mine", None)  # t1's lapsed
    registry.release("k", "t1")  # not its claim any more: nothing happens
    assert registry.claim("k", "t3", 10) == ("busy", None)
    registry.release("k", "t2")
    assert registry.claim("k", "t3", 10) == ("mine", None)
    assert registry.register("k", "{}", b"x") and not registry.register("k", "{}", b"y")  # the first stays
    assert registry.claim("k", "t4") == ("hit", [("{}", b"x")])
    assert registry.state()["duplicates"] == 1


def test_the_registry_keeps_its_bytes_under_the_cap_least_recently_used_first() -> None:
    registry = CompileRegistry(max_bytes=250)
    for key in "abc":
        assert registry.register(key, "", bytes(100))
    state = registry.state()
    assert (state["entries"], state["evicted"], state["bytes"]) == (2, 1, 200)
    assert registry.claim("a", "t")[0] == "mine"  # a, the oldest, went
    assert registry.claim("b", "t")[0] == "hit"  # b is now the most recent...
    assert registry.register("d", "", bytes(100))
    assert registry.claim("c", "t")[0] == "mine" and registry.claim("b", "u")[0] == "hit"  # ...so c went
    assert not registry.register("huge", "", bytes(300)) and registry.state()["refused"] == 1


def test_an_entry_that_cannot_be_fetched_is_forgotten_and_compiled_again(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a = Node(tmp_path, "a", tier_over(registry))
    a.compiler.compile(UNIT)

    def lost(stored: Any) -> Any:
        raise RuntimeError("ObjectLostError: its node left the cluster")

    b = Node(tmp_path, "b", SharedTier(lambda m, *args: getattr(registry, m)(*args), fetch=lost))
    res, _ = b.compiler.compile(UNIT)
    assert res.ok and not res.cached and b.compiles == 1
    state = registry.state()
    assert state["lost"] == 1 and state["entries"] == 1  # b's compile registered again


def test_a_registry_out_of_reach_costs_a_compile_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def gone(method: str, *args: Any) -> Any:
        raise ConnectionError("the registry actor died")

    a = Node(tmp_path, "a", SharedTier(gone))
    with caplog.at_level("WARNING", logger="ioi_eval.ray"):
        assert a.compiler.compile(UNIT)[0].ok
        other = CompileUnit(language="cpp", files=(("a.cpp", b"int main() { return 0; }\n"),), compiled=("a.cpp",),
                            main="a.cpp")
        assert a.compiler.compile(other)[0].ok
    assert a.compiles == 2
    assert sum("compile registry cannot be reached" in r.message for r in caplog.records) == 1


def test_without_the_cache_nothing_is_shared(tmp_path: Path) -> None:
    registry = CompileRegistry()
    a = Node(tmp_path, "a", tier_over(registry), use_cache=False)
    b = Node(tmp_path, "b", tier_over(registry), use_cache=False)
    a.compiler.compile(UNIT)
    b.compiler.compile(UNIT)
    assert (a.compiles, b.compiles) == (1, 1) and registry.state()["claimed"] == 0
