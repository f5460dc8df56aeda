"""Building the E2B judge template from ``sandbox/Dockerfile`` with the e2b SDK's template builder.

The build context is the Docker image's (:func:`ioi_eval.backends.image.build_context`: the in-box
package, the native core's sources, wheels of pydantic and pybind11); E2B's builder reads the same
Dockerfile (``Template().from_dockerfile``) with the container-only parts removed: ``USER`` and the
``RUN useradd`` that makes that user (in a sandbox the server runs as root, like the local backend,
so that every run gets a fresh uid and a cgroup of its own), and ``ENTRYPOINT``/``CMD`` (E2B would
run them as the sandbox's start command; the backend starts the server itself, through the command
API). E2B's parser does not expand ``ARG`` defaults in ``FROM``, so they are substituted here.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from ..errors import E2BError
from .e2b import DEFAULT_TEMPLATE, SLOTS_PER_SANDBOX, describe, load_sdk, require_api_key

DEFAULT_MEMORY_MB = 8192  # room for SLOTS_PER_SANDBOX runs at a compile's 2 GiB
_DROPPED = re.compile(r"^\s*(USER|ENTRYPOINT|CMD|RUN\s+useradd)\b", re.I)
_GLOBAL_ARG = re.compile(r"^\s*ARG\s+(\w+)=(\S+)\s*$", re.I)
_FROM = re.compile(r"^\s*FROM\b", re.I)

Log = Callable[[str], None]


def e2b_dockerfile(text: str) -> str:
    """The Dockerfile for E2B: ``ARG`` defaults expanded in ``FROM``; no ``USER``, ``RUN useradd``,
    ``ENTRYPOINT`` or ``CMD`` (single-line ones)."""
    out = []
    args: dict[str, str] = {}
    seen_from = False
    for line in text.splitlines():
        if not seen_from and (m := _GLOBAL_ARG.match(line)):
            args[m.group(1)] = m.group(2)
        if _FROM.match(line):
            seen_from = True
            line = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda v: args.get(v.group(1) or v.group(2), v.group(0)), line)
        if _DROPPED.match(line):
            if line.rstrip().endswith("\\"):
                raise E2BError(f"sandbox/Dockerfile: cannot drop a multi-line instruction: {line.strip()}")
            out.append(f"# (dropped for E2B) {line.strip()}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def build_template(name: str = DEFAULT_TEMPLATE, cpu_count: int = SLOTS_PER_SANDBOX,
                   memory_mb: int = DEFAULT_MEMORY_MB, skip_cache: bool = False, log: Log = lambda _m: None,
                   sdk: ModuleType | None = None) -> str:
    """Build (or rebuild) the E2B template ``name``; returns ``"<name> (<template id>)"``."""
    from .image import DOCKERFILE, build_context

    sdk = sdk or load_sdk()
    require_api_key()
    with tempfile.TemporaryDirectory(prefix="ioi-eval-e2b-") as tmp:
        ctx = Path(tmp)
        build_context(ctx, log)
        dockerfile = e2b_dockerfile(DOCKERFILE.read_text())
        (ctx / "Dockerfile").write_text(dockerfile)
        try:
            template = sdk.Template(file_context_path=str(ctx)).from_dockerfile(dockerfile)
            info = sdk.Template.build(template, name, cpu_count=cpu_count, memory_mb=memory_mb,
                                      skip_cache=skip_cache, on_build_logs=lambda entry: log(str(entry)))
        except Exception as exc:
            raise E2BError(f"building the E2B template {name!r} failed: {describe(sdk, exc)}") from None
    return f"{name} ({getattr(info, 'template_id', '?')})"
