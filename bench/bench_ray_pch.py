"""The precompiled header on Ray: build it on a node, or ship the driver's through the object store?

    python bench/bench_ray_pch.py

On a local 2-node Ray cluster (each node its own raylet and object store), in one run:
1. build: ``Cpp().build_pch`` with the judge's flags into an empty folder (what a node does once, under its lock);
2. ship: the built header (about 101 MB) ``ray.put`` on the driver, then fetched by an actor on the other node and
   stored in that node's blob folder (``NodeBlobs.add``: hashed, written, renamed): what the box path does per node.
Both are timed from the driver. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "sandbox"))


class Receiver:
    """An actor that stores a blob from the object store in its node's blob folder."""

    def __init__(self, root: str) -> None:
        from ioi_eval.backends.ray.shipping import NodeBlobs

        self.blobs = NodeBlobs("bench", Path(root))

    def take(self, name: str, wrapped: list) -> float:
        import ray

        t0 = time.perf_counter()
        data = ray.get(wrapped[0])
        self.blobs.add(name, data)
        return time.perf_counter() - t0


def main() -> None:
    import hashlib

    import ray
    from ray.cluster_utils import Cluster
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from ioi_eval.judge.languages import Cpp
    from ioi_eval.judge.profile import get_profile

    flags = get_profile(None).cpp_flags
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        gch = Cpp().build_pch(list(flags), Path(tmp) / "pch")
        build_s = time.perf_counter() - t0
        data = gch.read_bytes()
        name = hashlib.sha256(data).hexdigest() + ".gch"
        node = {"num_cpus": 1, "object_store_memory": 400 << 20}
        c = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
        try:
            other = c.add_node(**node)
            c.wait_for_nodes()
            ray.init(address=c.address, log_to_driver=False, logging_level="ERROR")
            recv = ray.remote(Receiver).options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(other.node_id, soft=False)
            ).remote(os.path.join(tmp, "blobs"))
            ray.get(recv.__ray_ready__.remote())  # started: the timing below is the transfer only
            t0 = time.perf_counter()
            ref = ray.put(data)
            node_s = ray.get(recv.take.remote(name, [ref]))
            ship_s = time.perf_counter() - t0
        finally:
            ray.shutdown()
            c.shutdown()
    print(json.dumps({"flags": list(flags), "pch_bytes": len(data), "build_s": round(build_s, 2),
                      "ship_s": round(ship_s, 2), "ship_node_side_s": round(node_s, 2),
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
