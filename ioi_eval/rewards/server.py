"""``ioi-eval serve-rewards``: the reward over HTTP (Starlette on uvicorn), for OpenRLHF and any other client.

Endpoints:

- ``POST /get_reward`` — OpenRLHF's remote reward protocol: ``{"query": [...], "prompts": [...], "labels": [...]}``
  answers ``{"rewards", "scores", "extra_logs"}``. The completion is the query after its prompt; each label is the
  problem id, ``<id>/<subtask>``, or open-r1's ``verification_info`` as JSON. OpenRLHF turns the rewards into a
  tensor and has no "no reward", so a batch holding a judge fault is answered ``503`` (with ``Retry-After``, the
  faulted samples and their causes) instead of a made-up number: OpenRLHF's client retries, and the verdicts already
  reached are remembered by the reward, so a retry judges only what failed.
- ``POST /rewards`` — plain JSON: ``{"samples": [{"completion", "label" | "problem_id"/"id" + "subtask" |
  "verification_info", "language"?}]}`` answers ``{"rewards": [...], "results": [...]}`` with per-sample verdicts
  (``reward`` is null for a fault, with ``status`` saying why).
- ``GET /health`` — ``200 {"status": "ok", ...}`` with the load and the recent fault share.

Back-pressure: at most ``max_concurrent`` requests are judged at once and ``max_queue`` more wait; beyond that a
request is refused at once with ``429`` and ``Retry-After``. A malformed body is a ``400`` (not JSON) or ``422``
(wrong shape, an unknown problem or subtask), naming the problem. On SIGINT/SIGTERM the server stops accepting
connections, refuses what is still queued with ``503`` and finishes what is being judged before it exits: no request
is dropped without an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import IoiEvalError, RewardFaultError
from .reward import CodeReward, RewardResult, Sample


class GetRewardRequest(BaseModel):
    """OpenRLHF's body (extra fields are ignored, as OpenRLHF's own server does)."""

    query: list[str]
    prompts: list[str] | None = None
    labels: list[str]

    @model_validator(mode="after")
    def _same_length(self) -> GetRewardRequest:
        if len(self.labels) != len(self.query) or (self.prompts is not None and len(self.prompts) != len(self.query)):
            raise ValueError("query, prompts and labels must have one entry per sample")
        return self


class SampleIn(BaseModel):
    """One sample of the plain endpoint."""

    model_config = ConfigDict(extra="forbid")

    completion: str | list[dict[str, Any]]
    label: str | None = None
    problem_id: str | None = None
    id: str | None = None
    subtask: str | None = None
    verification_info: dict[str, Any] | str | None = None
    language: str | None = None


class RewardsRequest(BaseModel):
    """The plain endpoint's body."""

    model_config = ConfigDict(extra="forbid")

    samples: list[SampleIn]


