"""Problem packages: the model and the loader of the official IOI CMS layout."""

from .loader import discover, load_problem
from .model import Problem, Solution, Subtask, TestCase

__all__ = ["Problem", "Solution", "Subtask", "TestCase", "discover", "load_problem"]
