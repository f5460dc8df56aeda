"""Problem packages: the in-memory model (read by ``ioi_eval.sources.loader``)."""

from .model import Problem, Solution, Subtask, TestCase

__all__ = ["Problem", "Solution", "Subtask", "TestCase"]
