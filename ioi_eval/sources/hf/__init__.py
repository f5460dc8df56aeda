"""``hf:`` sources: open-r1-format datasets (IOI and Codeforces) as CMS-layout packages.

``spec`` parses the spec, ``tables`` reads Hub or local tables, ``ioi`` and ``codeforces`` write the packages of
each dataset kind, and ``source`` ties them together behind the :class:`~ioi_eval.sources.base.ProblemSource`
protocol.
"""

from .source import HfSource, detect_dataset
from .spec import HfSpec, parse_spec

__all__ = ["HfSource", "HfSpec", "detect_dataset", "parse_spec"]
