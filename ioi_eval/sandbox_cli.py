"""``ioi-eval sandbox ...``: the judge image of the Docker backend."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from .errors import IoiEvalError

sandbox_app = typer.Typer(help="Build the judge image of the Docker backend.", no_args_is_help=True)
err = Console(stderr=True)


@sandbox_app.command("build")
def build(
    offline: Annotated[bool, typer.Option("--offline", help="make the base image with debootstrap instead of "
                                                            "pulling it (no container registry needed)")] = False,
    tag: Annotated[str | None, typer.Option("--tag", help="image tag (default: ioi-eval-judge:latest)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="rebuild every layer")] = False,
) -> None:
    """Build (and tag) the judge image from sandbox/Dockerfile."""
    from .backends.docker import DEFAULT_IMAGE
    from .sandbox_image import build_image

    try:
        built = build_image(tag or DEFAULT_IMAGE, offline=offline, no_cache=no_cache,
                            log=lambda m: err.print(m, markup=False, highlight=False))
    except IoiEvalError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(2) from None
    typer.echo(built)
