"""Building the judge image (``sandbox/Dockerfile``), with or without a container registry.

``build_image`` assembles the build context (the Dockerfile, the in-box package ``ioi_box``, the
native core's sources, and wheels of pydantic and pybind11 fetched by this host's pip) and runs
``docker build``. With ``offline=True`` the Dockerfile's base image (``debian:bookworm-slim``) is
not pulled: a minimal Debian is debootstrapped into a folder (cached as a tarball, so the next
build skips it) and ``docker import``-ed under the base's tag, and the stock Dockerfile then builds
unchanged. Only Debian's package mirror (and PyPI, through pip) must be reachable.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..cache import cache_root
from ..errors import DockerError
from .docker_engine import DEFAULT_IMAGE, SOURCE_LABEL, build, engine_info, image_exists, image_source, import_tarball

REPO = Path(__file__).resolve().parents[2]
SANDBOX = REPO / "sandbox"
DOCKERFILE = SANDBOX / "Dockerfile"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_ARCH = {"x86_64": ("amd64", "x86_64"), "aarch64": ("arm64", "aarch64")}

Log = Callable[[str], None]


def base_image(dockerfile: Path = DOCKERFILE) -> str:
    """The default of the Dockerfile's ``ARG BASE=...``."""
    m = re.search(r"^ARG BASE=(\S+)", dockerfile.read_text(), re.M)
    if not m:
        raise DockerError(f"{dockerfile}: no `ARG BASE=<image>` line")
    return m.group(1)


def _suite(base: str) -> str:
    tag = base.rpartition(":")[2]
    return tag.split("-")[0] if tag and tag != base else "bookworm"


def apt_mirror() -> str:
    """The Debian mirror this host's apt uses (deb822 or one-line sources), else deb.debian.org."""
    listed = sorted(p for p in Path("/etc/apt/sources.list.d").glob("*") if p.suffix in (".list", ".sources"))
    for path in [Path("/etc/apt/sources.list"), *listed]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            m = re.match(r"URIs:\s*(\S+)", line) or re.match(r"deb\s+(?:\[[^]]*]\s+)?(\S+)\s", line)
            if m and "security" not in m.group(1) and m.group(1).startswith("http"):
                return m.group(1).rstrip("/")
    return DEFAULT_MIRROR


def _run(argv: list[str], log: Log, what: str, **kw) -> None:
    log(f"$ {' '.join(argv)}")
    res = subprocess.run(argv, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        tail = (res.stdout + res.stderr).strip()[-3000:]
        raise DockerError(f"{what} failed (exit {res.returncode}):\n{tail}")


def debootstrap_tarball(suite: str, cache: Path, log: Log, mirror: str | None = None) -> Path:
    """A minimal Debian root file system as a tarball, made once and cached."""
    arch = _ARCH.get(platform.machine(), (platform.machine(), ""))[0]
    tarball = cache / f"{suite}-{arch}-minbase.tar"
    if tarball.is_file():
        log(f"debootstrap: reusing {tarball}")
        return tarball
    if shutil.which("debootstrap") is None:
        raise DockerError("--offline needs debootstrap (Debian: apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise DockerError("--offline runs debootstrap, which needs root")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ioi-debootstrap-", dir=cache) as tmp:
        root = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--arch={arch}", suite, str(root), mirror or apt_mirror()],
             log, "debootstrap", timeout=1800)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (root / junk).glob("*"):
                if p.is_file():
                    p.unlink()
        part = Path(tmp) / "rootfs.tar"
        _run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(part), "."], log, "tar", timeout=600)
        os.replace(part, tarball)
    return tarball


def import_base(tag: str, tarball: Path, log: Log) -> None:
    """``docker import`` a root file system tarball as ``tag`` (through the SDK)."""
    path = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    import_tarball(tarball, tag, ['CMD ["bash"]', path], log)


def _wheels(dest: Path, log: Log) -> None:
    """pydantic (this host's version: both ends speak the same protocol models) and pybind11, for the image's Python."""
    import pydantic

    machine = _ARCH.get(platform.machine(), ("", platform.machine()))[1]
    plats = [f"--platform=manylinux_2_17_{machine}", f"--platform=manylinux2014_{machine}", "--platform=any"]
    _run([sys.executable, "-m", "pip", "download", "-q", "--dest", str(dest), "--only-binary=:all:",
          "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", *plats,
          f"pydantic=={pydantic.VERSION}", "pybind11>=2.12"], log, "pip download", timeout=600)


def build_context(dest: Path, log: Log) -> None:
    """Assemble the Dockerfile's build context in ``dest``."""
    shutil.copy2(DOCKERFILE, dest / "Dockerfile")
    (dest / "ioi_box").mkdir()
    for p in (SANDBOX / "ioi_box").glob("*.py"):
        shutil.copy2(p, dest / "ioi_box" / p.name)
    shutil.copytree(REPO / "cpp", dest / "cpp", ignore=shutil.ignore_patterns("*.o", "*.so"))
    wheels = cache_root() / "sandbox" / "wheels"
    if not any(wheels.glob("pydantic-*.whl")) or not any(wheels.glob("pybind11-*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        _wheels(wheels, log)
    shutil.copytree(wheels, dest / "wheels")


def source_digest() -> str:
    """A digest of everything the image takes from this checkout (the Dockerfile, ioi_box, cpp)."""
    h = hashlib.sha256()
    files = [DOCKERFILE, *sorted((SANDBOX / "ioi_box").glob("*.py")), *sorted((REPO / "cpp").glob("*.[ch]pp"))]
    for p in files:
        h.update(p.relative_to(REPO).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_image(tag: str = DEFAULT_IMAGE, offline: bool = False, no_cache: bool = False,
                log: Log = lambda _m: None) -> str:
    """Build the judge image as ``tag``; ``offline`` makes the base image from debootstrap. Returns the tag."""
    if not DOCKERFILE.is_file() or not (REPO / "cpp").is_dir():
        raise DockerError(f"building the judge image needs a source checkout ({DOCKERFILE} and cpp/ not found)")
    engine_info()
    base = base_image()
    if offline and not image_exists(base):
        cache = cache_root() / "sandbox" / "debootstrap"
        import_base(base, debootstrap_tarball(_suite(base), cache, log), log)
    elif not offline:
        log(f"base image {base}: pulled by docker build if missing")
    with tempfile.TemporaryDirectory(prefix="ioi-eval-image-") as tmp:
        ctx = Path(tmp)
        build_context(ctx, log)
        build(ctx, tag, {SOURCE_LABEL: source_digest()}, no_cache, log)
    return tag


def check_image(image: str) -> None:
    """Refuse a missing image, or one built from other executor sources than this checkout's."""
    if not image_exists(image):
        raise DockerError(f"the judge image {image} is missing: build it with `ioi-eval sandbox build` "
                          "(add --offline where no registry is reachable)")
    try:
        want = source_digest()
    except OSError:  # an installation without the sources: nothing to compare
        return
    got = image_source(image)
    if got != want:
        raise DockerError(f"the judge image {image} was built from other executor sources ({got or 'unknown'}, "
                          f"this checkout: {want}): rebuild it with `ioi-eval sandbox build`")
