"""Completions from any OpenAI-compatible HTTP server: ``vllm serve``, SGLang, TGI, hosted APIs; one or several.

Requests go through the ``openai`` SDK (``AsyncOpenAI``: its timeouts, typed errors, ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY``), concurrently, inside a private event loop thread, so :meth:`OpenAIEngine.generate` is an
ordinary iterator that yields each completion as it finishes. The retries are ioi-eval's (the SDK's are off), so that
a retry may go to another server: rate limits (429), server errors (5xx), 408/409, timeouts, dropped connections and
malformed responses are retried with exponential backoff and jitter, honouring ``Retry-After``; other 4xx answers
fail at once. A request that fails for good yields a Completion whose ``error`` says why, never an empty answer.

Several servers (``base_url`` a list): each request goes to the live server with the fewest requests in flight
(at most ``concurrency`` on each). A server that does not connect or answer in time is taken out for
``revive_after_s`` seconds, its requests retried on the others; then it is tried again. When every server is out,
the one due back first is tried, so a run never waits on a dead pool beyond its retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, model_validator

from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.common import effective_seed, flatten_messages
from ioi_eval.generate.reasoning import split_reasoning

log = logging.getLogger(__name__)

INSTALL_HINT = "the openai engine needs the openai SDK: pip install 'ioi-eval[openai]'"

Mode = Literal["chat", "completions"]

#: Request fields of vLLM's, SGLang's and TGI's OpenAI-compatible servers that are taken as engine options too
#: (they travel in ``extra_body``).
EXTRA_BODY_FIELDS = frozenset({"top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty",
                               "chat_template_kwargs", "skip_special_tokens", "include_stop_str_in_output",
                               "reasoning_effort"})

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


#: The arguments the SDK's ``create`` takes by name in each mode; the rest of a body goes as ``extra_body``.
_SDK_FIELDS = {
    "chat": frozenset({"model", "messages", "temperature", "top_p", "max_tokens", "seed", "stop", "n"}),
    "completions": frozenset({"model", "prompt", "temperature", "top_p", "max_tokens", "seed", "stop", "n"}),
}


def _import_openai() -> Any:
    """Import the openai SDK or fail with the install command."""
    try:
        return importlib.import_module("openai")
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e


class _Server:
    """One server of the pool: its SDK client, requests in flight and sent, and when it may be tried again."""

    def __init__(self, url: str, client: Any) -> None:
        self.url, self.client = url, client
        self.in_flight = 0
        self.sent = 0
        self.failures = 0
        self.out_until = 0.0  # time.monotonic() before which it is left out


class _Retryable(Exception):
    """A failed attempt worth another try (after ``wait`` seconds, when given)."""

    def __init__(self, message: str, wait: float | None = None, server_out: bool = False) -> None:
        super().__init__(message)
        self.wait = wait
        self.server_out = server_out  # the server was taken out: another one may take the retry at once


class _Fatal(Exception):
    """A failure no retry can fix."""


class Options(BaseModel, extra="forbid"):
    """The options of the ``openai`` engine (:class:`OpenAIEngine` describes each); defaults as the engine's own."""

    #: Options the command line insists on (the engine itself falls back to ``OPENAI_BASE_URL``).
    required_on_cli: ClassVar[tuple[str, ...]] = ("base_url",)

    base_url: str | list[str] | None = None
    api_key: str | None = None
    mode: Mode = Field("chat", validation_alias=AliasChoices("mode", "api_mode"),
                       description="'chat' or 'completions' (also accepted as api_mode, the command line's name)")
    concurrency: int = 8
    max_retries: int = 6
    timeout_s: float = Field(600, validation_alias=AliasChoices("timeout_s", "timeout"))
    extra_body: dict[str, Any] | None = None
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 600.0
    headers: dict[str, str] | None = None
    revive_after_s: float = 30.0

    @model_validator(mode="before")
    @classmethod
    def _server_fields(cls, data: Any) -> Any:
        """The request fields OpenAI-compatible servers add (``top_k``, ``chat_template_kwargs``, ...) may be given
        as options of their own: they go to ``extra_body``."""
        if not isinstance(data, dict) or not set(data) & EXTRA_BODY_FIELDS:
            return data
        kept = {k: v for k, v in data.items() if k not in EXTRA_BODY_FIELDS}
        kept["extra_body"] = {**(data.get("extra_body") or {}),
                              **{k: v for k, v in data.items() if k in EXTRA_BODY_FIELDS}}
        return kept


