"""Submissions: a source file in a language, or (OutputOnly) a set of output files."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import archive
from ..errors import IoiEvalError
from .languages import language_of

OUTPUT_PREFIX, OUTPUT_SUFFIX = "output_", ".txt"
MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class Submission:
    """What a contestant (or a model) submitted for one problem."""

    name: str
    language: str | None = None
    source: bytes | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)  # OutputOnly: test name -> content

    @classmethod
    def from_source(cls, path: Path, language: str | None = None) -> Submission:
        """A source file; the language comes from the suffix unless given."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IoiEvalError(f"{path}: cannot read the submission ({exc.strerror})") from None
        if len(data) > MAX_SOURCE_BYTES:
            raise IoiEvalError(f"{path}: source larger than {MAX_SOURCE_BYTES >> 10} KiB")
        return cls(name=path.name, language=language or language_of(path), source=data)

    @classmethod
    def from_outputs(cls, path: Path) -> Submission:
        """OutputOnly: a folder or .zip of ``output_<test>.txt`` files."""
        outputs: dict[str, bytes] = {}
        if path.is_dir():
            for f in path.iterdir():
                if f.is_file() and f.name.startswith(OUTPUT_PREFIX) and f.name.endswith(OUTPUT_SUFFIX):
                    outputs[f.name[len(OUTPUT_PREFIX):-len(OUTPUT_SUFFIX)]] = f.read_bytes()
        elif path.suffix.lower() == ".zip":  # read within the archive caps (ioi_eval.archive)
            def is_output(info: zipfile.ZipInfo) -> bool:
                base = Path(info.filename).name
                return base.startswith(OUTPUT_PREFIX) and base.endswith(OUTPUT_SUFFIX)

            for name, data in archive.read_members(path, is_output, IoiEvalError).items():
                outputs[Path(name).name[len(OUTPUT_PREFIX):-len(OUTPUT_SUFFIX)]] = data
        else:
            raise IoiEvalError(f"{path}: an output-only submission is a folder or a .zip of output_<test>.txt")
        return cls(name=path.name, outputs=outputs)

    @classmethod
    def from_path(cls, path: Path, takes_code: bool, language: str | None = None) -> Submission:
        """Read a submission of the kind its task type takes: source code, or output files (``takes_code`` False)."""
        path = Path(path)
        if not path.exists():
            raise IoiEvalError(f"{path}: no such file or folder")
        if not takes_code:
            return cls.from_outputs(path)
        if path.is_dir():
            raise IoiEvalError(f"{path}: expected a source file, got a folder")
        return cls.from_source(path, language)
