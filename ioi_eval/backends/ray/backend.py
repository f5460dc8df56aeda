"""``--backend ray``: judge on the boxes of a Ray cluster's nodes, one judge actor per box.

:class:`RayBackend` opens a :class:`~ioi_eval.backends.remote.RemoteBox` over a pool of judge actors
(:mod:`.actor`), reached through :class:`~.channel.RayChannel`: to the judge it is one box with many slots, like
the Docker or E2B backend's. Each actor asks Ray for as many CPUs as it has run slots (Ray's default of 0 CPUs
to run would pile actors onto one node), actors are spread over the nodes, and nothing is retried by Ray itself.
The judge keeps at most one job per slot in flight (its slot semaphore), so the driver applies backpressure by
construction. The compile cache stays the driver's: a submission is compiled once per cluster, in one actor, and
its program goes to other nodes by content through the object store.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ...envvars import env_number
from ...errors import ChannelError, RayClusterError
from ..remote import ChannelPool, RemoteBox
from .actor import BoxActor
from .channel import START_TIMEOUT_S, ChannelStats, RayChannel
from .cluster import ROOM_WAIT_S, alive_nodes, connect
from .shipping import ObjectShelf

log = logging.getLogger("ioi_eval.ray")

BOXES = ("local", "docker", "e2b")
DEFAULT_SLOTS = 2  # run slots (and CPUs) per actor; $IOI_EVAL_RAY_SLOTS
STATUS_EVERY_S = 10.0  # the driver's progress line; $IOI_EVAL_RAY_STATUS_S (0: none)


# What each run must get inside a remote box: in a judge container the zygote (built in a user namespace) where
# it works, else bubblewrap (as the Docker backend asks); in an E2B sandbox bubblewrap, as the E2B backend asks.
_BOX_ISOLATION = {"docker": "namespaced", "e2b": "bwrap"}

class RayBackend:
    """Judge on a Ray cluster (``--backend ray``): ``address`` (default ``$RAY_ADDRESS``, else a local cluster),
    ``box`` (``local``: bubblewrap on each node; ``docker``: a judge container on each node; ``e2b``: E2B
    sandboxes, under one cluster-wide limiter), ``slots`` per actor.
    ``actor_cpus`` overrides the CPUs an actor asks for (default: its slots); only canned actors, which run
    nothing, should ask for fewer."""

    name = "ray"

    def __init__(self, address: str | None = None, box: str | None = None, slots: int | None = None,
                 image: str | None = None, isolation: str | None = None, canned: bool = False,
                 status: Callable[[str], None] | None = None, actor_cpus: float | None = None,
                 canned_report: bytes | None = None, submissions: bool = True) -> None:
        self.address = address
        self.box = box or os.environ.get("IOI_EVAL_RAY_BOX") or "local"
        if self.box not in BOXES:
            raise RayClusterError(f"--ray-box must be one of {', '.join(BOXES)}, not {self.box!r}")
        self.slots = max(1, slots or env_number("IOI_EVAL_RAY_SLOTS", DEFAULT_SLOTS))
        self.image = image
        self.isolation = isolation or _BOX_ISOLATION.get(self.box)
        self.e2b: Any = None
        if self.box == "e2b":  # its settings (the driver's environment) are read now: a bad one fails at once
            from ..e2b import E2BBackend

            self.e2b = E2BBackend()
        self.canned = canned
        self.status = status
        self.actor_cpus = actor_cpus
        self.canned_report = canned_report
        #: whole submissions judged in the actors (``Judge`` asks :meth:`open_submissions`); False: the box path
        self.judges_submissions = submissions

    def plan(self, ray: Any, workers: int | None) -> tuple[int, int]:
        """(actors, slots each) for ``workers`` run slots (default: every CPU), as many as the nodes can place:
        an actor needs all its CPUs on one node."""
        per_node = [int(n.get("Resources", {}).get("CPU", 0)) for n in alive_nodes(ray).values()]
        if max(per_node, default=0) < 1:
            raise RayClusterError("the Ray cluster has no CPU to run a judge actor on")
        if self.actor_cpus is not None:  # canned actors: placement is not bounded by CPUs
            return max(1, math.ceil(max(1, workers or self.slots) / self.slots)), self.slots
        slots = min(self.slots, max(per_node))
        room = sum(c // slots for c in per_node)
        wanted = max(1, workers or sum(per_node))
        count = max(1, min(math.ceil(wanted / slots), room))
        if self.e2b is not None:  # no more actors than the account's sandboxes can serve
            count = min(count, max(1, self.e2b.max_sandboxes // self.e2b.sandboxes_for(slots)))
        return count, slots

    def limiter(self) -> Any:
        """``--ray-box e2b``: the cluster's E2B limiter (:mod:`.limiter`), made now with this driver's limits
        unless it exists; named after the account's key, so drivers of one account share it. Else None."""
        if self.e2b is None:
            return None
        from ..e2b import require_api_key
        from .limiter import RayLimiter, limiter_name

        cap, rate = self.e2b.limits()
        limiter = RayLimiter(limiter_name("e2b", require_api_key()), cap, rate)
        state = limiter.state()  # made now, or found: then it keeps the limits it was made with
        if (state["cap"], state["rate"]) != (cap, rate):
            log.warning("ray: the cluster's E2B limiter %s keeps %d sandboxes and %g creations/s (set by the driver "
                        "that made it), not this driver's %d and %g", limiter.name, state["cap"], state["rate"],
                        cap, rate)
        return limiter

    def actor_env(self) -> dict[str, Any]:
        """Ray options that give ``e2b`` actors the driver's E2B settings (key, template, limits), so every
        node judges with the account and template the driver was given; {} for other boxes."""
        if self.e2b is None:
            return {}
        env = {k: v for k, v in os.environ.items() if k == "E2B_API_KEY" or k.startswith(("IOI_EVAL_E2B_", "E2B_"))}
        return {"runtime_env": {"env_vars": env}}

    def open(self, workers: int | None = None) -> RemoteBox:
        """Connect, start the actors in parallel (spread over the nodes) and greet their boxes."""
        ray = connect(self.address)
        count, slots = self.plan(ray, workers)
        actor_class = ray.remote(BoxActor)
        cpus = slots if self.actor_cpus is None else self.actor_cpus
        options = {"num_cpus": cpus, "scheduling_strategy": "SPREAD", "max_restarts": 0, "max_task_retries": 0,
                   "max_concurrency": 2 * slots + 4,  # calls overlap: runs, puts and reads of one box
                   **self.actor_env()}
        init = {"box": self.box, "slots": slots, "image": self.image, "canned": self.canned,
                "limiter": self.limiter()}
        shelf, stats = ObjectShelf(ray), ChannelStats()
        run_id = f"{os.getpid()}-{int(time.time()) % 100000}"
        started: set[int] = set()

        def factory(i: int) -> RayChannel:
            if i in started:  # a replacement: only where a node has room (a lost node's CPUs are gone)
                _wait_for_room(ray, cpus)
            started.add(i)
            return RayChannel(ray, actor_class, options, init, f"ray-{run_id}-{i}", shelf, stats)

        try:
            pool = ChannelPool(factory, count, workers_per_box=slots, isolation=self.isolation)
        except RayClusterError:
            raise
        except Exception as exc:
            raise RayClusterError(f"cannot start the judge actors ({count} x {slots} CPUs, within "
                                  f"{START_TIMEOUT_S:g} s each): {exc}") from None
        def counts() -> tuple[int, int, int]:
            alive = sum(s.channel is not None and getattr(s.channel, "alive", True) for s in pool.slots)
            return alive, len(pool.slots), pool.replacements

        reporter = _StatusLine(counts, stats, self.status or _stderr_line)
        box = RemoteBox(pool, on_close=reporter.stop)
        nodes = {getattr(s.channel, "where", {}).get("node_id") for s in pool.slots if s.channel is not None}
        box.isolation_note = (f"ray, {count} actor(s) x {slots} slots on {len(nodes)} node(s), {self.box} boxes: "
                              f"{box.isolation_note}")
        box.ray_stats = stats  # type: ignore[attr-defined]  # for benchmarks and tests
        box.ray_shelf = shelf  # type: ignore[attr-defined]
        reporter.start()
        return box


    def open_submissions(self, opener: Callable[..., Any], judge_class: type, workers: int | None = None,
                         judge_options: dict[str, Any] | None = None) -> Any:
        """The submission path (:mod:`ioi_eval.judge.on_ray`): ``opener`` (its ``open_pool``) starts the judge
        actors this backend plans, each holding a ``judge_class`` (made with ``judge_options``) over its node's
        box; a progress line runs
        beside them. ``canned_report`` (a report's JSON) makes canned actors: the driver-ceiling benchmark's."""
        ray = connect(self.address)
        count, slots = self.plan(ray, workers)
        cpus = slots if self.actor_cpus is None else self.actor_cpus
        stats = ChannelStats()
        pool = opener(ray, judge_class, self.box, slots, count, self.image, cpus, self.canned_report, stats,
                      START_TIMEOUT_S, lambda: _most_free_cpus(ray) >= cpus, judge_options,
                      limiter=self.limiter(), actor_options=self.actor_env())
        reporter = _StatusLine(lambda: (*pool.alive(), pool.replacements), stats, self.status or _stderr_line)
        pool.on_close = reporter.stop
        nodes = {a.where.get("node_id") for a in pool.actors}
        pool.isolation_note = f"ray, {count} actor(s) x {slots} slots on {len(nodes)} node(s), {self.box} boxes"
        reporter.start()
        return pool


