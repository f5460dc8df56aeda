"""The Ray backend (``--backend ray``): judge actors on a Ray cluster's nodes, one real box each.

- :mod:`.cluster`: import ray, connect to a cluster (``--ray-address``, ``$RAY_ADDRESS``) or start a local one;
- :mod:`.actor`: the judge actor, owning a box of its node (bubblewrap in-process, or a Docker container);
- :mod:`.channel`: the driver's end of one actor, a :class:`~ioi_eval.backends.remote.Channel`;
- :mod:`.shipping`: blobs into the object store once per run, onto each node once, by content;
- :mod:`.backend`: :class:`RayBackend` (a pool of actors as one box) and the per-node doctor report.
"""

from __future__ import annotations

from .backend import BOXES, RayBackend, node_report

__all__ = ["BOXES", "RayBackend", "node_report"]
