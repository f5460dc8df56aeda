"""Reaching the Ray cluster: import ray, connect (or start a local cluster), and describe its nodes.

``ray`` is an optional dependency (``pip install 'ioi-eval[ray]'``); nothing here imports it before it is needed.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from ...errors import RayClusterError

#: What a local cluster started by the harness may put in shared memory (bytes): blobs are small next to it.
LOCAL_OBJECT_STORE_BYTES = 512 << 20
#: How long a replacement actor (a box's or a judge's) waits for a node with free CPUs (seconds).
ROOM_WAIT_S = 15.0


def load_ray() -> ModuleType:
    """The ``ray`` module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise RayClusterError(f"the ray backend needs ray: pip install 'ioi-eval[ray]' ({exc})") from None
    return ray


def connect(address: str | None) -> ModuleType:
    """Connect this process to the cluster at ``address`` (``auto``, ``host:port``, ``ray://...``), or to the one
    ``RAY_ADDRESS`` names; with neither, start a local cluster (it ends with this process).

    A process already connected (a trainer's driver, a test's cluster) keeps its connection.
    """
    ray = load_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, "logging_level": "ERROR",
                              "configure_logging": False}
    if address is None:  # "local": a new cluster, never one a stale /tmp/ray file points at
        kwargs.update(include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
    try:
        ray.init(address=address or "local", **kwargs)
    except Exception as exc:  # ConnectionError, ValueError, RaySystemError...: one clear line
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise RayClusterError(f"cannot connect to {where}: {type(exc).__name__}: {exc}") from None
    return ray


def alive_nodes(ray: ModuleType) -> dict[str, dict[str, Any]]:
    """The cluster's live nodes by node id (Ray's node records)."""
    return {n["NodeID"]: n for n in ray.nodes() if n.get("Alive")}


def cluster_cpus(ray: ModuleType) -> int:
    """Logical CPUs of the live nodes (what actors can ask for)."""
    return int(sum(n.get("Resources", {}).get("CPU", 0) for n in alive_nodes(ray).values()))
