"""Completions from any OpenAI-compatible HTTP server: ``vllm serve``, SGLang, TGI, hosted APIs.

Requests run concurrently (bounded by ``concurrency``) on an ``httpx.AsyncClient`` inside a private event
loop thread, so :meth:`OpenAIEngine.generate` is an ordinary iterator that yields each completion as it
finishes. Rate limits (429), server errors (5xx), 408/409, timeouts, dropped connections and malformed
responses are retried with exponential backoff and jitter, honouring ``Retry-After``; other 4xx answers fail
at once. A request that fails for good yields a Completion whose ``error`` says why, never an empty answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field

from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.common import effective_seed, flatten_messages
from ioi_eval.generate.reasoning import split_reasoning

try:
    import httpx
except ImportError:  # pragma: no cover - httpx is a core dependency
    httpx = None  # type: ignore[assignment]

Mode = Literal["chat", "completions"]

#: 4xx statuses worth retrying; every other 4xx is the request's own fault and fails at once.
RETRYABLE_4XX = frozenset({408, 409, 429})


def normalise_base_url(base_url: str) -> str:
    """The API root of a server: ``http://h:8000``, ``h:8000`` and ``http://h:8000/v1/`` all give ``http://h:8000/v1``.

    A URL whose path is empty gets ``/v1``; a full endpoint (``…/chat/completions``, ``…/completions``) is cut
    back to its root; any other path (``…/v1beta/openai``, a proxy prefix ending in ``/v1``) is kept as given.
    """
    url = base_url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
            break
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Retryable(Exception):
    """A failed attempt worth another try (after ``wait`` seconds, when given)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class _Fatal(Exception):
    """A failure no retry can fix."""


class Options(BaseModel, extra="forbid"):
    """The options of the ``openai`` engine (:class:`OpenAIEngine` describes each); defaults as the engine's own."""

    #: Options the command line insists on (the engine itself falls back to ``OPENAI_BASE_URL``).
    required_on_cli: ClassVar[tuple[str, ...]] = ("base_url",)

    base_url: str | None = None
    api_key: str | None = None
    mode: Mode = Field("chat", validation_alias=AliasChoices("mode", "api_mode"),
                       description="'chat' or 'completions' (also accepted as api_mode, the command line's name)")
    concurrency: int = 8
    max_retries: int = 6
    timeout_s: float = 600
    extra_body: dict[str, Any] | None = None
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 600.0
    headers: dict[str, str] | None = None


