"""Build of the native extension ``ioi_box._native`` (cpp/*.cpp). Metadata lives in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from glob import glob

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))

NO_COMPILER = """
ioi-eval needs a C++17 compiler to build its native core (ioi_box._native), and {what}.
On Debian/Ubuntu install it with:  apt-get install g++
(or point the CXX environment variable at another C++ compiler).
"""


class BuildExt(build_ext):
    """build_ext that fails early, with an actionable message, when there is no C++ compiler."""

    def build_extensions(self) -> None:
        self._check_cxx()
        super().build_extensions()

    def _check_cxx(self) -> None:
        cxx = (getattr(self.compiler, "compiler_cxx", None) or ["c++"])[0]
        if shutil.which(cxx) is None:
            sys.exit("error: " + NO_COMPILER.format(what=f"the C++ compiler '{cxx}' was not found").strip())
        # A C driver without the C++ front end (gcc without g++, "cannot execute 'cc1plus'") is
        # found on PATH but cannot build C++: compile a one-liner to be sure.
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "probe.cpp")
            with open(src, "w") as f:
                f.write("#include <vector>\nint main() { std::vector<int> v{1}; return v[0] - 1; }\n")
            try:
                self.compiler.compile([src], output_dir=tmp, extra_postargs=["-std=c++17"])
            except Exception as exc:
                sys.exit(
                    "error: "
                    + NO_COMPILER.format(what=f"'{cxx}' could not compile a C++17 test program ({exc})").strip()
                )


ext_modules = [
    Pybind11Extension(
        "ioi_box._native",
        sorted(os.path.relpath(p, HERE) for p in glob(os.path.join(HERE, "cpp", "*.cpp"))),
        include_dirs=["cpp"],
        cxx_std=17,
        extra_compile_args=["-O2"],
    ),
]

setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt})
