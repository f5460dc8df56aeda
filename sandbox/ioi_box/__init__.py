"""The in-box side of ioi-eval: the executor that runs inside every isolation boundary.

It is kept apart from :mod:`ioi_eval` (the host side) so a container or a cloud VM needs only this
package and the native core to judge: the host ships files and job batches, the box runs them.
"""

from .protocol import Batch, BatchResult, CompareJob, JobResult, Limits, Proc, ProcResult, ProcStatus, RunJob

__all__ = ["Batch", "BatchResult", "CompareJob", "JobResult", "Limits", "Proc", "ProcResult", "ProcStatus",
           "RunJob"]