class OpenAIEngine:
    """An :class:`~ioi_eval.generate.base.Engine` over an OpenAI-compatible HTTP API.

    Args:
        model: the model name the server knows (``--served-model-name`` for vLLM).
        base_url: the server, with or without ``/v1`` (default: ``OPENAI_BASE_URL``).
        api_key: bearer token (default: ``OPENAI_API_KEY``; none sent when neither is set).
        mode: ``"chat"`` (``/chat/completions``, the server applies the chat template) or ``"completions"``
            (``/completions`` with the messages flattened into one prompt, for base models).
        concurrency: the most requests in flight at once.
        max_retries: retries after the first attempt for retryable failures.
        timeout_s: the limit for one attempt, from sending to the last byte of the answer.
        extra_body: extra JSON fields merged into every request (``top_k``, ``chat_template_kwargs``, ...).
        backoff_base_s, backoff_max_s: exponential backoff (``base * 2**attempt``, capped, with jitter);
            a ``Retry-After`` header wins over it (capped at ``retry_after_max_s``).
        headers: extra HTTP headers.
    """

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, mode: Mode = "chat",
                 concurrency: int = 8, max_retries: int = 6, timeout_s: float = 600, extra_body: dict | None = None,
                 *, backoff_base_s: float = 1.0, backoff_max_s: float = 60.0, retry_after_max_s: float = 600.0,
                 headers: dict[str, str] | None = None) -> None:
        if httpx is None:  # pragma: no cover - httpx is a core dependency
            raise ImportError("the openai engine needs httpx: pip install 'ioi-eval[openai]'")
        if mode not in ("chat", "completions"):
            raise ValueError(f"mode must be 'chat' or 'completions', not {mode!r}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ValueError("OpenAIEngine needs a base_url (or OPENAI_BASE_URL), e.g. http://localhost:8000/v1")
        self.model = model
        self.base_url = normalise_base_url(base_url)
        self.mode: Mode = mode
        self.concurrency = concurrency
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self.extra_body = dict(extra_body or {})
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, model: str, options: Options) -> OpenAIEngine:
        """The engine for ``model`` with ``options``."""
        return cls(model, **options.model_dump())

    # ------------------------------------------------------------------------------------------ plumbing

    @property
    def endpoint(self) -> str:
        """The URL every request is posted to."""
        return f"{self.base_url}/{'chat/completions' if self.mode == 'chat' else 'completions'}"

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """Start the private event loop thread on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="ioi-eval-openai", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _get_client(self) -> httpx.AsyncClient:
        """The shared async client (created inside the loop thread)."""
        if self._client is None:
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s), limits=limits,
                                             headers=self._headers)
        return self._client

    def payload(self, request: GenerationRequest, sampling: SamplingConfig) -> dict[str, Any]:
        """The JSON body for one request."""
        body: dict[str, Any] = {"model": self.model}
        if self.mode == "chat":
            body["messages"] = [dict(m) for m in request.messages]
        else:
            body["prompt"] = flatten_messages(request.messages)
        body["temperature"] = sampling.temperature
        body["top_p"] = sampling.top_p
        if sampling.max_tokens is not None:
            body["max_tokens"] = sampling.max_tokens
        seed = effective_seed(request, sampling)
        if seed is not None:
            body["seed"] = seed
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        body["n"] = 1
        body.update(self.extra_body)
        return body

    def _backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (0-based): exponential, capped, with full-range jitter."""
        delay = min(self.backoff_max_s, self.backoff_base_s * (2 ** attempt))
        return delay * random.uniform(0.5, 1.0)

    # ------------------------------------------------------------------------------------------ one request

    def parse(self, request: GenerationRequest, data: Any, seed: int | None) -> Completion:
        """A Completion from a successful JSON answer (raises :class:`_Retryable` when it holds no choice)."""
        if not isinstance(data, dict):
            raise _Retryable(f"malformed response: expected a JSON object, got {type(data).__name__}")
        if data.get("error") and not data.get("choices"):
            raise _Retryable(f"server returned an error: {json.dumps(data['error'])[:500]}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _Retryable(f"malformed response: no choices in {json.dumps(data)[:500]}")
        choice = choices[0]
        if self.mode == "chat":
            message = choice.get("message") or {}
            content = message.get("content") or ""
            reasoning = message.get("reasoning_content") or message.get("reasoning")
        else:
            content = choice.get("text") or ""
            reasoning = None
        # A server-side reasoning parser hands the trace over apart; tags left in the content are split too.
        in_content, text = split_reasoning(content)
        if reasoning and in_content:
            reasoning = f"{reasoning}\n\n{in_content}"
        elif not reasoning:
            reasoning = in_content
        usage = data.get("usage") or {}
        return Completion(
            key=request.key,
            text=text,
            reasoning=reasoning or None,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            seed=seed,
        )

    async def _attempt(self, client: httpx.AsyncClient, body: dict[str, Any], request: GenerationRequest,
                       seed: int | None, sem: asyncio.Semaphore) -> Completion:
        """One HTTP attempt, holding a concurrency slot only while the request is in flight."""
        async with sem:
            try:
                resp = await asyncio.wait_for(client.post(self.endpoint, json=body), timeout=self.timeout_s)
            except (asyncio.TimeoutError, httpx.TimeoutException) as e:
                raise _Retryable(f"timed out after {self.timeout_s:g}s ({type(e).__name__})") from e
            except httpx.TransportError as e:
                raise _Retryable(f"connection error: {type(e).__name__}: {e}") from e
        status = resp.status_code
        if status >= 400:
            excerpt = resp.text[:500].strip()
            message = f"HTTP {status} from {self.endpoint}: {excerpt}"
            if status >= 500 or status in RETRYABLE_4XX:
                raise _Retryable(message, _retry_after_seconds(resp.headers.get("retry-after")))
            raise _Fatal(message)
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as e:
            raise _Retryable(f"malformed JSON in HTTP {status} response: {resp.text[:200]!r}") from e
        return self.parse(request, data, seed)

    async def _one(self, request: GenerationRequest, sampling: SamplingConfig, sem: asyncio.Semaphore) -> Completion:
        """One request with its retries; never raises for the request's own failures."""
        client = self._get_client()
        body = self.payload(request, sampling)
        seed = body.get("seed")
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            try:
                return await self._attempt(client, body, request, seed, sem)
            except _Fatal as e:
                return Completion(key=request.key, seed=seed, error=str(e))
            except _Retryable as e:
                last = str(e)
                if attempt == self.max_retries:
                    break
                wait = self._backoff(attempt)
                if e.wait is not None:
                    wait = min(e.wait, self.retry_after_max_s)
                await asyncio.sleep(wait)
            except Exception as e:  # a bug or an unexpected answer shape: report it on the request
                return Completion(key=request.key, seed=seed, error=f"unexpected error: {type(e).__name__}: {e}")
        attempts = self.max_retries + 1
        return Completion(key=request.key, seed=seed,
                          error=f"failed after {attempts} attempt{'s' if attempts > 1 else ''}: {last}")

    async def _run(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig,
                   out: queue.Queue[Completion | BaseException]) -> None:
        """Run every request, putting each completion on ``out`` as it finishes."""
        sem = asyncio.Semaphore(self.concurrency)

        async def task(req: GenerationRequest) -> None:
            try:
                out.put(await self._one(req, sampling, sem))
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # pragma: no cover - _one reports its failures itself
                out.put(Completion(key=req.key, error=f"unexpected error: {type(e).__name__}: {e}"))

        await asyncio.gather(*(task(r) for r in requests))

    # ------------------------------------------------------------------------------------------ Engine API

    #: Seconds the preflight waits for the server's model list.
    PREFLIGHT_TIMEOUT_S: ClassVar[float] = 30.0

    def preflight(self) -> None:
        """Check that the server answers and serves the model: ``GET {base_url}/models`` must list it.

        A server without that listing (HTTP 404, 405 or 501) is taken at its word once it answers. Raises
        :class:`~ioi_eval.errors.EngineError` naming the cause (a refused connection, a timeout, a rejected key,
        a model the server does not list).
        """
        url = f"{self.base_url}/models"
        headers = {k: v for k, v in self._headers.items() if k != "Content-Type"}
        try:
            resp = httpx.get(url, headers=headers, timeout=min(self.timeout_s, self.PREFLIGHT_TIMEOUT_S))
        except httpx.HTTPError as e:
            raise EngineError(f"the OpenAI-compatible server at {self.base_url} does not answer: "
                              f"{type(e).__name__}: {e}") from e
        if resp.status_code in (404, 405, 501):  # no model listing: the first request will tell
            return
        if resp.status_code >= 400:
            raise EngineError(f"the OpenAI-compatible server at {self.base_url} refused the model list: "
                              f"HTTP {resp.status_code} from {url}: {resp.text[:300].strip()}")
        try:
            listed = resp.json().get("data")
            ids = [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]
        except (ValueError, AttributeError, TypeError) as e:
            raise EngineError(f"the OpenAI-compatible server at {self.base_url} answered {url} with no model "
                              f"list: {resp.text[:300]!r}") from e
        if self.model not in ids:
            shown = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "") if ids else "none"
            raise EngineError(f"the server at {self.base_url} does not serve the model {self.model!r} "
                              f"(it serves: {shown}); pass one of them as --model")

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """Yield one completion per request as each finishes (order of completion, not of requests)."""
        requests = list(requests)
        if not requests:
            return
        loop = self._ensure_loop()
        out: queue.Queue[Completion | BaseException] = queue.Queue()
        future = asyncio.run_coroutine_threadsafe(self._run(requests, sampling, out), loop)
        done = 0
        try:
            while done < len(requests):
                try:
                    item = out.get(timeout=0.5)
                except queue.Empty:
                    if future.done() and out.empty():
                        exc = future.exception()
                        if exc is not None:
                            raise RuntimeError(f"openai engine stopped: {exc}") from exc
                        break  # pragma: no cover - every task puts exactly one item
                    continue
                done += 1
                yield item  # type: ignore[misc]
        finally:
            if not future.done():
                future.cancel()

    def close(self) -> None:
        """Close the HTTP client and stop the event loop thread."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None:
            return
        if client is not None:
            with contextlib.suppress(Exception):  # best effort on shutdown
                asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> OpenAIEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
