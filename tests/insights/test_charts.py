"""The server-drawn SVG charts: axis scales, and where each bar, mark, line and span lands."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from insights import charts
from insights.charts import Column, HBar, Lane, Milestone, Series, Span

# --- nice_scale ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "maximum", "step"),
    [(0, 1, 0.25), (-5, 1, 0.25), (7, 8, 2), (73, 80, 20), (100, 100, 25), (1234, 1500, 500), (0.3, 0.3, 0.1)],
)
def test_nice_scale_gives_a_round_maximum_and_step(top, maximum, step):
    assert charts.nice_scale(top) == (pytest.approx(maximum), pytest.approx(step))


@pytest.mark.parametrize("top", [0.004, 0.3, 0.7, 1, 2.4, 3, 7, 9, 10, 11, 73, 99.5, 101, 1234, 87_654, 4e6])
def test_nice_scale_maximum_is_the_first_round_step_at_or_above_top(top):
    maximum, step = charts.nice_scale(top)
    power = 10 ** math.floor(math.log10(step))
    assert round(step / power, 6) in {1, 2, 2.5, 5}, "the step is 1, 2, 2.5 or 5 times a power of ten"
    assert maximum >= top, "every figure fits under the axis"
    assert maximum - step < top, "...and the axis is not taller than it needs to be"
    ticks = maximum / step
    assert ticks == pytest.approx(round(ticks)), "the maximum is a whole number of steps"
    assert 1 <= round(ticks) <= 4, "at most the four ticks asked for"


# --- columns ---------------------------------------------------------------------------------------------


def plot_height(chart):
    return chart.plot_bottom - chart.plot_top


def test_a_column_is_as_high_as_its_share_of_the_axis():
    chart = charts.columns("Members", [Column("2023", 50), Column("2024", 100)])
    half, full = chart.rects
    assert half.height == pytest.approx(plot_height(chart) / 2)
    assert half.y == pytest.approx(chart.plot_bottom - plot_height(chart) / 2)
    assert full.height == pytest.approx(plot_height(chart))
    assert full.y == pytest.approx(chart.plot_top)


def test_a_missing_value_draws_no_bar_but_keeps_its_slot_and_target():
    chart = charts.columns(
        "CPI1", [Column("2022", 40, target=50), Column("2023", None, target=60), Column("2024", 80, target=70)]
    )
    assert [t.label for t in chart.x_ticks] == ["2022", "2023", "2024"], "every year keeps its slot"
    assert len(chart.rects) == 2
    slots = [t.at for t in chart.x_ticks]
    assert [r.x + r.width / 2 for r in chart.rects] == [pytest.approx(slots[0]), pytest.approx(slots[2])]
    assert len(chart.marks) == 3, "the target of the missing year is still drawn"
    assert (chart.marks[1].x1 + chart.marks[1].x2) / 2 == pytest.approx(slots[1])
    # The slots are evenly spread over the plot, the missing one included.
    assert slots[1] - slots[0] == pytest.approx(slots[2] - slots[1])


def test_target_marks_sit_at_the_targets_height():
    # Figures up to 120: the axis goes to 150, so a target of 120 is at 4/5 of the plot height.
    chart = charts.columns("CPI9", [Column("2023", 30, target=120), Column("2024", 75, target=None)])
    maximum, _step = charts.nice_scale(120)
    assert maximum == 150
    (mark,) = chart.marks
    expected = chart.plot_bottom - plot_height(chart) * 120 / 150
    assert mark.y1 == mark.y2 == pytest.approx(expected)
    assert mark.css == "target"
    bar = chart.rects[0]
    assert mark.x1 < bar.x and mark.x2 > bar.x + bar.width, "the target line reaches across its bar"
    assert chart.y_ticks[-1].at == pytest.approx(chart.plot_top), "the last tick is at the top of the axis"


def test_column_y_ticks_are_labelled_with_their_value(english):
    chart = charts.columns("Members", [Column("2024", 1234)])
    assert [t.label for t in chart.y_ticks] == ["0", "500", "1,000", "1,500"]
    assert chart.y_ticks[0].at == pytest.approx(chart.plot_bottom)
    assert chart.y_ticks[-1].at == pytest.approx(chart.plot_top)


@pytest.mark.parametrize(
    ("top", "values"), [(73, [0, 20, 40, 60, 80]), (10, [0, 2.5, 5, 7.5, 10]), (0.09, [0, 0.025, 0.05, 0.075, 0.1])]
)
def test_each_y_tick_label_reads_the_value_at_its_height(english, top, values):
    # A step of 2.5 (or 0.025) must keep its decimals: ticks at 2.5 and 7.5 must not read 2 and 8.
    chart = charts.columns("Events", [Column("2024", top)])
    assert [float(t.label.replace(",", "")) for t in chart.y_ticks] == [pytest.approx(v) for v in values]


def test_a_narrow_column_chart_is_smaller():
    wide = charts.columns("a", [Column("2024", 1)])
    narrow = charts.columns("a", [Column("2024", 1)], width=400)
    assert (narrow.width, narrow.plot_right) == (400, 388)
    assert narrow.height < wide.height


@pytest.mark.parametrize(
    "items", [[], [Column("2023", None)], [Column("2023", None, target=None), Column("2024", None)]]
)
def test_a_column_chart_without_figures_is_empty(items):
    chart = charts.columns("Nothing", items)
    assert chart.empty
    assert chart.rects == chart.marks == chart.y_ticks == []


# --- hbars -----------------------------------------------------------------------------------------------


def test_hbars_reference_line_and_widths_follow_the_scale():
    chart = charts.hbars(
        "CPI9", [HBar("Catalisti", 50), HBar("SIM", 150), HBar("VIL", None)], reference=100, unit=" %"
    )
    span = chart.plot_right - chart.plot_left
    # Figures up to 150: the axis goes to 150, so 100 sits at two thirds of the plot width.
    assert chart.reference.x1 == chart.reference.x2 == pytest.approx(chart.plot_left + span * 100 / 150)
    assert (chart.reference.y1, chart.reference.y2) == (chart.plot_top, chart.plot_bottom)
    assert chart.reference.title.endswith(" %")
    small, large = chart.rects
    assert small.x == large.x == chart.plot_left
    assert large.width == pytest.approx(span)
    assert large.width == pytest.approx(3 * small.width)
    assert [t.label for t in chart.y_ticks] == ["Catalisti", "SIM", "VIL"], "a row without value keeps its label"
    assert small.y < large.y, "rows go down in the given order"
    assert chart.x_ticks[-1].at == pytest.approx(chart.plot_right)


def test_hbars_without_values_draw_nothing():
    assert charts.hbars("x", [HBar("A", None)]).empty
    assert charts.hbars("x", []).empty
    assert charts.hbars("x", [HBar("A", None)], reference=100).empty, "a reference alone is nothing to show"


# --- lines -----------------------------------------------------------------------------------------------


def test_lines_skip_missing_values_and_colour_each_series():
    chart = charts.lines(
        "CPI9",
        ["2022", "2023", "2024"],
        [Series("Catalisti", [80, None, 120]), Series("SIM", [90, 100, 110]), Series("VIL", [None, None, None])],
        reference=100,
    )
    assert [line.label for line in chart.lines] == ["Catalisti", "SIM"], "a series without figures is not drawn"
    gappy, full = chart.lines
    assert len(gappy.points.split()) == 2 and len(gappy.dots) == 2
    assert len(full.points.split()) == 3 and len(full.dots) == 3
    assert gappy.colour != full.colour
    assert {gappy.colour, full.colour} <= set(charts.PALETTE)
    assert [label for _css, _colour, label in chart.legend] == ["Catalisti", "SIM"]
    assert [colour for _css, colour, _label in chart.legend] == [gappy.colour, full.colour]
    # Points sit on their year's tick; the gap year is skipped, not drawn at zero.
    xs = [t.at for t in chart.x_ticks]
    assert [x for x, _y, _c in gappy.dots] == [pytest.approx(xs[0]), pytest.approx(xs[2])]
    assert chart.reference.y1 == chart.reference.y2
    maximum, _ = charts.nice_scale(120)
    height = chart.plot_bottom - chart.plot_top
    assert chart.reference.y1 == pytest.approx(chart.plot_bottom - height * 100 / maximum)


@pytest.mark.parametrize(
    ("categories", "series"),
    [([], [Series("A", [])]), (["2024"], [Series("A", [None])]), (["2024"], [])],
)
def test_lines_without_figures_are_empty(categories, series):
    chart = charts.lines("x", categories, series)
    assert chart.empty and chart.legend == []


# --- timeline --------------------------------------------------------------------------------------------

START, END = date(2020, 1, 1), date(2029, 12, 31)


def timeline_x(chart, day):
    days = (END - START).days
    return chart.plot_left + (chart.plot_right - chart.plot_left) * (day - START).days / days


def test_a_span_is_placed_at_its_dates():
    span = Span(date(2022, 1, 1), date(2024, 12, 31), "agreement", "SO-1")
    chart = charts.timeline("Agreements", [Lane("SO-1", [span])], start=START, end=END)
    (rect,) = chart.rects
    assert rect.x == pytest.approx(timeline_x(chart, span.start))
    assert rect.x + rect.width == pytest.approx(timeline_x(chart, span.end))
    assert (rect.css, rect.title) == ("agreement", "SO-1")


def test_spans_and_milestones_outside_the_window_are_dropped_and_overlaps_clipped():
    lane = Lane(
        "Catalisti",
        [
            Span(date(2015, 1, 1), date(2019, 12, 31), "agreement", "before"),
            Span(date(2030, 1, 1), date(2032, 12, 31), "agreement", "after"),
            Span(date(2018, 1, 1), date(2020, 12, 31), "agreement", "overlapping"),
        ],
        [
            Milestone(date(2019, 12, 31), "cap", "too early"),
            Milestone(date(2029, 12, 31), "cap", "on the last day"),
        ],
    )
    chart = charts.timeline("Agreements", [lane], start=START, end=END)
    assert [r.title for r in chart.rects] == ["overlapping"]
    assert chart.rects[0].x == pytest.approx(chart.plot_left), "clipped at the window's start"
    assert chart.rects[0].x + chart.rects[0].width == pytest.approx(timeline_x(chart, date(2020, 12, 31)))
    assert [m.title for m in chart.marks] == ["on the last day"]
    assert chart.marks[0].x1 == chart.marks[0].x2 == pytest.approx(chart.plot_right)
    assert chart.notes == [], "a milestone before the window is simply dropped"


def test_a_milestone_after_the_window_is_not_drawn_but_named_beside_it():
    lanes = [
        Lane("A", [Span(START, END, "agreement", "")], [Milestone(date(2031, 6, 30), "cap", "Cap", note="6/30/2031")]),
        Lane("B", [Span(START, END, "agreement", "")], [Milestone(date(2029, 1, 1), "cap", "Cap B")]),
    ]
    chart = charts.timeline("Agreements", lanes, start=START, end=END)
    assert [m.title for m in chart.marks] == ["Cap B"], "no mark for the cap after the window"
    ((x, y, text),) = chart.notes
    assert text == "\u2192 6/30/2031"
    assert x > chart.plot_right, "beside the plot, not on it"
    assert y == pytest.approx(chart.y_ticks[0].at), "on its own lane"


def test_today_is_marked_only_inside_the_window():
    lane = [Lane("A", [Span(START, END, "agreement", "")])]
    inside = charts.timeline("t", lane, start=START, end=END, today=date(2025, 7, 1))
    assert inside.reference.css == "today"
    assert inside.reference.x1 == pytest.approx(timeline_x(inside, date(2025, 7, 1)))
    assert charts.timeline("t", lane, start=START, end=END, today=date(2030, 1, 1)).reference is None
    assert charts.timeline("t", lane, start=START, end=END, today=START - timedelta(days=1)).reference is None
    assert charts.timeline("t", lane, start=START, end=END).reference is None


def test_year_ticks_are_on_the_first_of_january():
    chart = charts.timeline("t", [Lane("A")], start=date(2020, 3, 15), end=date(2024, 6, 30))
    assert [t.label for t in chart.x_ticks] == ["2021", "2022", "2023", "2024"], "2020 started before the window"
    days = (date(2024, 6, 30) - date(2020, 3, 15)).days
    for tick in chart.x_ticks:
        offset = (date(int(tick.label), 1, 1) - date(2020, 3, 15)).days
        assert tick.at == pytest.approx(chart.plot_left + (chart.plot_right - chart.plot_left) * offset / days)


def test_a_long_timeline_thins_its_year_ticks():
    chart = charts.timeline("t", [Lane("A")], start=date(2000, 1, 1), end=date(2029, 12, 31))
    assert [t.label for t in chart.x_ticks] == [str(y) for y in range(2000, 2030, 3)]


def test_a_timeline_with_nothing_in_the_window_is_empty():
    lane = Lane(
        "A", [Span(date(2010, 1, 1), date(2012, 1, 1), "agreement", "")], [Milestone(date(2012, 1, 1), "cap", "")]
    )
    assert charts.timeline("t", [lane], start=START, end=END).empty
    assert charts.timeline("t", [], start=START, end=END, today=date(2025, 1, 1)).empty
    assert charts.timeline("t", [Lane("")], start=START, end=END).plot_left == 12, "no labels, no label column"


# --- the template --------------------------------------------------------------------------------------


def test_the_svg_template_draws_an_accessible_chart_with_a_rect_per_bar():
    chart = charts.columns(
        'Members <b>&</b> "friends"',
        [Column("2022", 5, title="2022: 5"), Column("2023", None, target=4), Column("2024", 8, target=6)],
        legend=[("bar", "accepted value")],
    )
    with translation.override("nl"):
        svg = render_to_string("insights/charts/svg.html", {"chart": chart})
    assert 'role="img"' in svg
    assert "<title>Members &lt;b&gt;&amp;&lt;/b&gt; &quot;friends&quot;</title>" in svg
    assert 'aria-label="Members &lt;b&gt;&amp;&lt;/b&gt; &quot;friends&quot;"' in svg
    assert "<b>" not in svg
    assert svg.count("<rect ") == len(chart.rects) == 2
    assert svg.count('<line class="target"') == 2
    assert f'viewBox="0 0 {chart.width} {chart.height}"' in svg
    assert "<title>2022: 5</title>" in svg
    assert '<ul class="legend"><li><span class="key bar"></span>accepted value</li></ul>' in svg
    # Coordinates are written with a point, whatever the language: SVG does not read "12,5".
    heights = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    assert [float(h) for h in heights] == [pytest.approx(r.height, abs=0.05) for r in chart.rects]


def test_the_svg_template_says_so_when_a_chart_has_no_figures(english):
    html = render_to_string("insights/charts/svg.html", {"chart": charts.columns("CPI1", [Column("2024", None)])})
    assert "<svg" not in html
    assert "No figures yet." in html


def test_lines_past_the_palette_repeat_its_colours_dashed_so_no_two_series_look_alike():
    series = [Series(f"Cluster {n}", [n, n + 1]) for n in range(len(charts.PALETTE) + 2)]
    chart = charts.lines("many", ["2024", "2025"], series)
    looks = [(line.colour, line.dash) for line in chart.lines]
    assert len(set(looks)) == len(series)
    assert chart.lines[len(charts.PALETTE)].colour == chart.lines[0].colour
    assert chart.lines[len(charts.PALETTE)].dash and not chart.lines[0].dash
    html = render_to_string("insights/charts/svg.html", {"chart": chart})
    assert html.count("stroke-dasharray=") == 2


# --- legible on a phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [400, 420, charts.WIDTH])
def test_chart_text_is_drawn_at_11_px_or_more_at_the_charts_smallest_width(width):
    chart = charts.Chart(title="t", width=width)
    assert chart.font_size * chart.min_width / chart.width >= 11
    assert chart.font_size <= 15, "and not oversized where the chart is drawn at its own width"


def test_the_svg_template_gives_the_chart_its_width_text_size_and_smallest_width(english):
    chart = charts.columns("C2", [Column("2024", 10)], width=400)
    svg = render_to_string("insights/charts/svg.html", {"chart": chart})
    assert f'width="400" font-size="{charts.FONT}" style="min-width: 300px"' in svg


def test_year_labels_that_would_run_into_each_other_are_thinned_from_the_first():
    years = [str(y) for y in range(2012, 2027)]
    chart = charts.columns("C2", [Column(y, 1) for y in years], width=400)
    labels = [t.label for t in chart.x_ticks]
    assert labels[0] == "2012" and len(labels) < len(years)
    gaps = [b.at - a.at for a, b in zip(chart.x_ticks, chart.x_ticks[1:], strict=False)]
    assert min(gaps) >= charts.text_width("2012")
    assert len(chart.rects) == len(years), "every year keeps its column"


def test_long_labels_get_room_left_of_the_plot():
    bars = charts.hbars("C2", [HBar("De Blauwe Cluster", 80), HBar("SIM", 120)], reference=100)
    assert bars.plot_left >= charts.text_width("De Blauwe Cluster")
    amounts = charts.columns("PRJ1", [Column("2024", 13_780_800)], width=400)
    widest = max(charts.text_width(t.label) for t in amounts.y_ticks)
    assert amounts.plot_left - 6 >= widest, "the y axis's amounts fit left of the plot"


def test_the_plot_edges_are_whole_units_the_template_can_write_in_any_language():
    with translation.override("nl"):
        chart = charts.hbars("C2", [HBar("Flanders' FOOD", 80)], reference=100)
        svg = render_to_string("insights/charts/svg.html", {"chart": chart})
    assert isinstance(chart.plot_left, int) and isinstance(chart.plot_right, int)
    assert f'x1="{chart.plot_left}"' in svg


def test_a_spark_escapes_its_texts_and_draws_each_figure():
    """The briefing's sparks are written in Python (`spark_svg`): the KPI's name, the years' tooltips and the
    labels are escaped, the figures drawn as rects and target ticks."""
    evil = "<script>alert(1)</script>"
    items = [
        Column(label="2024", value=Decimal("4"), css="bar", target=Decimal("8"), title=f"2024 {evil}"),
        Column(label=evil, value=None, css="bar-pending", target=Decimal("2"), title="2025"),
    ]
    svg = str(charts.spark_svg(charts.spark(f"K1 {evil} & co", items)))
    assert "<script>" not in svg
    assert svg.count("&lt;script&gt;") == 4  # aria-label, title, the first rect's tooltip, the last label
    assert "&amp; co" in svg
    assert svg.count("<rect ") == 1 and svg.count('<line class="target"') == 2
    # The value 4 of a top of 8 is half the plot's height high.
    chart = charts.spark("K1", items)
    assert f'height="{chart.rects[0].height:.1f}"' in str(charts.spark_svg(chart))
    assert chart.rects[0].height == pytest.approx((chart.plot_bottom - chart.plot_top) / 2)
