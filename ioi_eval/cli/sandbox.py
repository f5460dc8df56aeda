"""``ioi-eval sandbox ...``: the judge image of the Docker backend (and the E2B template)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import err, reported_errors

app = typer.Typer(help="Build the judge image of the Docker backend (or the E2B template).",
                          no_args_is_help=True)


@app.command("build")
def build(
    offline: Annotated[bool, typer.Option("--offline", help="make the base image with debootstrap instead of "
                                                            "pulling it (no container registry needed)")] = False,
    tag: Annotated[str | None, typer.Option("--tag", help="image tag (default: ioi-eval-judge:latest)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="rebuild every layer")] = False,
    e2b: Annotated[bool, typer.Option("--e2b", help="build the E2B sandbox template instead "
                                                     "(needs E2B_API_KEY)")] = False,
    alias: Annotated[str | None, typer.Option("--alias", help="E2B template name (default: ioi-eval-judge)")] = None,
    cpu: Annotated[int, typer.Option("--cpu", help="E2B: vCPUs per sandbox (= parallel runs per sandbox)")] = 4,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="E2B: memory per sandbox")] = 8192,
) -> None:
    """Build (and tag) the judge image from sandbox/Dockerfile (with --e2b: the E2B template)."""
    log = lambda m: err.print(m, markup=False, highlight=False)  # noqa: E731
    with reported_errors():
        if e2b:
            from ..backends.e2b import DEFAULT_TEMPLATE
            from ..backends.e2b_template import build_template

            built = build_template(alias or DEFAULT_TEMPLATE, cpu_count=cpu, memory_mb=memory_mb,
                                   skip_cache=no_cache, log=log)
        else:
            from ..backends.docker_engine import DEFAULT_IMAGE
            from ..backends.image import build_image

            built = build_image(tag or DEFAULT_IMAGE, offline=offline, no_cache=no_cache, log=log)
    typer.echo(built)
