"""Inline SVG charts and value formatting for the report (pipelines/report.py): no JavaScript, no network.

Every point and bar carries an SVG ``<title>`` tooltip with its value.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777")
NPS_COLORS = {"detractors": "#dc2626", "passives": "#9ca3af", "promoters": "#16a34a"}
_EMPTY = "<p class=empty>No data.</p>"


def line_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[Any, float]]]],
    *,
    width: int = 560,
    height: int = 240,
    y_min: float | None = None,
    y_max: float | None = None,
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    zero_line: bool = False,
    partial_x: set[Any] | frozenset[Any] = frozenset(),
) -> str:
    """Lines over dates (or any sortable x), with a legend and a tooltip per point; points at ``partial_x``
    (days not over when loaded) are hollow, joined by a dashed segment and labelled "partial day"."""
    xs = sorted({x for _, _, points in series for x, _ in points})
    values = [y for _, _, points in series for _, y in points]
    if not xs or not values:
        return _EMPTY
    left, right, top, bottom = 52, 12, 12, 28
    lo = min(values + [0.0]) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    lo, hi, ticks = _nice_range(lo, hi)
    index = {x: i for i, x in enumerate(xs)}
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: Any) -> float:
        return left + (plot_w * index[x] / (len(xs) - 1) if len(xs) > 1 else plot_w / 2)

    def py(y: float) -> float:
        return top + plot_h * (1 - (y - lo) / (hi - lo))

    out = [f"<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"]
    for t in ticks:
        out.append(f"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{py(t):.1f}\" y2=\"{py(t):.1f}\" "
                   "stroke=\"#e2e8f0\"/>")
        out.append(f"<text x=\"{left - 6}\" y=\"{py(t) + 4:.1f}\" text-anchor=\"end\">{_e(y_format(t))}</text>")
    if zero_line and lo < 0 < hi:
        out.append(f"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{py(0):.1f}\" y2=\"{py(0):.1f}\" "
                   "stroke=\"#64748b\"/>")
    for i in sorted({0, len(xs) - 1, *range(0, len(xs), max(1, len(xs) // 6))}):
        if i == len(xs) - 1 or len(xs) - 1 - i >= max(1, len(xs) // 12):
            anchor = "start" if i == 0 else "end" if i == len(xs) - 1 else "middle"
            out.append(f"<text x=\"{px(xs[i]):.1f}\" y=\"{height - 8}\" text-anchor=\"{anchor}\">"
                       f"{_e(_short(xs[i]))}</text>")
    for name, color, points in series:
        pts = sorted(points, key=lambda p: index[p[0]])
        if not pts:
            continue
        solid = [p for p in pts if p[0] not in partial_x]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in solid)
        out.append(f"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>")
        tail = solid[-1:] + [p for p in pts if p[0] in partial_x]
        if len(tail) > 1:
            dashed = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in tail)
            out.append(f"<polyline points=\"{dashed}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" "
                       "stroke-dasharray=\"4 3\"/>")
        radius = 2.5 if len(pts) <= 120 else 1.2
        for x, y in pts:
            fill, note = ("#fff", " (partial day)") if x in partial_x else (color, "")
            out.append(f"<circle cx=\"{px(x):.1f}\" cy=\"{py(y):.1f}\" r=\"{radius + (1 if note else 0)}\" "
                       f"fill=\"{fill}\" stroke=\"{color}\"><title>{_e(name)} {_e(x)}: {_e(y_format(y))}{note}"
                       "</title></circle>")
    for x in sorted(set(partial_x) & set(xs)):
        out.append(f"<text x=\"{px(x) - 4:.1f}\" y=\"{top + 10}\" text-anchor=\"end\" class=partial>partial day</text>")
    out.append("</svg>")
    legend = "".join(f"<span class=swatch style=\"background:{c}\"></span>{_e(n)}" for n, c, _ in series)
    return f"<div class=legend>{legend}</div>{''.join(out)}"


def hbar_chart(items: Sequence[tuple[str, float, str]], *, width: int = 560) -> str:
    """Horizontal bars, largest first as given: label, value, tooltip/annotation."""
    if not items:
        return _EMPTY
    label_w, bar_h, gap = 190, 18, 6
    height = len(items) * (bar_h + gap) + 4
    top = max(v for _, v, _ in items) or 1.0
    out = [f"<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"]
    for i, (label, value, note) in enumerate(items):
        y = i * (bar_h + gap) + 2
        w = (width - label_w - 150) * value / top
        out.append(f"<text x=\"{label_w - 6}\" y=\"{y + 13}\" text-anchor=\"end\">{_e(_clip(label, 30))}"
                   f"<title>{_e(label)}</title></text>")
        out.append(f"<rect x=\"{label_w}\" y=\"{y}\" width=\"{max(w, 1):.1f}\" height=\"{bar_h}\" rx=\"2\" "
                   f"fill=\"{PALETTE[0]}\"><title>{_e(label)}: {_e(note)}</title></rect>")
        out.append(f"<text x=\"{label_w + max(w, 1) + 6:.1f}\" y=\"{y + 13}\">{_e(note)}</text>")
    out.append("</svg>")
    return "".join(out)


def grouped_bar_chart(groups: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, width: int = 560,
                      height: int = 220) -> str:
    """Vertical bars in groups (a guide's steps), one color per measure."""
    if not groups:
        return _EMPTY
    left, bottom, top_pad = 40, 24, 8
    measures = [m for m, _ in groups[0][1]]
    top = max((v for _, bars in groups for _, v in bars), default=0) or 1.0
    lo, hi, ticks = _nice_range(0.0, top)
    plot_h = height - bottom - top_pad
    group_w = (width - left - 8) / len(groups)
    bar_w = min(28.0, (group_w - 16) / len(measures))
    out = [f"<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"]
    for t in ticks:
        y = top_pad + plot_h * (1 - t / hi)
        out.append(f"<line x1=\"{left}\" x2=\"{width - 8}\" y1=\"{y:.1f}\" y2=\"{y:.1f}\" stroke=\"#e2e8f0\"/>"
                   f"<text x=\"{left - 6}\" y=\"{y + 4:.1f}\" text-anchor=\"end\">{_fmt_int(t)}</text>")
    for g, (label, bars) in enumerate(groups):
        x0 = left + g * group_w + (group_w - bar_w * len(bars)) / 2
        for i, (measure, value) in enumerate(bars):
            h = plot_h * value / hi
            out.append(f"<rect x=\"{x0 + i * bar_w:.1f}\" y=\"{top_pad + plot_h - h:.1f}\" width=\"{bar_w - 2:.1f}\" "
                       f"height=\"{h:.1f}\" fill=\"{PALETTE[i % len(PALETTE)]}\"><title>{_e(label)} {_e(measure)}: "
                       f"{_fmt_int(value)} visitors</title></rect>")
        out.append(f"<text x=\"{left + g * group_w + group_w / 2:.1f}\" y=\"{height - 8}\" "
                   f"text-anchor=\"middle\">{_e(label)}</text>")
    out.append("</svg>")
    legend = "".join(f"<span class=swatch style=\"background:{PALETTE[i]}\"></span>{_e(m)}"
                     for i, m in enumerate(measures))
    return f"<div class=legend>{legend}</div>{''.join(out)}"


def stacked_bar(segments: Sequence[tuple[str, float, str]], *, width: int = 560, height: int = 26) -> str:
    """One horizontal bar split into shares (NPS detractors / passives / promoters)."""
    out = [f"<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"]
    x = 0.0
    for name, share, note in segments:
        w = width * share
        out.append(f"<rect x=\"{x:.1f}\" y=\"0\" width=\"{w:.1f}\" height=\"{height}\" "
                   f"fill=\"{NPS_COLORS.get(name, PALETTE[0])}\"><title>{_e(note)} ({_pct(share)})</title></rect>")
        if w > 60:
            out.append(f"<text x=\"{x + 6:.1f}\" y=\"{height / 2 + 4:.1f}\" style=\"fill:#fff\">{_e(name)} "
                       f"{_pct(share)}</text>")
        x += w
    out.append("</svg>")
    return "".join(out)


def _nice_range(lo: float, hi: float) -> tuple[float, float, list[float]]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    ticks = [lo + i * step for i in range(int(round((hi - lo) / step)) + 1)]
    return lo, hi, ticks

def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value) * 100:.0f}%"
def _fmt_int(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"
def _short(x: Any) -> str:
    return x.strftime("%b %d") if isinstance(x, date) else str(x)
def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
