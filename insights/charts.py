"""Charts drawn on the server as SVG: no script, no internet, and they print.

Each function turns figures into geometry (coordinates in a fixed viewBox that scales with the page);
the templates in `insights/templates/insights/charts/` draw it. A chart never stands alone: the page
puts the same figures in a table beside it, for screen readers and for print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# The palette for series that have no meaning of their own (clusters in a comparison): distinguishable
# by colour-blind readers (Okabe-Ito). Past eight series the colours repeat with a dashed, then dotted line.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")

WIDTH = 640
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 12, 28
# A chart scales with the page, its text with it. It never shrinks below MIN_SCALE of its width (it scrolls
# sideways instead) nor grows past its width, and its text is FONT units: so a label is drawn at
# FONT * MIN_SCALE = 11.25 px at the least (the smallest text a phone should show), 15 px at the most.
MIN_SCALE = 0.75
FONT = 15
# An estimate of a label's width in FONT units per character (digits and most letters of a sans-serif are
# narrower), to leave room for the labels and to skip some when they would run into each other.
CHAR_WIDTH = 0.62


def text_width(label: str) -> float:
    """About how wide `label` is drawn, in the chart's units."""
    return len(label) * FONT * CHAR_WIDTH


def _room_for(labels: Sequence[str], at_least: float, at_most: float) -> int:
    """Room beside the plot for the widest of `labels` and a small gap, within the given bounds: whole units,
    as the template writes the plot's edges unformatted (a localised "140,2" is no SVG length)."""
    widest = max((text_width(label) for label in labels), default=0.0)
    return math.ceil(min(max(at_least, widest + 10), at_most))


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    fill: str = ""


@dataclass(frozen=True)
class Mark:
    """A short horizontal line (a target) or a point."""

    x1: float
    y1: float
    x2: float
    y2: float
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    points: str
    colour: str
    label: str
    dots: tuple[tuple[float, float, str], ...] = ()
    dash: str = ""


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = 220
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    reference: Mark | None = None
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (css, colour, label)
    notes: list[tuple[float, float, str]] = field(default_factory=list)  # text at (x, y), right-aligned
    plot_left: float = PAD_LEFT
    plot_right: float = WIDTH - PAD_RIGHT
    plot_top: float = PAD_TOP
    plot_bottom: float = 0
    grid: str = "y"  # gridlines across the numeric axis: "y" (columns, lines) or "x" (bars, timelines)

    @property
    def min_width(self) -> int:
        """Below this many pixels the labels get too small to read: the chart scrolls sideways instead."""
        return math.ceil(self.width * MIN_SCALE)

    @property
    def font_size(self) -> int:
        return FONT

    def thin_x_ticks(self) -> None:
        """Keep every n-th label on the x axis when the labels would run into each other (a year per tick
        on a narrow chart); the first is always kept."""
        if len(self.x_ticks) < 2:
            return
        spacing = min(b.at - a.at for a, b in zip(self.x_ticks, self.x_ticks[1:], strict=False))
        widest = max(text_width(t.label) for t in self.x_ticks) + FONT * 0.5
        every = math.ceil(widest / spacing) if spacing > 0 else 1
        if every > 1:
            self.x_ticks = self.x_ticks[::every]

    @property
    def empty(self) -> bool:
        return not (self.rects or self.marks or self.lines or self.notes)


