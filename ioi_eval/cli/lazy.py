"""A typer group whose commands are imported on first use, so that one command's start-up pays for no other's.

``ioi-eval judge`` then imports the judge's modules and nothing of ``run``, ``leaderboard`` or ``select`` (their
option models, YAML, progress bars). ``--help``, a mistyped command's suggestions and shell completion still see
every name: the names are known up front, only building a command imports its module.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from ..registry import load


class LazyCommands(MutableMapping):
    """The group's commands by name: a click command is built (its module imported) when first looked up."""

    def __init__(self, built: MutableMapping[str, Any], specs: dict[str, str], group: TyperGroup) -> None:
        self._built = dict(built)
        self._specs = specs
        self._group = group

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._specs:
                raise KeyError(name)
            self._built[name] = _click_command(name, load(self._specs[name]), self._group)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._specs = {k: v for k, v in self._specs.items() if k != name}

    def __iter__(self) -> Iterator[str]:
        yield from self._built
        yield from (name for name in self._specs if name not in self._built)

    def __len__(self) -> int:
        return len(set(self._built) | set(self._specs))


def _click_command(name: str, target: Any, group: TyperGroup) -> Any:
    """``target`` (a Typer app or a command function) as the click command typer would have mounted as ``name``."""
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=group.rich_markup_mode)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    holder.callback()(lambda: None)  # with a callback typer builds a group even around one command
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


def lazy_group(commands: dict[str, str]) -> type[TyperGroup]:
    """A :class:`TyperGroup` class that mounts ``commands`` (name -> ``"module:attribute"``, a command function or a
    Typer app) in this order, importing each module only when its command is looked up."""

    class LazyGroup(TyperGroup):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.commands = LazyCommands(self.commands, commands, self)

        def list_commands(self, ctx: Any) -> list[str]:
            return list(self.commands)  # the names only: building them is get_command's

    return LazyGroup
