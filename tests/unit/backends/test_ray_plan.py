"""The Ray backend's pieces that need no cluster: the actor plan, the node blob folder, option checks, and the
Slurm and KubeRay examples of docs/scaling.md."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ioi_eval.backends.ray import RayBackend
from ioi_eval.backends.ray.shipping import NodeBlobs
from ioi_eval.errors import EnvVarError, RayClusterError

REPO = Path(__file__).resolve().parents[3]


class _Ray:
    """What :meth:`RayBackend.plan` asks of ray: the live nodes and their CPUs."""

    def __init__(self, *cpus: int) -> None:
        self._nodes = [{"NodeID": f"n{i}", "Alive": True, "Resources": {"CPU": c}} for i, c in enumerate(cpus)]

    def nodes(self) -> list[dict]:
        return self._nodes


def test_actors_fit_the_nodes() -> None:
    assert RayBackend(slots=2).plan(_Ray(4, 4), None) == (4, 2)  # every CPU by default
    assert RayBackend(slots=2).plan(_Ray(4, 4), 3) == (2, 2)  # ceil(3 / 2) actors
    assert RayBackend(slots=4).plan(_Ray(1, 1, 1), None) == (3, 1)  # no node has 4 CPUs: 1 slot each
    assert RayBackend(slots=2).plan(_Ray(3, 1), 100) == (1, 2)  # only one actor of 2 CPUs can be placed
    with pytest.raises(RayClusterError, match="no CPU"):
        RayBackend().plan(_Ray(0), None)


def test_e2b_actors_stay_within_the_accounts_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOI_EVAL_E2B_MAX_SANDBOXES", "5")
    monkeypatch.setenv("IOI_EVAL_E2B_SLOTS", "4")
    monkeypatch.setenv("E2B_API_KEY", "k")
    monkeypatch.setenv("IOI_EVAL_E2B_TEMPLATE", "mine")
    backend = RayBackend(box="e2b", slots=2)
    assert backend.plan(_Ray(16, 16), None) == (5, 2)  # 16 would fit the CPUs; the account has 5 sandboxes
    assert RayBackend(box="e2b", slots=8).plan(_Ray(16), None) == (2, 8)  # 2 sandboxes of 4 slots per actor
    assert RayBackend(box="local", slots=2).plan(_Ray(16, 16), None) == (16, 2)
    env = backend.actor_env()["runtime_env"]["env_vars"]
    assert env["E2B_API_KEY"] == "k" and env["IOI_EVAL_E2B_TEMPLATE"] == "mine"
    assert RayBackend(box="local").actor_env() == {}


def test_bad_box_is_a_clear_error() -> None:
    with pytest.raises(RayClusterError, match="--ray-box must be one of local, docker, e2b"):
        RayBackend(box="vm")


def test_cli_refuses_a_bad_ray_box(tmp_path: Path) -> None:
    src = tmp_path / "a.cpp"
    src.write_text("int main(){}\n")
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "-p", str(REPO / "problems" / "pairsum"),
                          "-s", str(src), "--backend", "ray", "--ray-box", "vm"], capture_output=True, text=True)
    assert res.returncode == 2 and "--ray-box" in res.stderr and "local" in res.stderr and "docker" in res.stderr
    assert "Traceback" not in res.stderr


def test_node_blobs_keep_content_by_name(tmp_path: Path) -> None:
    blobs = NodeBlobs("node-a", tmp_path)
    data = b"7 8\n"
    name = hashlib.sha256(data).hexdigest()
    assert blobs.lacks([name, name + ".x"]) == [name, name + ".x"]
    path = blobs.add(name, data)
    assert path.read_bytes() == data and blobs.path(name) == path and blobs.lacks([name]) == []
    assert NodeBlobs("node-b", tmp_path).lacks([name]) == [name]  # another node has its own folder
    with pytest.raises(ValueError, match="does not match"):
        blobs.add(hashlib.sha256(b"other").hexdigest(), data)
    assert [p.name for p in (tmp_path / "node-a").iterdir()] == [name]  # nothing half-written left


def test_slurm_script_is_valid_shell() -> None:
    script = REPO / "scripts" / "slurm" / "ray-cluster.sbatch"
    res = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text = script.read_text()
    assert "ray start --head" in text and "ray start --address" in text and "--backend ray" in text
    if shutil.which("shellcheck"):
        res = subprocess.run(["shellcheck", "-S", "warning", str(script)], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout


def test_kuberay_example_parses() -> None:
    doc = yaml.safe_load((REPO / "scripts" / "k8s" / "raycluster.yaml").read_text())
    assert doc["kind"] == "RayCluster" and doc["apiVersion"] == "ray.io/v1"
    workers = doc["spec"]["workerGroupSpecs"]
    assert workers and all("num-cpus" in g["rayStartParams"] for g in workers)


def test_status_line_says_a_late_replacement_when_it_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replacement (or results) after the last periodic line still gets one final line when the pool closes,
    and a pool with nothing new since its last line adds none."""
    from ioi_eval.backends.ray.backend import _StatusLine
    from ioi_eval.backends.ray.channel import ChannelStats

    monkeypatch.setenv("IOI_EVAL_RAY_STATUS_S", "3600")  # the periodic loop never fires in this test
    stats, replaced, lines = ChannelStats(), [0], []
    status = _StatusLine(lambda: (3, 3, replaced[0]), stats, lines.append)
    status.start()
    stats.results, replaced[0] = 7, 1
    status.stop()
    assert lines == [lines[0]] and "1 actor(s) replaced" in lines[0] and "3/3 actors alive" in lines[0]
    status.stop()  # a second close says nothing more
    assert len(lines) == 1

    quiet: list[str] = []
    idle = _StatusLine(lambda: (3, 3, 0), ChannelStats(), quiet.append)
    idle.start()
    idle.stop()
    assert quiet == []


