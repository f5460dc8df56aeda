"""Where a test's time goes inside a judge container: the launcher, cgroups, the isolation, the executor.

    python bench/bench_docker_parts.py [--runs 200] [--image TAG]

Starts one container with exactly the Docker backend's settings (``ContainerSpec.host_config``: no network,
read-only root, the same capabilities, seccomp profile and delegated cgroups) but runs
``bench/docker_parts_inbox.py`` in it instead of the server, and prints its medians per run (ms):
``native_bare`` (the launcher alone: fork/exec of the static program with the run's uid), ``native_<iso>`` (the
launcher with that isolation's spec), ``_cg``/``_nocg`` (with / without the run's cgroups), ``executor_<iso>`` (one
``Executor.execute`` of one job, as a test runs; ``_batch``: per job of one batch). The stream's own cost is
bench/bench_docker.py's batched figure less ``executor_<iso>_batch``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "sandbox"))

from ioi_eval.backends.docker import DockerBackend, remove_containers  # noqa: E402
from ioi_eval.backends.docker_engine import client, engine_info  # noqa: E402
from ioi_eval.backends.docker_security import seccomp_profile  # noqa: E402
from ioi_eval.backends.docker_stream import Demux, raw_socket  # noqa: E402


def run_parts(image: str | None, runs: int, zygote: bool = True) -> dict:
    """The in-box medians (a dict), from one container with the backend's settings."""
    backend = DockerBackend(image=image, slots_per_container=1)
    spec = backend.spec(1, engine_info(), seccomp_profile())
    api = client(300).api
    name = f"ioi-parts-{os.getpid()}"
    code = (REPO / "bench" / "docker_parts_inbox.py").read_text()
    stderr = bytearray()
    try:
        api.create_container(spec.image, entrypoint=["python3", "-c", code, str(runs)], name=name, user="0:0",
                             environment={"PARTS_ZYGOTE": "1" if zygote else "0"},
                             host_config=spec.host_config(api, name))
        attached = api.attach_socket(name, params={"stdout": 1, "stderr": 1, "stream": 1})
        demux = Demux(raw_socket(attached), stderr.extend)
        api.start(name)
        out = b""
        while chunk := demux.read(1 << 16):
            out += chunk
        attached.close()
    finally:
        remove_containers([name])
        if spec.delegation is not None:
            spec.delegation.cleanup(name)
    if not out.strip():
        raise SystemExit(f"the in-box script printed nothing: {stderr.decode(errors='replace')[-3000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--image")
    args = ap.parse_args()
    print(json.dumps(run_parts(args.image, args.runs)))


if __name__ == "__main__":
    main()