def _label(value: float, decimals: int = 0) -> str:
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _decimals(step: float) -> int:
    """As many decimals as the step needs to be read exactly: 2.5 -> 1, 0.025 -> 3, 20 -> 0."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def nice_scale(top: float, ticks: int = 4) -> tuple[float, float]:
    """An axis maximum at or above `top` and a round step (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0, 0.25
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(top / step - 1e-9), step


def _y_axis(chart: Chart, top: float) -> tuple[float, Callable[[float], float]]:
    maximum, step = nice_scale(top)
    height = chart.plot_bottom - chart.plot_top
    decimals = _decimals(step)

    def y(value: float) -> float:
        return chart.plot_bottom - height * max(0.0, min(value, maximum)) / maximum

    n = round(maximum / step)
    chart.y_ticks = [Tick(y(i * step), _label(i * step, decimals)) for i in range(n + 1)]
    # Room for the widest label left of the plot (amounts in EUR run to ten characters).
    chart.plot_left = _room_for([t.label for t in chart.y_ticks], chart.plot_left, chart.width * 0.3)
    return maximum, y


def _number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Column:
    """One category on the x axis: a bar (with its style) and an optional target marker."""

    label: str
    value: Decimal | float | int | None
    css: str = "bar"
    target: Decimal | float | int | None = None
    title: str = ""


def columns(
    title: str, items: Sequence[Column], *, legend: Sequence[tuple[str, str]] = (), width: int = WIDTH
) -> Chart:
    """A column per item, with its target drawn as a line across it when there is one.

    A narrower `width` draws the same chart with larger text, for charts shown side by side.
    """
    chart = Chart(title=title, width=width, height=170 if width < WIDTH else 200)
    chart.plot_right = width - PAD_RIGHT
    chart.plot_left = PAD_LEFT if width >= WIDTH else 44
    chart.plot_bottom = chart.height - PAD_BOTTOM
    chart.legend = [(css, "", label) for css, label in legend]
    figures = [v for item in items for v in (_number(item.value), _number(item.target)) if v is not None]
    if not figures:
        return chart
    _maximum, y = _y_axis(chart, max(figures))
    slot = (chart.plot_right - chart.plot_left) / max(len(items), 1)
    bar = min(slot * 0.6, 48)
    for i, item in enumerate(items):
        centre = chart.plot_left + slot * (i + 0.5)
        chart.x_ticks.append(Tick(centre, item.label))
        value = _number(item.value)
        if value is not None:
            top = y(value)
            chart.rects.append(Rect(centre - bar / 2, top, bar, chart.plot_bottom - top, item.css, item.title))
        target = _number(item.target)
        if target is not None:
            ty = y(target)
            chart.marks.append(Mark(centre - bar / 2 - 5, ty, centre + bar / 2 + 5, ty, "target", item.title))
    chart.thin_x_ticks()
    return chart


@dataclass(frozen=True)
class Part:
    value: Decimal | float | int | None
    css: str
    title: str = ""


@dataclass(frozen=True)
class Stack:
    """One column made of parts stacked from the bottom (a year's envelope and how it is spent)."""

    label: str
    parts: Sequence[Part]


def stacked(title: str, items: Sequence[Stack], *, legend: Sequence[tuple[str, str]] = ()) -> Chart:
    chart = Chart(title=title, height=220)
    chart.plot_bottom = chart.height - PAD_BOTTOM
    chart.legend = [(css, "", label) for css, label in legend]
    totals = [sum(max(_number(p.value) or 0.0, 0.0) for p in item.parts) for item in items]
    if not any(totals):
        return chart
    _maximum, y = _y_axis(chart, max(totals))
    slot = (chart.plot_right - chart.plot_left) / len(items)
    bar = min(slot * 0.6, 56)
    for i, item in enumerate(items):
        centre = chart.plot_left + slot * (i + 0.5)
        chart.x_ticks.append(Tick(centre, item.label))
        base = 0.0
        for part in item.parts:
            value = max(_number(part.value) or 0.0, 0.0)
            if value:
                chart.rects.append(
                    Rect(centre - bar / 2, y(base + value), bar, y(base) - y(base + value), part.css, part.title)
                )
            base += value
    chart.thin_x_ticks()
    return chart


@dataclass(frozen=True)
class HBar:
    label: str
    value: Decimal | float | int | None
    css: str = "bar"
    title: str = ""


def hbars(
    title: str, items: Sequence[HBar], *, reference: float | None = None, unit: str = "", width: int = 420
) -> Chart:
    """Horizontal bars, one per row (clusters compared), with an optional reference line (100 %)."""
    row = 26
    chart = Chart(title=title, width=width, height=PAD_TOP + row * max(len(items), 1) + PAD_BOTTOM)
    chart.plot_left = _room_for([item.label for item in items], 60, width * 0.45)
    chart.plot_right, chart.grid = width - 20, "x"
    chart.plot_bottom = chart.height - PAD_BOTTOM
    figures = [v for v in (_number(i.value) for i in items) if v is not None]
    if reference is not None:
        figures.append(reference)
    if not figures:
        return chart
    maximum, step = nice_scale(max(figures))
    span = chart.plot_right - chart.plot_left

    def x(value: float) -> float:
        return chart.plot_left + span * max(0.0, min(value, maximum)) / maximum

    chart.x_ticks = [
        Tick(x(i * step), _label(i * step, _decimals(step)) + unit) for i in range(round(maximum / step) + 1)
    ]
    for i, item in enumerate(items):
        top = chart.plot_top + row * i
        chart.y_ticks.append(Tick(top + row / 2, item.label))
        value = _number(item.value)
        if value is not None:
            chart.rects.append(
                Rect(chart.plot_left, top + 4, x(value) - chart.plot_left, row - 8, item.css, item.title)
            )
    chart.thin_x_ticks()
    if reference is not None:
        rx = x(reference)
        chart.reference = Mark(rx, chart.plot_top, rx, chart.plot_bottom, "reference", _label(reference) + unit)
    return chart


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal | float | int | None]


