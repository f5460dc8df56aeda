"""The Docker control plane through the docker SDK, against the real engine: info, images, labelled containers,
removal, build and import, typed failures and ``DOCKER_HOST``; none of it runs the docker binary."""

from __future__ import annotations

import io
import secrets
import shutil
import tarfile
from pathlib import Path

import pytest

from ioi_eval.backends import docker_engine as de
from ioi_eval.errors import DockerError
from tests.fixtures.strict import require


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> None:
    require(de.engine_available(), "no Docker engine answers (scripts/setup-docker starts one)")
    # prove no call below needs the CLI: the docker binary cannot be found
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)


def _tarball(path: Path) -> Path:
    """A root file system of one file, /hello."""
    with tarfile.open(path, "w") as tar:
        data = b"hello from a tarball\n"
        info = tarfile.TarInfo("hello")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_control_plane_without_the_cli(engine: None, tmp_path: Path) -> None:
    info = de.engine_info()
    assert info["ServerVersion"]
    tag = f"ioi-eval-sdk-test-{secrets.token_hex(4)}:base"
    built = tag.replace(":base", ":built")
    lines: list[str] = []
    try:
        assert not de.image_exists(tag) and de.image_source(tag) is None
        de.import_tarball(_tarball(tmp_path / "root.tar"), tag, ['CMD ["/hello"]'], lines.append)
        assert de.image_exists(tag) and de.image_source(tag) is None
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(f"FROM {tag}\nLABEL stage=test\n")
        de.build(ctx, built, {de.SOURCE_LABEL: "abc123"}, no_cache=False, log=lines.append)
        assert de.image_source(built) == "abc123" and any("Successfully" in x or "Step" in x for x in lines)
        # a failing build is a DockerError carrying the engine's message
        (ctx / "Dockerfile").write_text(f"FROM {tag}\nRUN /no/such/program\n")
        with pytest.raises(DockerError, match="docker build failed"):
            de.build(ctx, built, {}, no_cache=True, log=lines.append)
        # labelled containers are listed and removed; removing one already gone is fine
        label = f"ioi-eval.sdk-test-{secrets.token_hex(3)}"
        client = de.client()
        made = [client.containers.create(built, name=f"ioi-sdk-test-{secrets.token_hex(3)}",
                                         labels={label: f"host:{i}"}) for i in range(2)]
        listed = sorted(de.containers_labelled(label))
        assert listed == sorted((c.name, f"host:{i}") for i, c in enumerate(made))
        assert de.remove_container_names([c.name for c in made] + ["ioi-sdk-test-never-was"]) == []
        assert de.containers_labelled(label) == []
    finally:
        for image in (built, tag):
            if de.image_exists(image):
                de.client().images.remove(image, force=True)


def test_docker_host_is_honoured_and_failures_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DOCKER_HOST pointing nowhere: a DockerError saying how to start the engine, not a traceback."""
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    monkeypatch.setattr(de, "_clients", {})
    assert not de.engine_available()
    with pytest.raises(DockerError, match=r"not running or not reachable.*scripts/setup-docker"):
        de.engine_info()


def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(DockerError, match=r"pip install 'ioi-eval\[docker\]'"):
        de.engine_info()


def test_the_backend_judges_without_the_docker_binary(engine: None) -> None:
    """Containers are created and spoken to through the SDK: with no docker binary to find, a job still runs."""
    from ioi_box.protocol import Batch, Limits, Proc, RunJob

    from ioi_eval.backends.docker import DockerBackend
    from ioi_eval.backends.docker_engine import DEFAULT_IMAGE

    require(de.image_exists(DEFAULT_IMAGE), f"the judge image {DEFAULT_IMAGE} is missing (ioi-eval sandbox build)")
    with DockerBackend().open(1) as box:
        w = box.new_dir()
        job = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "echo judged; echo on stderr >&2"], stdout=f"{w}/out",
                                 rw_binds={"/box": w}, capture_stdout=100, limits=Limits(cpu_s=2, wall_s=5))])
        res = box.execute(Batch(jobs=[job])).results[0].procs[0]
        box.remove([w])
        assert res.status.value == "OK" and res.stdout == "judged\n", res