class Refused(Exception):
    """A request the server does not take now (queue full, shutting down)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Gate:
    """Bounded concurrency with a bounded queue; draining refuses the queued and lets the admitted finish."""

    def __init__(self, max_concurrent: int, max_queue: int) -> None:
        self.max_concurrent = max(1, max_concurrent)
        self.limit = self.max_concurrent + max(0, max_queue)
        self.admitted = 0
        self.running = 0
        self._sem: asyncio.Semaphore | None = None
        self._draining: asyncio.Event | None = None

    def _primitives(self) -> tuple[asyncio.Semaphore, asyncio.Event]:
        if self._sem is None or self._draining is None:
            self._sem, self._draining = asyncio.Semaphore(self.max_concurrent), asyncio.Event()
        return self._sem, self._draining

    @property
    def draining(self) -> bool:
        """Whether the server is shutting down."""
        return self._draining is not None and self._draining.is_set()

    def drain(self) -> None:
        """Refuse what waits and what comes; what runs goes on."""
        self._primitives()[1].set()

    async def __aenter__(self) -> Gate:
        sem, draining = self._primitives()
        if draining.is_set():
            raise Refused(503, "the reward server is shutting down")
        if self.admitted >= self.limit:
            raise Refused(429, f"the reward server is busy ({self.running} requests judged, "
                               f"{self.admitted - self.running} queued); retry later")
        self.admitted += 1
        acquire = asyncio.ensure_future(sem.acquire())
        stop = asyncio.ensure_future(draining.wait())
        try:
            await asyncio.wait({acquire, stop}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while queued: give back the place (and the slot, if it came meanwhile)
            if acquire.done() and not acquire.cancelled():
                sem.release()
            acquire.cancel()
            self.admitted -= 1
            raise
        finally:
            stop.cancel()
        if not acquire.done() or acquire.cancelled():
            acquire.cancel()
            self.admitted -= 1
            raise Refused(503, "the reward server is shutting down; this request was not judged")
        self.running += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        sem, _ = self._primitives()
        self.running -= 1
        self.admitted -= 1
        sem.release()


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first.get('msg')}{more}"


def completion_of(query: str, prompt: str | None) -> str:
    """The completion inside an OpenRLHF query: what follows its prompt (the whole query if the prompt is not in
    it)."""
    if not prompt:
        return query
    if query.startswith(prompt):
        return query[len(prompt):]
    at = query.find(prompt)
    return query[at + len(prompt):] if at >= 0 else query


class RewardServer:
    """The Starlette application around one :class:`CodeReward`."""

    def __init__(self, reward: CodeReward, max_concurrent: int = 4, max_queue: int = 64,
                 max_samples: int = 4096) -> None:
        self.reward = reward
        self.gate = Gate(max_concurrent, max_queue)
        self.max_samples = max_samples
        self.app = Starlette(routes=[Route("/health", self.health, methods=["GET"]),
                                     Route("/get_reward", self.get_reward, methods=["POST"]),
                                     Route("/rewards", self.rewards, methods=["POST"])])

    async def health(self, request: Request) -> JSONResponse:
        """Liveness and load."""
        status = "draining" if self.gate.draining else "ok"
        return JSONResponse({"status": status, "running": self.gate.running,
                             "queued": self.gate.admitted - self.gate.running, "mode": self.reward.mode.name,
                             "problems": len(self.reward.problems), "fault_share": self.reward.faults.share()},
                            status_code=200 if status == "ok" else 503)

    async def _body(self, request: Request, model: type[BaseModel]) -> BaseModel | JSONResponse:
        raw = await request.body()
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not JSON: {exc}")
        if not isinstance(data, dict):
            return _error(422, f"the body must be a JSON object, not {type(data).__name__}")
        try:
            body = model.model_validate(data)
        except ValidationError as exc:
            return _error(422, _validation_message(exc))
        return body

    async def _judge(self, build: Any) -> list[RewardResult] | JSONResponse:
        """Targets first (a 422 for an unknown one), then judging behind the gate."""
        try:
            samples: list[Sample] = await asyncio.to_thread(build)
        except IoiEvalError as exc:
            return _error(422, str(exc))
        if len(samples) > self.max_samples:
            return _error(413, f"{len(samples)} samples in one request; at most {self.max_samples}")
        try:
            async with self.gate:
                results = await self.reward.ajudge_samples(samples)
        except Refused as exc:
            return _error(exc.status, str(exc))
        try:
            self.reward.faults.record([r.message or r.status if r.fault else None for r in results])
        except RewardFaultError as exc:
            return _error(503, str(exc), results=[r.model_dump() for r in results])
        return results

    async def get_reward(self, request: Request) -> JSONResponse:
        """OpenRLHF's ``/get_reward``."""
        body = await self._body(request, GetRewardRequest)
        if isinstance(body, JSONResponse):
            return body
        assert isinstance(body, GetRewardRequest)
        prompts = body.prompts or [None] * len(body.query)

        def build() -> list[Sample]:
            return [Sample(self.reward.target_of_label(label), completion_of(q, p))
                    for q, p, label in zip(body.query, prompts, body.labels, strict=True)]

        results = await self._judge(build)
        if isinstance(results, JSONResponse):
            return results
        faults = [i for i, r in enumerate(results) if r.fault]
        if faults:
            return _error(503, f"the judge failed on {len(faults)} of {len(results)} samples "
                               f"(first: {results[faults[0]].message}); retry", faulted=faults,
                          rewards=[r.reward for r in results])
        rewards = [r.reward for r in results]
        extra = {"passed_fraction": [r.passed / r.tests if r.tests else 0.0 for r in results],
                 "no_code": [1.0 if r.status == "no_code" else 0.0 for r in results],
                 "compile_error": [1.0 if r.verdict == "CE" else 0.0 for r in results]}
        return JSONResponse({"rewards": rewards, "scores": rewards, "extra_logs": extra})

    async def rewards(self, request: Request) -> JSONResponse:
        """The plain endpoint: per-sample verdicts."""
        body = await self._body(request, RewardsRequest)
        if isinstance(body, JSONResponse):
            return body
        assert isinstance(body, RewardsRequest)

        def build() -> list[Sample]:
            from .reward import completion_text

            out = []
            for s in body.samples:
                if s.label is not None:
                    target = self.reward.target_of_label(s.label, s.language)
                else:
                    target = self.reward.target_of(s.model_dump(exclude={"completion"}, exclude_none=True))
                out.append(Sample(target, completion_text(s.completion)))
            return out

        results = await self._judge(build)
        if isinstance(results, JSONResponse):
            return results
        return JSONResponse({"rewards": [r.reward for r in results], "results": [r.model_dump() for r in results]})


def serve(reward: CodeReward, host: str = "127.0.0.1", port: int = 8000, max_concurrent: int = 4,
          max_queue: int = 64, graceful_s: float | None = None, on_ready: Any = None) -> None:
    """Serve until SIGINT/SIGTERM; then refuse the queued, finish the running and release the box pool."""
    import uvicorn

    server_app = RewardServer(reward, max_concurrent, max_queue)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if on_ready is not None and self.started:
                on_ready(self)

        async def shutdown(self, sockets: Any = None) -> None:
            server_app.gate.drain()  # queued requests are answered 503 at once; running ones finish
            await super().shutdown(sockets)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal once it has shut down, so the process would die of it; a graceful stop
            # is a normal exit here (status 0)
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(server_app.app, host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=graceful_s, lifespan="off")
    try:
        _Server(config).run()
    finally:
        reward.close()