def lines(title: str, categories: Sequence[str], series: Sequence[Series], *, reference: float | None = None) -> Chart:
    """One line per series over the categories (years); gaps where a value is missing."""
    chart = Chart(title=title, height=240)
    chart.plot_bottom = chart.height - PAD_BOTTOM
    figures = [v for s in series for v in map(_number, s.values) if v is not None]
    if reference is not None:
        figures.append(reference)
    if not figures or not categories:
        return chart
    _maximum, y = _y_axis(chart, max(figures))
    slot = (chart.plot_right - chart.plot_left) / len(categories)
    xs = [chart.plot_left + slot * (i + 0.5) for i in range(len(categories))]
    chart.x_ticks = [Tick(x, label) for x, label in zip(xs, categories, strict=True)]
    chart.thin_x_ticks()
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        dash = ("", "6 3", "2 3")[min(n // len(PALETTE), 2)]
        points = [(x, y(v)) for x, v in zip(xs, map(_number, s.values), strict=True) if v is not None]
        if not points:
            continue
        chart.lines.append(
            Line(
                points=" ".join(f"{px:.1f},{py:.1f}" for px, py in points),
                colour=colour,
                label=s.label,
                dots=tuple((px, py, colour) for px, py in points),
                dash=dash,
            )
        )
        key = f"repeating-linear-gradient(90deg, {colour} 0 4px, transparent 4px 6px)" if dash else colour
        chart.legend.append(("line", key, s.label))
    if reference is not None:
        ry = y(reference)
        chart.reference = Mark(chart.plot_left, ry, chart.plot_right, ry, "reference", _label(reference))
    return chart


@dataclass(frozen=True)
class Span:
    start: date
    end: date
    css: str
    title: str


@dataclass(frozen=True)
class Milestone:
    on: date
    css: str
    title: str
    note: str = ""  # said at the right edge when the milestone falls after the window


@dataclass(frozen=True)
class Lane:
    label: str
    spans: Sequence[Span] = ()
    milestones: Sequence[Milestone] = ()


def timeline(title: str, lanes: Sequence[Lane], *, start: date, end: date, today: date | None = None) -> Chart:
    """Lanes of periods (agreements) and milestones (cap dates) on a calendar axis with a tick per year."""
    row = 30
    chart = Chart(title=title, height=PAD_TOP + row * max(len(lanes), 1) + PAD_BOTTOM)
    labels = [lane.label for lane in lanes if lane.label]
    chart.plot_left = _room_for(labels, 60, chart.width * 0.35) if labels else 12
    chart.grid = "x"
    later = [f"\u2192 {m.note or m.on.isoformat()}" for lane in lanes for m in lane.milestones if m.on > end]
    if later:  # room beside the plot for the milestones that fall after it
        chart.plot_right -= _room_for(later, 0, chart.width * 0.25)
    chart.plot_bottom = chart.height - PAD_BOTTOM
    days = max((end - start).days, 1)
    span = chart.plot_right - chart.plot_left

    def x(day: date) -> float:
        return chart.plot_left + span * max(0, min((day - start).days, days)) / days

    first = start.year + (0 if (start.month, start.day) == (1, 1) else 1)
    years = list(range(first, end.year + 1))
    every = max(1, math.ceil(len(years) / 12))
    chart.x_ticks = [Tick(x(date(year, 1, 1)), str(year)) for year in years[::every]]
    chart.thin_x_ticks()
    for i, lane in enumerate(lanes):
        top = chart.plot_top + row * i
        chart.y_ticks.append(Tick(top + row / 2, lane.label))
        for s in lane.spans:
            if s.end < start or s.start > end:
                continue
            left = x(max(s.start, start))
            chart.rects.append(Rect(left, top + 6, max(x(min(s.end, end)) - left, 2), row - 12, s.css, s.title))
        for m in lane.milestones:
            if start <= m.on <= end:
                mx = x(m.on)
                chart.marks.append(Mark(mx, top + 2, mx, top + row - 2, m.css, m.title))
            elif m.on > end:  # after the window: said beside it, so no lane loses its milestone
                chart.notes.append((chart.width - 2, top + row / 2, f"\u2192 {m.note or m.on.isoformat()}"))
    if today is not None and start <= today <= end:
        tx = x(today)
        chart.reference = Mark(tx, chart.plot_top, tx, chart.plot_bottom, "today", "")
    return chart


def spark(title: str, items: Sequence[Column], *, width: int = 132, height: int = 44) -> Chart:
    """A column per item with its target as a tick, no axes: small enough to draw one per KPI and cluster
    on a page (the table beside it holds the figures). The first and the last label are written under it."""
    chart = Chart(title=title, width=width, height=height)
    chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom = 2, width - 2, 3, height - 13
    figures = [v for item in items for v in (_number(item.value), _number(item.target)) if v is not None]
    slot = (chart.plot_right - chart.plot_left) / max(len(items), 1)
    bar = min(slot * 0.6, 18)
    centres = [chart.plot_left + slot * (i + 0.5) for i in range(len(items))]
    if items:
        ends = {0, len(items) - 1}
        chart.x_ticks = [Tick(centres[i], items[i].label) for i in sorted(ends)]
    top = max(figures, default=0.0)
    if top <= 0:
        return chart
    span = chart.plot_bottom - chart.plot_top

    def y(value: float) -> float:
        return chart.plot_bottom - span * max(0.0, value) / top

    for centre, item in zip(centres, items, strict=True):
        value = _number(item.value)
        if value is not None:
            chart.rects.append(
                Rect(centre - bar / 2, y(value), bar, chart.plot_bottom - y(value), item.css, item.title)
            )
        target = _number(item.target)
        if target is not None:
            chart.marks.append(
                Mark(centre - bar / 2 - 3, y(target), centre + bar / 2 + 3, y(target), "target", item.title)
            )
    return chart


def _f(value: float) -> str:
    return f"{value:.1f}"


def spark_svg(chart: Chart) -> SafeString:
    """`spark` drawn as SVG in Python rather than through a template: a briefing draws one per KPI and cluster
    (170 on a page of the briefing at 3,000 clusters), and a template include each cost most of the page's
    time; so did `format_html` for each of its 4,000 elements. Here the texts (title, CSS class, labels) are
    escaped, once each, by `conditional_escape`; the rest are numbers this function formats itself."""
    esc = conditional_escape
    title = esc(chart.title)
    parts = [
        f'<svg class="chart spark" width="{chart.width}" height="{chart.height}" '
        f'viewBox="0 0 {chart.width} {chart.height}" role="img" aria-label="{title}"><title>{title}</title>'
    ]
    parts += [
        f'<rect class="{esc(r.css)}" x="{_f(r.x)}" y="{_f(r.y)}" width="{_f(r.width)}" height="{_f(r.height)}">'
        f"<title>{esc(r.title)}</title></rect>"
        for r in chart.rects
    ]
    parts += [
        f'<line class="target" x1="{_f(m.x1)}" y1="{_f(m.y1)}" x2="{_f(m.x2)}" y2="{_f(m.y2)}"/>' for m in chart.marks
    ]
    parts.append(
        f'<line class="baseline" x1="{_number_text(chart.plot_left)}" x2="{_number_text(chart.plot_right)}" '
        f'y1="{_number_text(chart.plot_bottom)}" y2="{_number_text(chart.plot_bottom)}"/>'
    )
    parts += [
        f'<text x="{_f(t.at)}" y="{_number_text(chart.height - 2)}" text-anchor="middle">{esc(t.label)}</text>'
        for t in chart.x_ticks
    ]
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - the texts are escaped above, the rest are numbers


def _number_text(value: float) -> str:
    """A coordinate as `format_html` wrote it (`str`), checked to be a number so that nothing else slips in."""
    if not isinstance(value, int | float):
        raise TypeError(f"a coordinate must be a number, not {value!r}")
    return str(value)