class OpenAIEngine:
    """An :class:`~ioi_eval.generate.base.Engine` over an OpenAI-compatible HTTP API.

    Args:
        model: the model name the server knows (``--served-model-name`` for vLLM).
        base_url: the server, with or without ``/v1`` (default: ``OPENAI_BASE_URL``); or a list of servers
            serving the same model (requests go to the least loaded live one).
        api_key: bearer token (default: ``OPENAI_API_KEY``; ``EMPTY`` when neither is set, as vLLM's docs use).
            Kept in memory only: never in a run's record or an error message.
        mode: ``"chat"`` (``/chat/completions``, the server applies the chat template) or ``"completions"``
            (``/completions`` with the messages flattened into one prompt, for base models).
        concurrency: the most requests in flight at once on each server.
        max_retries: retries after the first attempt for retryable failures.
        timeout_s: the limit for one attempt, from sending to the last byte of the answer.
        extra_body: extra JSON fields merged into every request (``top_k``, ``chat_template_kwargs``, ...).
        backoff_base_s, backoff_max_s: exponential backoff (``base * 2**attempt``, capped, with jitter);
            a ``Retry-After`` header wins over it (capped at ``retry_after_max_s``).
        headers: extra HTTP headers.
        revive_after_s: how long a server that did not connect or answer in time is left out before it is tried
            again (with several servers).
    """

    name = "openai"

    def __init__(self, model: str, base_url: str | list[str] | None = None, api_key: str | None = None,
                 mode: Mode = "chat", concurrency: int = 8, max_retries: int = 6, timeout_s: float = 600,
                 extra_body: dict | None = None, *, backoff_base_s: float = 1.0, backoff_max_s: float = 60.0,
                 retry_after_max_s: float = 600.0, headers: dict[str, str] | None = None,
                 revive_after_s: float = 30.0) -> None:
        self._openai = _import_openai()
        if mode not in ("chat", "completions"):
            raise ValueError(f"mode must be 'chat' or 'completions', not {mode!r}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        if not urls and os.environ.get("OPENAI_BASE_URL"):
            urls = [os.environ["OPENAI_BASE_URL"]]
        if not urls:
            raise ValueError("OpenAIEngine needs a base_url (or OPENAI_BASE_URL), e.g. http://localhost:8000/v1")
        self.model = model
        self.base_urls = list(dict.fromkeys(normalise_base_url(u) for u in urls))
        self.mode: Mode = mode
        self.concurrency = concurrency
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self.extra_body = dict(extra_body or {})
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.revive_after_s = revive_after_s
        self.headers = dict(headers or {})
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._api_key = key or "EMPTY"  # in memory only
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[_Server] = []
        self._free: asyncio.Condition | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """The (first) server's API root."""
        return self.base_urls[0]

    @classmethod
    def from_options(cls, model: str, options: Options) -> OpenAIEngine:
        """The engine for ``model`` with ``options``."""
        return cls(model, **options.model_dump())

    # ------------------------------------------------------------------------------------------ plumbing

    def endpoint_of(self, base_url: str) -> str:
        """The URL every request to the server ``base_url`` is posted to."""
        return f"{base_url}/{'chat/completions' if self.mode == 'chat' else 'completions'}"

    @property
    def endpoint(self) -> str:
        """The URL requests to the (first) server are posted to."""
        return self.endpoint_of(self.base_url)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """Start the private event loop thread on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="ioi-eval-openai", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _client(self, base_url: str, timeout_s: float, async_: bool = True) -> Any:
        """An SDK client for one server; its own retries are off (ours may move a request to another server)."""
        cls = self._openai.AsyncOpenAI if async_ else self._openai.OpenAI
        return cls(base_url=base_url, api_key=self._api_key, max_retries=0, timeout=timeout_s,
                   default_headers=self.headers or None)

    def _get_servers(self) -> list[_Server]:
        """The servers and their SDK clients (created inside the loop thread, once)."""
        if not self._servers:
            self._servers = [_Server(url, self._client(url, self.timeout_s)) for url in self.base_urls]
            self._free = asyncio.Condition()
        return self._servers

    async def _acquire(self) -> _Server:
        """A slot on the least loaded live server (or, when every server is out, on the one due back first)."""
        servers = self._get_servers()
        assert self._free is not None
        async with self._free:
            while True:
                now = time.monotonic()
                live = [s for s in servers if s.out_until <= now]
                pool = live or [min(servers, key=lambda s: s.out_until)]
                free = [s for s in pool if s.in_flight < self.concurrency]
                if free:
                    server = min(free, key=lambda s: (s.in_flight, s.sent))
                    server.in_flight += 1
                    server.sent += 1
                    return server
                # woken by a released slot; the timeout notices a server coming back
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._free.wait(), timeout=min(1.0, max(0.05, self.revive_after_s)))

    async def _release(self, server: _Server) -> None:
        """Give the slot back and wake a waiting request."""
        assert self._free is not None
        async with self._free:
            server.in_flight -= 1
            self._free.notify()

    def _take_out(self, server: _Server) -> None:
        """Leave ``server`` out for ``revive_after_s`` (it did not connect or answer in time)."""
        server.out_until = time.monotonic() + self.revive_after_s
        server.failures += 1

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

    async def _attempt(self, body: dict[str, Any], request: GenerationRequest, seed: int | None) -> Completion:
        """One attempt through the SDK on the least loaded server, holding its slot only while in flight."""
        openai = self._openai
        server = await self._acquire()
        endpoint = self.endpoint_of(server.url)
        api = server.client.chat.completions if self.mode == "chat" else server.client.completions
        fields = {k: v for k, v in body.items() if k in _SDK_FIELDS[self.mode]}
        extra = {k: v for k, v in body.items() if k not in fields}
        try:
            raw = await asyncio.wait_for(api.with_raw_response.create(**fields, extra_body=extra or None),
                                         timeout=self.timeout_s + 5)  # the SDK's own timeout comes first
            resp = raw.http_response
        except (asyncio.TimeoutError, openai.APITimeoutError) as e:
            self._take_out(server)
            raise _Retryable(f"timed out after {self.timeout_s:g}s at {server.url} ({type(e).__name__})",
                             server_out=True) from e
        except openai.APIConnectionError as e:
            self._take_out(server)
            cause = e.__cause__ or e
            raise _Retryable(f"connection error at {server.url}: {type(cause).__name__}: {cause}",
                             server_out=True) from e
        except openai.APIStatusError as e:
            status = e.status_code
            excerpt = e.response.text[:500].strip()
            message = f"HTTP {status} from {endpoint}: {excerpt}"
            if status >= 500 or status in RETRYABLE_4XX:
                raise _Retryable(message, _retry_after_seconds(e.response.headers.get("retry-after"))) from e
            raise _Fatal(message) from e
        finally:
            await self._release(server)
        try:
            data = json.loads(resp.text)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as e:
            raise _Retryable(f"malformed JSON in HTTP {resp.status_code} response: {resp.text[:200]!r}") from e
        return self.parse(request, data, seed)

    def redact(self, text: str) -> str:
        """``text`` with the API key and header values masked (a server may echo the request's headers in an error
        body, and errors are stored with the run)."""
        secrets = [self._api_key, *self.headers.values()]
        for secret in secrets:  # an Authorization header carries a token too
            if secret and secret != "EMPTY" and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    async def _one(self, request: GenerationRequest, sampling: SamplingConfig) -> Completion:
        """One request with its retries; never raises for the request's own failures (its error, key masked)."""
        done = await self._one_unmasked(request, sampling)
        return done.model_copy(update={"error": self.redact(done.error)}) if done.error else done

    async def _one_unmasked(self, request: GenerationRequest, sampling: SamplingConfig) -> Completion:
        """:meth:`_one` before the key is masked."""
        body = self.payload(request, sampling)
        seed = body.get("seed")
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            try:
                return await self._attempt(body, request, seed)
            except _Fatal as e:
                return Completion(key=request.key, seed=seed, error=str(e))
            except _Retryable as e:
                last = str(e)
                if attempt == self.max_retries:
                    break
                wait = self._backoff(attempt)
                if e.wait is not None:
                    wait = min(e.wait, self.retry_after_max_s)
                elif e.server_out and self._live_servers() > 0:
                    wait = 0.0  # the server was taken out: a live one takes the retry at once
                log.info("%s: attempt %d failed (%s); retrying in %.1fs", request.key, attempt + 1,
                         self.redact(last), wait)
                await asyncio.sleep(wait)
            except Exception as e:  # a bug or an unexpected answer shape: report it on the request
                return Completion(key=request.key, seed=seed, error=f"unexpected error: {type(e).__name__}: {e}")
        attempts = self.max_retries + 1
        return Completion(key=request.key, seed=seed,
                          error=f"failed after {attempts} attempt{'s' if attempts > 1 else ''}: {last}")

    async def _run(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig,
                   out: queue.Queue[Completion | BaseException]) -> None:
        """Run every request, putting each completion on ``out`` as it finishes."""
        async def task(req: GenerationRequest) -> None:
            try:
                out.put(await self._one(req, sampling))
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # pragma: no cover - _one reports its failures itself
                out.put(Completion(key=req.key, error=f"unexpected error: {type(e).__name__}: {e}"))

        await asyncio.gather(*(task(r) for r in requests))

    # ------------------------------------------------------------------------------------------ Engine API

    #: Seconds the preflight waits for the server's model list.
    PREFLIGHT_TIMEOUT_S: ClassVar[float] = 30.0

    def preflight(self) -> None:
        """Check that every server answers and serves the model: ``GET {base_url}/models`` must list it.

        A server without that listing (HTTP 404, 405 or 501) is taken at its word once it answers. Raises
        :class:`~ioi_eval.errors.EngineError` naming the server and the cause (a refused connection, a timeout, a
        rejected key, a model the server does not list).
        """
        for url in self.base_urls:
            try:
                self._preflight_one(url)
            except EngineError as exc:
                raise EngineError(self.redact(str(exc))) from None

    def _preflight_one(self, base_url: str) -> None:
        """The preflight of one server (:meth:`preflight`)."""
        openai = self._openai
        url = f"{base_url}/models"
        client = self._client(base_url, min(self.timeout_s, self.PREFLIGHT_TIMEOUT_S), async_=False)
        try:
            resp = client.models.with_raw_response.list().http_response
        except openai.APIStatusError as e:
            if e.status_code in (404, 405, 501):  # no model listing: the first request will tell
                return
            raise EngineError(f"the OpenAI-compatible server at {base_url} refused the model list: "
                              f"HTTP {e.status_code} from {url}: {e.response.text[:300].strip()}") from None
        except openai.APIConnectionError as e:
            cause = e.__cause__ or e
            raise EngineError(f"the OpenAI-compatible server at {base_url} does not answer: "
                              f"{type(cause).__name__}: {cause}") from None
        finally:
            client.close()
        try:
            listed = resp.json().get("data")
            ids = [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]
        except (ValueError, AttributeError, TypeError) as e:
            raise EngineError(f"the OpenAI-compatible server at {base_url} answered {url} with no model "
                              f"list: {resp.text[:300]!r}") from e
        if self.model not in ids:
            shown = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "") if ids else "none"
            raise EngineError(f"the server at {base_url} does not serve the model {self.model!r} "
                              f"(it serves: {shown}); pass one of them as --model")

    def _live_servers(self) -> int:
        """How many servers are not taken out now."""
        now = time.monotonic()
        return sum(1 for s in self._servers if s.out_until <= now)

    def server_stats(self) -> dict[str, dict[str, int]]:
        """Per server: requests sent, requests in flight, times taken out."""
        return {s.url: {"sent": s.sent, "in_flight": s.in_flight, "failures": s.failures} for s in self._servers}

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
        """Close the SDK clients and stop the event loop thread."""
        with self._lock:
            loop, thread, servers = self._loop, self._thread, self._servers
            self._loop = self._thread = None
            self._servers = []
        if loop is None:
            return
        for server in servers:
            with contextlib.suppress(Exception):  # best effort on shutdown
                asyncio.run_coroutine_threadsafe(server.client.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> OpenAIEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
