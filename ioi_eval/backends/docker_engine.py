"""The Docker engine as a command-line tool: where the client is, whether the engine answers, which images it has.

Shared by the Docker backend (:mod:`.docker`) and the judge image build (:mod:`.image`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess

from ..errors import DockerError

DEFAULT_IMAGE = os.environ.get("IOI_EVAL_DOCKER_IMAGE", "ioi-eval-judge:latest")
SOURCE_LABEL = "ioi-eval.source"
START_HINT = ("start it with `sudo systemctl start docker`, or `sudo dockerd --bridge=none --iptables=false &`, "
              "or run scripts/setup-docker")


def docker_cli() -> str:
    """The docker client's path."""
    path = shutil.which("docker")
    if path is None:
        raise DockerError("the docker command is not installed (Debian: apt-get install docker.io)")
    return path


def engine_info(timeout: float = 20.0) -> dict:
    """``docker info`` as a dict; raises :class:`DockerError` (saying how to start it) when the engine is down."""
    docker = docker_cli()
    try:
        res = subprocess.run([docker, "info", "--format", "{{json .}}"], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DockerError(f"the Docker engine does not answer within {timeout:g} s; {START_HINT}") from None
    info = {}
    with contextlib.suppress(ValueError):
        info = json.loads(res.stdout or "{}")
    errors = info.get("ServerErrors") or []
    if res.returncode != 0 or errors or not info.get("ServerVersion"):
        why = "; ".join(errors) or res.stderr.strip() or "no answer"
        raise DockerError(f"the Docker engine is not running or not reachable ({why}); {START_HINT}")
    return info


def engine_available() -> bool:
    """Whether a Docker engine answers here (for tests and ``backend_ready``)."""
    try:
        engine_info()
    except DockerError:
        return False
    return True


def image_exists(image: str) -> bool:
    """Whether the engine has ``image``."""
    res = subprocess.run([docker_cli(), "image", "inspect", image], capture_output=True, timeout=60)
    return res.returncode == 0


def image_source(image: str) -> str | None:
    """The source digest the image was built from (its ``ioi-eval.source`` label), if any."""
    fmt = f'{{{{index .Config.Labels "{SOURCE_LABEL}"}}}}'
    res = subprocess.run([docker_cli(), "image", "inspect", "--format", fmt, image], capture_output=True, text=True,
                         timeout=60)
    return res.stdout.strip() or None if res.returncode == 0 else None
