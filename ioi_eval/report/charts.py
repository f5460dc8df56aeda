"""Charts as inline SVG, drawn here so the site needs no JavaScript library and no network.

Every chart is a plain ``<svg>`` string with a ``<title>`` on each mark (the hover tooltip) and a
``role="img"``/``aria-label`` for screen readers. Colours: one per run (a colour-blind-safe palette),
and one per verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from ..scoring.bootstrap import Interval

#: Okabe-Ito, then a few more: distinguishable for colour-blind readers.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#7f7f7f", "#8c564b", "#17becf", "#bcbd22")
VERDICT_COLORS = {"AC": "#2e9d4f", "PA": "#a6d96a", "WA": "#d7301f", "TLE": "#fd8d3c", "MLE": "#8c6bb1",
                  "RE": "#8c510a", "OLE": "#f768a1", "CE": "#636363", "NC": "#bdbdbd", "SE": "#000000",
                  "SKIPPED": "#e0e0e0"}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def color(i: int) -> str:
    """The colour of the i-th run."""
    return PALETTE[i % len(PALETTE)]


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
                  f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" {FONT}>'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _legend(items: Sequence[tuple[str, str]], x: int, y: int, max_width: int) -> tuple[list[str], int]:
    """Legend swatches laid out in rows; returns the marks and the height used."""
    out, cx, cy = [], x, y
    for name, col in items:
        w = 18 + 7 * len(name) + 14
        if cx + w > x + max_width and cx > x:
            cx, cy = x, cy + 18
        out.append(f'<rect x="{cx}" y="{cy}" width="12" height="12" fill="{col}"/>'
                   f'<text x="{cx + 16}" y="{cy + 10}">{escape(name)}</text>')
        cx += w
    return out, cy - y + 18


def grouped_bars(title: str, groups: Sequence[str], series: Sequence[str], values: Sequence[Sequence[float | None]],
                 maxima: Sequence[float], colors: Sequence[str] | None = None) -> Markup:
    """Vertical bars: for each group (e.g. a problem), one bar per series (e.g. a model).

    ``values[s][g]`` is series s in group g (None: not measured, drawn as nothing); bar heights are
    relative to the group's maximum ``maxima[g]``, which the axis shows as 100%.
    """
    colors = list(colors or [color(i) for i in range(len(series))])
    left, top, plot_h = 44, 12, 180
    bar_w = max(6, min(28, 220 // max(1, len(series))))
    # each group as wide as its bars or its label, whichever is wider
    widths = [max(bar_w * len(series) + 24, 7 * len(name) + 14) for name in groups]
    starts = [left + sum(widths[:g]) for g in range(len(groups))]
    width = max(240, left + sum(widths) + 16)
    body = []
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{frac * 100:.0f}%</text>')
    for g, name in enumerate(groups):
        gx = starts[g] + (widths[g] - bar_w * len(series)) / 2
        for s, label in enumerate(series):
            v = values[s][g]
            if v is None:
                continue
            h = plot_h * (v / maxima[g] if maxima[g] else 0)
            body.append(f'<rect class="bar" x="{gx + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2}" '
                        f'height="{max(h, 0.5):.1f}" fill="{colors[s]}"><title>{escape(label)} on {escape(name)}: '
                        f'{v:g} / {maxima[g]:g}</title></rect>')
        body.append(f'<text x="{gx + bar_w * len(series) / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                    f'{escape(name)}</text>')
    legend, lh = _legend(list(zip(series, colors, strict=True)), left, top + plot_h + 28, width - left)
    return _svg(width, top + plot_h + 28 + lh + 4, title, body + legend)


def intervals(title: str, labels: Sequence[str], points: Sequence[Interval | None], maximum: float,
              colors: Sequence[str] | None = None) -> Markup:
    """One row per label: a dot at the mean and a whisker over its confidence interval (0 to maximum)."""
    colors = list(colors or [color(i) for i in range(len(labels))])
    left = min(260, 16 + 7 * max((len(lab) for lab in labels), default=4))
    width, row_h, top, plot_w = left + 420, 24, 10, 380
    scale = plot_w / maximum if maximum else 0
    body = []
    for frac in (0, 0.25, 0.5, 0.75, 1):
        x = left + plot_w * frac
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + row_h * len(labels)}" stroke="#ddd"/>'
                    f'<text x="{x:.1f}" y="{top + row_h * len(labels) + 14}" text-anchor="middle">'
                    f'{maximum * frac:g}</text>')
    for i, (lab, iv) in enumerate(zip(labels, points, strict=True)):
        y = top + row_h * i + row_h / 2
        body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(lab)}</text>')
        if iv is None:
            continue
        x0, x1, xm = left + iv.low * scale, left + iv.high * scale, left + iv.mean * scale
        body.append(f'<g class="interval"><title>{escape(lab)}: {iv.mean:g} ({iv.confidence * 100:g}% CI '
                    f'{iv.low:g} to {iv.high:g}, {iv.n} samples)</title>'
                    f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colors[i]}" '
                    f'stroke-width="2"/><line x1="{x0:.1f}" x2="{x0:.1f}" y1="{y - 5:.1f}" y2="{y + 5:.1f}" '
                    f'stroke="{colors[i]}" stroke-width="2"/><line x1="{x1:.1f}" x2="{x1:.1f}" y1="{y - 5:.1f}" '
                    f'y2="{y + 5:.1f}" stroke="{colors[i]}" stroke-width="2"/>'
                    f'<circle cx="{xm:.1f}" cy="{y:.1f}" r="4.5" fill="{colors[i]}"/></g>')
    return _svg(width, top + row_h * len(labels) + 22, title, body)


def stacked_verdicts(title: str, labels: Sequence[str], counts: Sequence[dict[str, int]],
                     order: Sequence[str]) -> Markup:
    """One horizontal bar per label, split by verdict in proportion to the counts (with a legend)."""
    left = min(260, 16 + 7 * max((len(lab) for lab in labels), default=4))
    width, row_h, top, plot_w = left + 420, 24, 8, 380
    body = []
    present = [v for v in order if any(c.get(v, 0) for c in counts)]
    for i, (lab, c) in enumerate(zip(labels, counts, strict=True)):
        y = top + row_h * i
        total = sum(c.get(v, 0) for v in order)
        body.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(lab)}</text>')
        x = float(left)
        for v in present:
            n = c.get(v, 0)
            if not n:
                continue
            w = plot_w * n / total
            body.append(f'<rect class="seg" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                        f'fill="{VERDICT_COLORS.get(v, "#999")}"><title>{escape(lab)}: {n} {v} '
                        f'({100 * n / total:.0f}%)</title></rect>')
            if w > 22:
                text_color = "#fff" if v in ("AC", "WA", "MLE", "RE", "CE", "SE") else "#000"
                body.append(f'<text x="{x + w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="{text_color}">'
                            f'{n}</text>')
            x += w
        body.append(f'<text x="{left + plot_w + 6}" y="{y + 16}">{total}</text>')
    legend, lh = _legend([(v, VERDICT_COLORS.get(v, "#999")) for v in present], left, top + row_h * len(labels) + 6,
                         plot_w)
    return _svg(width, top + row_h * len(labels) + 6 + lh + 2, title, body + legend)


def budget_lines(title: str, budgets: Sequence[str], series: Sequence[tuple[str, Sequence[float],
                                                                            Sequence[tuple[float, float] | None]]],
                 maximum: float, ceiling: tuple[str, float] | None = None,
                 colors: Sequence[str] | None = None) -> Markup:
    """Score against submission budget: one line per series over the budgets (evenly spaced, in order).

    Each series is (name, values, intervals); an interval (low, high) draws a band around the line (a random
    strategy's draws). ``ceiling`` (name, value) is drawn as a dashed horizontal line (the oracle).
    """
    colors = list(colors or [color(i) for i in range(len(series))])
    left, top, plot_w, plot_h = 52, 14, max(240, 90 * (len(budgets) - 1)), 220
    width = left + plot_w + 24
    scale = plot_h / maximum if maximum else 0
    step = plot_w / max(1, len(budgets) - 1)
    xs = [left + step * i if len(budgets) > 1 else left + plot_w / 2 for i in range(len(budgets))]

    def y(v: float) -> float:
        return top + plot_h - v * scale

    body = []
    for frac in (0, 0.25, 0.5, 0.75, 1):
        yy = top + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{maximum * frac:g}</text>')
    for x, label in zip(xs, budgets, strict=True):
        body.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    body.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 32}" text-anchor="middle">'
                f'submissions per problem</text>')
    for (name, values, bands), col in zip(series, colors, strict=True):
        band = [(x, b) for x, b in zip(xs, bands, strict=True) if b is not None]
        if band and any(lo != hi for _, (lo, hi) in band):
            upper = " ".join(f"{x:.1f},{y(hi):.1f}" for x, (_, hi) in band)
            lower = " ".join(f"{x:.1f},{y(lo):.1f}" for x, (lo, _) in reversed(band))
            body.append(f'<polygon class="band" points="{upper} {lower}" fill="{col}" fill-opacity="0.15"/>')
        points = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, values, strict=True))
        body.append(f'<g class="line"><title>{escape(name)}</title><polyline points="{points}" fill="none" '
                    f'stroke="{col}" stroke-width="2"/></g>')
        for x, v, label in zip(xs, values, budgets, strict=True):
            body.append(f'<circle class="point" cx="{x:.1f}" cy="{y(v):.1f}" r="3.5" fill="{col}"><title>'
                        f'{escape(name)} at {escape(label)}: {v:g}</title></circle>')
    if ceiling is not None:
        name, value = ceiling
        body.append(f'<g class="ceiling"><title>{escape(name)}: {value:g}</title><line x1="{left}" '
                    f'x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#000" '
                    f'stroke-dasharray="6 4" stroke-width="1.5"/></g>')
    items = [(name, col) for (name, _, _), col in zip(series, colors, strict=True)]
    if ceiling is not None:
        items.append((ceiling[0], "#000"))
    legend, lh = _legend(items, left, top + plot_h + 42, plot_w)
    return _svg(width, top + plot_h + 42 + lh + 4, title, body + legend)