def _wait_for_room(ray: Any, cpus: float, wait_s: float = ROOM_WAIT_S) -> None:
    """Wait until some live node has ``cpus`` free CPUs (a killed actor's come back within a second or so);
    else the replacement fails at once, the pool goes on with the actors it has, and the jobs go to those."""
    deadline = time.monotonic() + wait_s
    while True:
        if _most_free_cpus(ray) >= cpus:
            return
        if time.monotonic() > deadline:
            raise ChannelError(f"no node of the Ray cluster has {cpus:g} free CPU(s) for a replacement actor")
        time.sleep(0.2)


def _most_free_cpus(ray: Any) -> float:
    """The free CPUs of the emptiest node (Ray's per-node view; its cluster total where that is unavailable)."""
    try:
        per_node = ray._private.state.state.available_resources_per_node()  # no public per-node view
        return max((n.get("CPU", 0) for n in per_node.values()), default=0)
    except Exception:
        return ray.available_resources().get("CPU", 0)


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _StatusLine:
    """Every ``$IOI_EVAL_RAY_STATUS_S`` seconds while judging: actors alive, jobs in flight, retried, results/s."""

    def __init__(self, counts: Callable[[], tuple[int, int, int]], stats: ChannelStats,
                 emit: Callable[[str], None]) -> None:
        self.counts, self.stats, self.emit = counts, stats, emit  # counts: (alive, actors, replaced)
        self.every = env_number("IOI_EVAL_RAY_STATUS_S", STATUS_EVERY_S, kind=float, unit="seconds")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ioi-ray-status", daemon=True)
        self._said = (stats.results, 0)  # (results, replacements) as of the last line emitted
        self._said_at = time.monotonic()

    def line(self, rate: float) -> str:
        """The progress line."""
        alive, total, replaced = self.counts()
        return (f"ray: {alive}/{total} actors alive, {self.stats.in_flight} jobs in flight, "
                f"{replaced} actor(s) replaced (their jobs retried once), {rate:.1f} results/s")

    def start(self) -> None:
        if self.every > 0:
            self._thread.start()

    def _loop(self) -> None:
        last, t0 = self.stats.results, time.monotonic()
        while not self._stop.wait(self.every):
            now, done = time.monotonic(), self.stats.results
            if done != last or self.stats.in_flight:
                self._emit((done - last) / max(1e-9, now - t0))
            last, t0 = done, now

    def _emit(self, rate: float) -> None:
        self._said, self._said_at = (self.stats.results, self.counts()[2]), time.monotonic()
        self.emit(self.line(rate))

    def stop(self) -> None:
        """Stop the loop; a last line when results came or actors were replaced since the last one said so
        (a replacement in the final interval is never left unreported)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
            if self._said != (self.stats.results, self.counts()[2]):
                elapsed = max(1e-9, time.monotonic() - self._said_at)
                self.emit(self.line((self.stats.results - self._said[0]) / elapsed))


def node_report(address: str | None = None, box: str = "local") -> list[dict[str, Any]]:
    """What a box on each live node says about its isolation (``ioi-eval doctor --backend ray``): one actor
    pinned to each node greets its box and is closed again."""
    ray = connect(address)
    from ioi_box.protocol import Hello
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    shelf, stats = ObjectShelf(ray), ChannelStats()
    actor_class = ray.remote(BoxActor)
    e2b = RayBackend(box=box) if box == "e2b" else None
    limiter, env = (e2b.limiter(), e2b.actor_env()) if e2b is not None else (None, {})
    rows: list[dict[str, Any]] = []
    channels: list[tuple[dict[str, Any], RayChannel]] = []
    for node_id, node in sorted(alive_nodes(ray).items(), key=lambda kv: kv[1].get("NodeManagerAddress", "")):
        if node.get("Resources", {}).get("CPU", 0) < 1:
            rows.append({"node": node_id, "address": node.get("NodeManagerAddress"), "error": "no CPU for an actor"})
            continue
        options = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0, "max_concurrency": 2,
                   "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False), **env}
        row = {"node": node_id, "address": node.get("NodeManagerAddress")}
        channels.append((row, RayChannel(ray, actor_class, options, {"box": box, "slots": 1, "limiter": limiter},
                                         f"doctor-{node_id[:8]}", shelf, stats)))
        rows.append(row)
    for row, ch in channels:
        try:
            reply, _ = ch.call(Hello(workers=1, isolation=_BOX_ISOLATION.get(box)))
            info = reply.info
            assert info is not None
            row.update(isolation=info.isolation, note=info.isolation_note, cgroups=dict(info.cgroups),
                       tools=dict(info.tools), host=ch.where.get("host"))
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            ch.close()
    return rows
