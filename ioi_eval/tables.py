"""Terminal tables that stay readable at any width (80 columns, piped into a log) — one layout for every command.

:func:`fit_table` sizes the columns itself instead of leaving it to rich's squeezing: a numeric column is never
narrower than its widest value (a number is never split across lines or cut), a text column never narrower than
its longest word (it wraps between words), no column is squeezed to a sliver, and when even those widths do not
fit, the columns of least value are left out (the caller says which, in a note) after trying their short headers.

It imports nothing of ``ioi_eval`` so that every package that prints a table (cli, report, select,
adversarial) can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: A text column's words longer than this may be folded (a path, a hash): it never makes a column this wide alone.
LONGEST_WORD = 24
#: The narrowest a column with wider content is drawn.
MIN_WIDTH = 3
#: Columns with at least this ``keep`` are never left out.
ALWAYS = 100
#: Columns with a ``keep`` under this are left out as soon as the table would have to wrap a cell.
OPTIONAL = 25

BOX = box.SIMPLE_HEAD


@dataclass
class Col:
    """A column: header, whether it holds numbers (never wrapped), and how much it is worth keeping."""

    header: str
    numeric: bool = False
    #: Columns with the lowest ``keep`` are left out first when the table does not fit (:data:`ALWAYS`: never).
    keep: int = ALWAYS
    #: The header used when the table is narrow (default: ``header``).
    short: str | None = None
    #: A text column wider than this wraps even when there is room (e.g. messages).
    max_width: int | None = None
    style: str | None = None


Cell = str | Text


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else Text.from_markup(cell).plain


def _longest_word(text: str) -> int:
    return max((len(w) for line in text.splitlines() for w in line.split()), default=0)


def _natural(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


@lru_cache(maxsize=64)
def overhead(n: int) -> int:
    """Characters a table of ``n`` columns spends on borders and padding."""
    if n == 0:
        return 0
    console = Console(width=1000, file=None, record=False, color_system=None, force_terminal=False)
    table = _new_table(None)
    for _ in range(n):
        table.add_column("x", width=1)
    table.add_row(*["x"] * n)
    with console.capture() as cap:
        console.print(table)
    return max(len(line) for line in cap.get().splitlines()) - n


def _new_table(title: str | None) -> Table:
    return Table(title=title, box=BOX, title_justify="left", pad_edge=False, show_edge=False)


@dataclass
class Fitted:
    """A table laid out for a width, and the headers of the columns left out to fit it."""

    table: Table
    dropped: list[str]

    def note(self, width: int) -> str | None:
        """A line saying which columns were left out at this width (None: none were)."""
        if not self.dropped:
            return None
        return f"left out at {width} columns: {', '.join(self.dropped)}"


def natural_width(columns: Sequence[Col], rows: Sequence[Sequence[Cell]]) -> int:
    """The width the table takes when nothing wraps."""
    plain = [[_plain(c) for c in row] for row in rows]
    widths = [max([_natural(col.header)] + [_natural(r[i]) for r in plain]) for i, col in enumerate(columns)]
    widths = [min(w, col.max_width) if col.max_width and not col.numeric else w
              for w, col in zip(widths, columns, strict=True)]
    return sum(widths) + overhead(len(columns))


def fit_table(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int, title: str | None = None,
              row_styles: Sequence[str | None] | None = None) -> Fitted:
    """``rows`` under ``columns`` as a table at most ``width`` characters wide (see the module's docstring)."""
    plain = [[_plain(c) for c in row] for row in rows]
    cols = list(range(len(columns)))

    def sizes(i: int, short: bool) -> tuple[int, int, int]:
        """(least, whole words, natural) widths of column ``i``."""
        col = columns[i]
        header = (col.short or col.header) if short else col.header
        cells = [r[i] for r in plain]
        natural = max([_natural(header)] + [_natural(c) for c in cells])
        if col.numeric:  # values whole: as wide as the widest; the header may wrap between its words
            least = words = max([_longest_word(header)] + [_natural(c) for c in cells])
        else:
            words = max([_longest_word(header)] + [_longest_word(c) for c in cells])
            least = max([_longest_word(header)] + [min(_longest_word(c), LONGEST_WORD) for c in cells])
            if col.max_width:
                natural = max(least, min(natural, col.max_width))
        least = min(natural, max(least, MIN_WIDTH))
        return least, min(max(words, least), natural), natural

    def need(chosen: list[int], short: bool) -> int:
        return sum(sizes(i, short)[0] for i in chosen) + overhead(len(chosen))

    short = False
    if sum(sizes(i, False)[1] for i in cols) + overhead(len(cols)) > width:
        short = need(cols, False) > width
    # leave out the least valuable columns (rightmost first among equals) until the rest fit
    order = sorted((i for i in cols if columns[i].keep < ALWAYS), key=lambda i: (columns[i].keep, -i))
    chosen = list(cols)
    for i in order:  # optional columns go as soon as the table does not fit unwrapped
        if columns[i].keep >= OPTIONAL or sum(sizes(k, short)[2] for k in chosen) + overhead(len(chosen)) <= width:
            break
        chosen.remove(i)
    for i in (i for i in order if i in chosen):
        if need(chosen, short) <= width:
            break
        chosen.remove(i)
    widths = {i: sizes(i, short)[0] for i in chosen}
    spare = width - sum(widths.values()) - overhead(len(chosen))
    # share what is left: first so that no word is folded (a character at a time, to the column furthest from
    # that), then so that whole cells fit on one line, the most valuable columns first
    words = {i: sizes(i, short)[1] for i in chosen}
    while spare > 0:
        wanting = [i for i in chosen if widths[i] < words[i]]
        if not wanting:
            break
        i = max(wanting, key=lambda k: (words[k] - widths[k], -k))
        widths[i] += 1
        spare -= 1
    for i in sorted(chosen, key=lambda k: (-columns[k].keep, k)):
        grow = min(spare, sizes(i, short)[2] - widths[i])
        widths[i] += max(0, grow)
        spare -= max(0, grow)
    table = _new_table(title)
    for i in chosen:
        col = columns[i]
        header = (col.short or col.header) if short else col.header
        # a numeric column is as wide as its widest value, so values never wrap; its header may
        table.add_column(header, justify="right" if col.numeric else "left", width=widths[i], overflow="fold",
                         style=col.style)
    for n, row in enumerate(rows):
        style = row_styles[n] if row_styles else None
        table.add_row(*(row[i] for i in chosen), style=style)
    return Fitted(table, [columns[i].header for i in cols if i not in chosen])


def print_fitted(console: Console, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], title: str | None = None,
                 row_styles: Sequence[str | None] | None = None) -> Fitted:
    """Fit the table to ``console``'s width, print it and the note of columns left out (if any)."""
    fitted = fit_table(columns, rows, console.width, title, row_styles)
    console.print(fitted.table)
    note = fitted.note(console.width)
    if note:
        console.print(note, style="dim", markup=False, highlight=False)
    return fitted
