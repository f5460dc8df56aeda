"""The local box stores host files under their identity: nothing is hashed, and a changed file is a new blob."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioi_box.protocol import Batch, Proc, ProcStatus, RunJob

import ioi_eval.digests
from ioi_eval.backends.local import LocalBackend, LocalBox


@pytest.fixture
def box() -> Iterator[LocalBox]:
    b = LocalBackend().open(workers=1)
    assert isinstance(b, LocalBox)
    try:
        yield b
    finally:
        b.close()


def _cat(box: LocalBox, blob: str) -> str:
    """What a sandboxed ``cat`` reads from ``blob`` bound at /box/in.txt."""
    work = box.new_dir()
    proc = Proc(argv=["/bin/cat", "/box/in.txt"], binds={"/box/in.txt": blob}, stdout=f"{work}/out",
                capture_stdout=4096)
    res = box.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0].procs[0]
    box.remove([work])
    assert res.status == ProcStatus.OK, res
    return res.stdout


def test_host_files_are_not_hashed(box: LocalBox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hashing(*_a: object) -> str:
        raise AssertionError("a host file was hashed")

    monkeypatch.setattr(ioi_eval.digests, "sha256_file", no_hashing)
    monkeypatch.setattr("ioi_box.executor._digest_file", no_hashing)
    big = tmp_path / "big.in"
    big.write_bytes(b"7\n" * (1 << 20))  # 2 MiB: above FileDigests' small-file threshold
    os.chmod(big, 0o644)
    blob = box.put_file(big)
    assert blob == box.put_file(big)  # the same file, the same blob
    assert os.path.samefile(box.root / blob, big)  # hard-linked, not copied
    assert _cat(box, blob).startswith("7\n7\n")


def test_a_changed_file_is_a_new_blob(box: LocalBox, tmp_path: Path) -> None:
    src = tmp_path / "t.in"
    src.write_text("old\n")
    os.chmod(src, 0o644)
    old = box.put_file(src)
    new_version = tmp_path / "t.in.new"  # replaced, as editors and package writers do
    new_version.write_text("new content\n")
    os.chmod(new_version, 0o644)
    os.replace(new_version, src)
    new = box.put_file(src)
    assert new != old
    assert _cat(box, new) == "new content\n" and _cat(box, old) == "old\n"
    with open(src, "a") as f:  # rewritten in place: another size, another blob
        f.write("more\n")
    assert box.put_file(src) not in (old, new)
    assert _cat(box, box.put_file(src)) == "new content\nmore\n"


@pytest.mark.parametrize("mode", [0o600, 0o664])
def test_a_copied_file_keeps_its_mode_and_content(box: LocalBox, tmp_path: Path, mode: int) -> None:
    src = tmp_path / "data.txt"
    src.write_text(f"content {mode:o}\n")
    os.chmod(src, mode)
    blob = box.root / box.put_file(src)
    assert stat.S_IMODE(os.stat(src).st_mode) == mode  # the package's file is never chmod-ed
    assert stat.S_IMODE(os.stat(blob).st_mode) == 0o644 and not os.path.samefile(src, blob)
    assert blob.read_text() == src.read_text()
    program = box.root / box.put_file(src, executable=True)
    assert stat.S_IMODE(os.stat(program).st_mode) == 0o755 and program != blob


def test_a_known_compiler_version_is_not_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiler passes the box's toolchain line to build_pch: a fresh cache runs no ``g++ --version``."""
    import hashlib

    from ioi_eval.judge import languages
    from ioi_eval.judge.languages import CPP_FLAGS, LANGUAGES

    cpp = LANGUAGES["cpp"]
    pch_flags = [f for f in CPP_FLAGS if f not in ("-static", "-s")]
    tag = hashlib.sha256(("g++ (X) 1.0" + "\0".join(pch_flags)).encode()).hexdigest()[:16]
    gch = tmp_path / tag / "bits" / "stdc++.h.gch"
    gch.parent.mkdir(parents=True)
    gch.write_bytes(b"built before")

    def no_asking(exe: str) -> str:
        raise AssertionError(f"{exe} --version was run")

    monkeypatch.setattr(languages, "_ask_version", no_asking)
    languages._tool_version.cache_clear()
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "fresh"))
    assert cpp.build_pch(CPP_FLAGS, tmp_path, "g++ (X) 1.0") == gch


def test_the_fast_linker_builds_the_same_program(box: LocalBox, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With lld or gold and with g++'s own linker: the same output, and two cache entries (the linker is keyed)."""
    from ioi_eval.judge import languages
    from ioi_eval.judge.compiler import Compiler, CompileUnit
    from ioi_eval.judge.languages import CPP_FLAGS, LANGUAGES

    fast = LANGUAGES["cpp"].link_flags(box.info.tools["cpp"])
    if not fast:
        pytest.skip("neither lld nor gold is installed")
    src = (b"#include <bits/stdc++.h>\nthread_local int t = 2;\nint main() { std::vector<std::thread> v;"
           b" std::atomic<int> s{0}; for (int i = 0; i < 3; i++) v.emplace_back([&, i] { t += i; s += t; });"
           b" for (auto& x : v) x.join(); try { throw std::runtime_error(\"e\"); } catch (std::exception& e)"
           b" { std::cout << e.what() << s << std::endl; } }\n")
    unit = CompileUnit(language="cpp", files=(("a.cpp", src),), compiled=("a.cpp",), main="a.cpp", flags=CPP_FLAGS)
    compiler = Compiler(box, cache_dir=tmp_path / "cache", use_pch=False)
    outputs = []
    for choice in ("default", fast[0].removeprefix("-fuse-ld=")):
        monkeypatch.setenv(languages.LINKER_ENV, choice)
        res, prog = compiler.compile(unit)
        assert res.ok and prog is not None and not res.cached, res
        work = box.new_dir()
        proc = Proc(argv=list(prog.argv), binds=dict(prog.files), stdout=f"{work}/out", capture_stdout=100)
        outputs.append(box.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0].procs[0].stdout)
    assert outputs == ["e9\n", "e9\n"]
    assert len(list((tmp_path / "cache" / "compile").glob("*/*/prog"))) == 2


@pytest.mark.parametrize("box_path", ["work/abc/out", "blobs/x", "work/a/../b/./c"])
def test_host_str_is_host_path(box: LocalBox, box_path: str) -> None:
    """The per-run string form names the same file as host_path (the launcher's spec and opens use it)."""
    assert box.host_str(box_path) == str(box.host_path(box_path))
    assert box.host_str(box_path).startswith(f"{box.root}/")


@pytest.mark.parametrize("box_path", ["/etc/passwd", "../x", "work/../../x", ".", "work/.."])
def test_host_str_refuses_paths_out_of_the_root(box: LocalBox, box_path: str) -> None:
    with pytest.raises(ValueError, match="escapes the work root"):
        box.host_str(box_path)
    with pytest.raises(ValueError, match="escapes the work root"):
        box.host_path(box_path)
