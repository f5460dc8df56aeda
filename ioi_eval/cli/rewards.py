"""``ioi-eval serve-rewards``: the strict judge as a reward server (OpenRLHF's ``/get_reward`` and plain JSON)."""

from __future__ import annotations

import socket
from typing import Annotated, Literal

import typer

from .common import BackendOpt, Language, ProfileOpt, WorkersOpt, err, fail, reported_errors


def check_address(host: str, port: int) -> None:
    """Fail now (exit 2) when the address cannot be listened on, before any box is opened."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def serve_rewards(
    problems: Annotated[str | None, typer.Option(
        "--problems", help="the problem set (a folder of packages, hf:open-r1/ioi, ...); may be left out when every "
                           "label is open-r1's verification_info")] = None,
    mode: Annotated[Literal["binary", "partial", "ioi", "codeforces"], typer.Option(
        "--mode", metavar="<mode>", help="binary, partial, ioi or codeforces (docs/rewards.md)")] = "binary",
    cf_scoring: Annotated[Literal["pass_fail", "partial", "weighted_sum"], typer.Option(
        "--cf-scoring", metavar="<scoring>", help="codeforces mode: pass_fail, partial or weighted_sum")]
    = "weighted_sum",
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    judge_profile: ProfileOpt = "cms",
    language: Annotated[Language, typer.Option("--language", "-l", help="language of rows that name none")] = "cpp",
    budget: Annotated[float | None, typer.Option(
        "--budget", help="wall seconds per request; samples not judged by then are faults (null)")] = None,
    max_concurrent: Annotated[int, typer.Option("--max-concurrent", help="requests judged at once")] = 4,
    max_queue: Annotated[int, typer.Option("--max-queue", help="requests waiting; more are refused with 429")] = 64,
    max_fault_share: Annotated[float, typer.Option(
        "--max-fault-share", help="answer 503 once more than this share of recent samples were judge faults")] = 0.5,
) -> None:
    """Serve rewards over HTTP until SIGINT/SIGTERM (queued requests are refused, running ones finish)."""
    try:
        from ..rewards.reward import CodeReward
        from ..rewards.server import serve
    except ImportError as exc:  # starlette / uvicorn are the `rewards` extra
        fail(f"serve-rewards needs the rewards extra (pip install 'ioi-eval[rewards]'): {exc}")
    check_address(host, port)
    with reported_errors():
        reward = CodeReward(problems, mode=mode, cf_scoring=cf_scoring, backend=backend, workers=workers,
                            judge_profile=judge_profile, language=getattr(language, "value", language),
                            budget_s=budget, max_fault_share=max_fault_share)

    def ready(server: object) -> None:
        err.print(f"serving {reward.mode.name} rewards for {len(reward.problems)} problem(s) on "
                  f"http://{host}:{port} (POST /get_reward, POST /rewards, GET /health)")

    with reported_errors():
        serve(reward, host=host, port=port, max_concurrent=max_concurrent, max_queue=max_queue, on_ready=ready)
