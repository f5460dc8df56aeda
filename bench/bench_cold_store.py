"""What a cold ``ioi-eval judge`` pays to store its host files in the local box: by content (sha256 through
``FileDigests`` with an empty digest cache, as before issue 13's cold-path fix) against by identity (``LocalBox``).

    python bench/bench_cold_store.py [--pch-mb 100] [--tests 60] [--test-mb 0.9] [--rounds 5]

The files are made in a temporary folder: one file the size of a precompiled ``bits/stdc++.h`` (~100 MB with g++ 12)
and a package's tests (``--tests`` files of ``--test-mb`` MB each; the peer workload's rangesum has 62 files, 54 MB).
Each round stores both sets both ways into an emptied blob store, interleaved; medians per set and way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ioi_eval.backends.local import LocalBackend
from ioi_eval.digests import FileDigests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pch-mb", type=float, default=100)
    ap.add_argument("--tests", type=int, default=60)
    ap.add_argument("--test-mb", type=float, default=0.9)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    box = LocalBackend().open(workers=1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            pch = root / "stdc++.h.gch"
            pch.write_bytes(os.urandom(int(args.pch_mb * 1e6)))
            tests = []
            for i in range(args.tests):
                t = root / "tests" / f"{i:03d}.in"
                t.parent.mkdir(exist_ok=True)
                t.write_bytes(os.urandom(int(args.test_mb * 1e6)))
                tests.append(t)
            for f in (pch, *tests):
                os.chmod(f, 0o644)
            sets = {"precompiled header": [pch], "tests": tests}
            megabytes = {name: sum(f.stat().st_size for f in files) / 1e6 for name, files in sets.items()}
            times: dict[tuple[str, str], list[float]] = {}
            for _ in range(args.rounds):
                for name, files in sets.items():
                    for way in ("by content", "by identity"):
                        for blob in (box.root / "blobs").iterdir():
                            blob.unlink()
                        digests = FileDigests(Path(tempfile.mkdtemp(dir=tmp)))  # empty: a fresh cache
                        start = time.perf_counter()
                        for f in files:
                            if way == "by content":
                                box._store(digests.digest(f), lambda dst, f=f: box._link_or_copy(f, dst, 0o644), False)
                            else:
                                box.put_file(f)
                        times.setdefault((name, way), []).append(time.perf_counter() - start)
    finally:
        box.close()
    print("| files | count | MB | by content (ms) | by identity (ms) |\n|---|---|---|---|---|")
    for name, files in sets.items():
        a, b = (1e3 * statistics.median(times[(name, w)]) for w in ("by content", "by identity"))
        print(f"| {name} | {len(files)} | {megabytes[name]:.1f} | {a:.1f} | {b:.2f} |")
    print(f"\nload {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
