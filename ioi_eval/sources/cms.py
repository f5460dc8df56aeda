"""A folder of CMS-layout packages, one package, or a package ``.zip``: already in our format."""

from __future__ import annotations

from pathlib import Path

from .loader import discover


class CmsSource:
    """Packages in the IOI 2024 CMS layout on the local file system."""

    def __init__(self, path: str | Path) -> None:
        self.spec = str(path)
        self.path = Path(path)

    def packages(self) -> list[Path]:
        """The package roots under the path (the path itself if it is one)."""
        return discover(self.path)
