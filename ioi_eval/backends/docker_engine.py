"""The Docker engine's control plane through the ``docker`` Python SDK: whether the engine answers, which images and
judge containers it has, removing containers, building and importing images.

The SDK speaks to the engine's API directly (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH`` are
honoured, as the CLI does), so none of this needs the ``docker`` binary, and its failures are typed
(``docker.errors.NotFound``, ``APIError``) instead of parsed from a command's stderr. Shared by the Docker backend
(:mod:`.docker`) and the judge image build (:mod:`.image`). A judge container's data stream is the SDK's attach
socket (:mod:`.docker_stream`).
"""

from __future__ import annotations

import importlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import DockerError

DEFAULT_IMAGE = os.environ.get("IOI_EVAL_DOCKER_IMAGE", "ioi-eval-judge:latest")
SOURCE_LABEL = "ioi-eval.source"
START_HINT = ("start it with `sudo systemctl start docker`, or `sudo dockerd --bridge=none --iptables=false &`, "
              "or run scripts/setup-docker")
INSTALL_HINT = "the Docker backend needs the docker SDK: pip install 'ioi-eval[docker]'"

_clients: dict[tuple, Any] = {}
#: The environment the SDK reads (``docker.from_env``): a client is reused only while these stay the same.
_CLIENT_ENV = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
_clients_lock = threading.Lock()


def sdk() -> Any:
    """The ``docker`` package, or a :class:`DockerError` with the install command."""
    try:
        return importlib.import_module("docker")
    except ImportError:
        raise DockerError(INSTALL_HINT) from None


def client(timeout: float = 60.0) -> Any:
    """A client of the engine ``DOCKER_HOST`` names (default: the local socket), one per timeout and engine."""
    docker = sdk()
    key = (timeout, *(os.environ.get(name) for name in _CLIENT_ENV))
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            try:
                found = docker.from_env(timeout=int(max(1, timeout)))
            except docker.errors.DockerException as exc:
                raise DockerError(f"the Docker engine is not running or not reachable ({error_line(exc)}); "
                                  f"{START_HINT}") from None
            _clients[key] = found
        return found


def error_line(exc: BaseException) -> str:
    """The first line of an SDK error, without the SDK's wrapping."""
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip()
    return (text.splitlines() or ["no answer"])[0][:500]


def docker_cli() -> str:
    """The docker client's path (ioi-eval itself does not need it; for tools and tests that do)."""
    path = shutil.which("docker")
    if path is None:
        raise DockerError("the docker command is not installed (Debian: apt-get install docker.io)")
    return path


def engine_info(timeout: float = 20.0) -> dict:
    """The engine's ``info`` as a dict; raises :class:`DockerError` (saying how to start it) when it is down."""
    docker = sdk()
    try:
        info = client(timeout).info()
    except (docker.errors.DockerException, OSError) as exc:  # requests' ConnectionError is an OSError
        raise DockerError(f"the Docker engine is not running or not reachable ({error_line(exc)}); "
                          f"{START_HINT}") from None
    errors = info.get("ServerErrors") or []
    if errors or not info.get("ServerVersion"):
        raise DockerError(f"the Docker engine is not running or not reachable ({'; '.join(errors) or 'no answer'}); "
                          f"{START_HINT}")
    return info


def engine_available() -> bool:
    """Whether a Docker engine answers here (for tests and ``backend_ready``)."""
    try:
        engine_info()
    except DockerError:
        return False
    return True


def _image(image: str) -> Any | None:
    """The image ``image`` (None when the engine has no such image)."""
    docker = sdk()
    try:
        return client().images.get(image)
    except docker.errors.ImageNotFound:
        return None
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerError(f"cannot inspect the image {image}: {error_line(exc)}") from None


def image_exists(image: str) -> bool:
    """Whether the engine has ``image``."""
    return _image(image) is not None


def image_source(image: str) -> str | None:
    """The source digest the image was built from (its ``ioi-eval.source`` label), if any."""
    found = _image(image)
    labels = (found.labels or {}) if found is not None else {}
    return labels.get(SOURCE_LABEL) or None


def containers_labelled(label: str) -> list[tuple[str, str]]:
    """(name, value of ``label``) of every container, running or not, that carries ``label``."""
    docker = sdk()
    try:
        found = client().containers.list(all=True, filters={"label": label}, ignore_removed=True)
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerError(f"cannot list the judge containers: {error_line(exc)}") from None
    return [(c.name, (c.labels or {}).get(label, "")) for c in found]


def remove_container_names(names: Iterable[str]) -> list[str]:
    """Remove the containers ``names`` (forced, with their anonymous volumes); one already gone is fine. Returns the
    names that could not be removed (the engine refused: left for the next start's clean-up)."""
    docker = sdk()
    failed = []
    api = client(120).api
    for name in names:
        try:
            api.remove_container(name, v=True, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409 or "already in progress" not in error_line(exc):  # a removal already under way
                failed.append(name)
        except (docker.errors.DockerException, OSError):
            failed.append(name)
    return failed


def _stream(chunks: Iterable[dict], log: Callable[[str], None], what: str) -> None:
    """Follow an API progress stream (build, import): its lines to ``log``; an error entry raises."""
    tail: list[str] = []
    for chunk in chunks:
        line = (chunk.get("stream") or chunk.get("status") or "").rstrip()
        if line:
            log(line)
            tail = [*tail, line][-40:]
        if chunk.get("error") or chunk.get("errorDetail"):
            message = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message", "")
            raise DockerError(f"{what} failed: {message.strip()}\n" + "\n".join(tail[-20:]))


def build(context: Path, tag: str, labels: dict[str, str], no_cache: bool, log: Callable[[str], None]) -> None:
    """Build ``context`` (its Dockerfile) as ``tag``, with the host's network for package downloads."""
    docker = sdk()
    log(f"build {context} -> {tag}")
    try:
        chunks = client(3600).api.build(path=str(context), tag=tag, labels=labels, nocache=no_cache, rm=True,
                                        forcerm=True, network_mode="host", decode=True)
        _stream(chunks, log, "docker build")
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerError(f"docker build failed: {error_line(exc)}") from None


def import_tarball(tarball: Path, tag: str, changes: list[str], log: Callable[[str], None]) -> None:
    """Import a root file system tarball as the image ``tag`` (``docker import``)."""
    docker = sdk()
    repository, _, version = tag.rpartition(":") if ":" in tag.split("/")[-1] else (tag, "", "latest")
    log(f"import {tarball} -> {tag}")
    try:
        answer = client(600).api.import_image_from_file(str(tarball), repository=repository, tag=version or "latest",
                                                         changes=changes)
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerError(f"docker import failed: {error_line(exc)}") from None
    if isinstance(answer, str) and '"error"' in answer:
        raise DockerError(f"docker import failed: {answer.strip()[:500]}")
    if not image_exists(tag):
        raise DockerError(f"docker import left no image {tag}: {str(answer).strip()[:500]}")