def test_ray_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ioi_eval.backends.ray.backend import STATUS_EVERY_S, _StatusLine
    from ioi_eval.backends.ray.channel import ChannelStats
    from ioi_eval.backends.ray.compiles import MAX_BYTES, registry_bytes

    monkeypatch.setenv("IOI_EVAL_RAY_SLOTS", "3")
    assert RayBackend().slots == 3 and RayBackend(slots=5).slots == 5  # an argument wins
    monkeypatch.setenv("IOI_EVAL_RAY_SLOTS", "")
    assert RayBackend().slots == 2
    for bad in ("x", "2.5"):
        monkeypatch.setenv("IOI_EVAL_RAY_SLOTS", bad)
        with pytest.raises(EnvVarError, match=rf"^\$IOI_EVAL_RAY_SLOTS must be a whole number, not '{bad}'$"):
            RayBackend()

    def status() -> _StatusLine:
        return _StatusLine(lambda: (1, 1, 0), ChannelStats(), print)

    monkeypatch.delenv("IOI_EVAL_RAY_STATUS_S", raising=False)
    assert status().every == STATUS_EVERY_S
    monkeypatch.setenv("IOI_EVAL_RAY_STATUS_S", "0")  # 0: no status line
    line = status()
    line.start()
    assert line.every == 0 and not line._thread.is_alive()
    line.stop()
    for bad in ("often", "inf"):
        monkeypatch.setenv("IOI_EVAL_RAY_STATUS_S", bad)
        with pytest.raises(EnvVarError, match=rf"^\$IOI_EVAL_RAY_STATUS_S must be a number of seconds, not '{bad}'$"):
            status()

    monkeypatch.delenv("IOI_EVAL_RAY_COMPILES_MB", raising=False)
    assert registry_bytes() == MAX_BYTES
    monkeypatch.setenv("IOI_EVAL_RAY_COMPILES_MB", "1.5")
    assert registry_bytes() == 3 << 19
    monkeypatch.setenv("IOI_EVAL_RAY_COMPILES_MB", "0")  # 0: the registry keeps nothing
    assert registry_bytes() == 0
    monkeypatch.setenv("IOI_EVAL_RAY_COMPILES_MB", "lots")
    with pytest.raises(EnvVarError, match=r"^\$IOI_EVAL_RAY_COMPILES_MB must be a number of MiB, not 'lots'$"):
        registry_bytes()


def test_cli_refuses_a_bad_ray_slots_setting(tmp_path: Path) -> None:
    """A bad setting stops the command before any cluster is reached: one line, exit 2, no traceback."""
    src = tmp_path / "a.cpp"
    src.write_text("int main(){}\n")
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "-p", str(REPO / "problems" / "pairsum"),
                          "-s", str(src), "--backend", "ray"], capture_output=True, text=True,
                         env={**os.environ, "IOI_EVAL_RAY_SLOTS": "x", "RAY_ADDRESS": "127.0.0.1:1"}, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == "error: $IOI_EVAL_RAY_SLOTS must be a whole number, not 'x'", res.stderr
