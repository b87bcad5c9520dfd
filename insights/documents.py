"""The briefing as a Word document, headed by its date, ready to paste into a parliamentary reply."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from docx import Document
from docx.document import Document as DocxDocument

from funding.selectors import BudgetYearFigures
from insights.selectors import Briefing, EvaluationsRow, KpisRow, LessonsRow, RenewalRow, ReportsRow

STAGES = {"planned": "planned", "in_progress": "in progress", "reporting": "reporting", "completed": "completed"}


def _number(value: Any) -> str:
    """12 rather than 12,00; 62,5 stays 62,50 (as the pages show it)."""
    whole = value == value.to_integral_value()
    return number_format(value, decimal_pos=0 if whole else 2, force_grouping=True)


def _amount(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=0, force_grouping=True)} EUR"


def briefing_docx(data: Briefing) -> bytes:
    """Render `insights.selectors.briefing()` in the active language."""
    document = Document()
    day = date_format(data["as_of"], "j F Y")
    document.add_heading(_("Cluster pacts: the situation on %(day)s") % {"day": day}, level=0)
    document.add_paragraph(data["summary"])
    _evaluation_stages(document, data["evaluations"])
    _kpis(document, data["reports"], data["kpis"])
    _lessons(document, data["lessons"])
    _renewals(document, data["renewals"])
    _budget(document, data["budget"])
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _evaluation_stages(document: DocxDocument, clusters: list[EvaluationsRow]) -> None:
    document.add_heading("1. " + _("In what stage is each evaluation of the cluster pacts?"), level=1)
    for row in clusters:
        for evaluation in row["evaluations"]:
            stage = _(STAGES[evaluation["stage"]])
            if evaluation["completed_on"]:
                stage += " " + date_format(evaluation["completed_on"], "SHORT_DATE_FORMAT")
            document.add_paragraph(
                f"{row['cluster_name']} — {evaluation['title']} "
                f"({evaluation['period_start']:%Y}-{evaluation['period_end']:%Y}): {stage}",
                style="List Bullet",
            )


def _kpis(document: DocxDocument, reports: list[ReportsRow], kpis: list[KpisRow]) -> None:
    """Where each cluster's reports stand, then a table of the KPIs of its latest working year."""
    document.add_heading("2. " + _("How do the KPIs evolve, and how are the goals met?"), level=1)
    for reported in reports:
        stand = ", ".join(
            f"{report['year']}: {_('not started') if report['status'] == 'missing' else _(report['status'])}"
            + (f" ({_('overdue')})" if report["overdue"] else "")
            for report in reported["reports"]
        )
        document.add_paragraph(f"{reported['cluster_name']} — {stand}", style="List Bullet")
    for row in kpis:
        years = [point["year"] for point in row["kpis"][0]["years"]] if row["kpis"] else []
        if not years:
            continue
        document.add_heading(
            f"{row['cluster_name']} — "
            + _("KPI evolution %(first)s–%(last)s: value / target")  # noqa: RUF001 - the en dash of a year range
            % {"first": years[0], "last": years[-1]},
            2,
        )
        table = document.add_table(rows=1, cols=len(years) + 2)
        titles = [_("KPI"), *(str(year) for year in years), _("Of target") + f" {row['year']}"]
        for cell, title in zip(table.rows[0].cells, titles, strict=True):
            cell.text = title
        for kpi in row["kpis"]:
            cells = table.add_row().cells
            cells[0].text = f"{kpi['code']} {kpi['name']}"
            for cell, point in zip(cells[1:], kpi["years"], strict=False):
                value = "—" if point["value"] is None else _number(point["value"])
                if point["status"] == "pending":
                    value += f" ({_('pending')})"
                target = "—" if point["target"] is None else _number(point["target"])
                cell.text = f"{value} / {target}"
            cells[-1].text = "—" if kpi["achievement"] is None else f"{kpi['achievement']} %"


def _lessons(document: DocxDocument, clusters: list[LessonsRow]) -> None:
    document.add_heading("3. " + _("What lessons came out, and how are they carried into the pacts?"), level=1)
    for row in clusters:
        for lesson in row["lessons"]:
            signed_on = lesson["carried_into_signed_on"]
            where = (
                _("carried into pact version %(version)s (signed %(day)s)")
                % {"version": lesson["carried_into_version"], "day": date_format(signed_on, "SHORT_DATE_FORMAT")}
                if signed_on is not None
                else _("not yet carried into a pact")
            )
            kind = _("good practice") if lesson["kind"] == "good_practice" else _("bottleneck")
            document.add_paragraph(f"{row['cluster_name']} — {kind}: {lesson['text']} ({where})", style="List Bullet")


def _renewals(document: DocxDocument, clusters: list[RenewalRow]) -> None:
    document.add_heading("4. " + _("When are the agreements renewed, and which reach the 10-year cap?"), level=1)

    def short(day: Any) -> str:
        return date_format(day, "SHORT_DATE_FORMAT")

    for row in clusters:
        if row.get("agreement"):
            state = {
                "final_term": _("final term: ends on the cap"),
                "renewal_due": _("renewal due"),
                "running": _("running"),
                "ended": _("ended"),
            }[row["state"]]
            document.add_paragraph(
                f"{row['cluster_name']} — {row['agreement']}: "
                f"{short(row['end_date'])}; {_('Cap date')}: "
                f"{short(row['cap_date'])} ({state})",
                style="List Bullet",
            )
        if not (row["chain"] or row["pacts"]):
            continue
        links = []
        for link in row["chain"]:
            text = f"{link['reference']} {short(link['start_date'])} \u2013 {short(link['end_date'])}"
            if link["extends"] and link["rests_on"]:
                text += (
                    " ("
                    + _("on the basis of the interim evaluation “%(title)s” completed %(day)s")
                    % {
                        "title": link["rests_on"]["title"],
                        "day": short(link["rests_on"]["completed_on"]),
                    }
                    + ")"
                )
            links.append(text)
        parts = []
        if row["first_start"]:
            parts.append(_("first start %(day)s") % {"day": short(row["first_start"])})
        if links:
            parts.append(_("Agreements") + ": " + "; ".join(links))
        if row["next_renewal_on"]:
            parts.append(_("Next extension from") + " " + short(row["next_renewal_on"]))
        if row["pacts"]:
            parts.append(
                _("Pact versions signed")
                + ": "
                + ", ".join(
                    _("version %(version)s (%(day)s)") % {"version": p["version"], "day": short(p["signed_on"])}
                    for p in row["pacts"]
                )
            )
        document.add_paragraph(f"{row['cluster_name']}: " + ". ".join(parts), style="List Bullet 2")


def _budget(document: DocxDocument, years: list[BudgetYearFigures]) -> None:
    document.add_heading("5. " + _("What budget is foreseen for the coming years?"), level=1)
    for year in years:
        undecided = "" if year.decided else f" ({_('nothing allocated by this day')})"
        document.add_paragraph(
            f"{year.year}{undecided}: {_('Envelope')} {_amount(year.envelope)}; {_('Reserved for the clusters')} "
            f"{_amount(year.reserved)}; {_('Inter-cluster projects')} {_amount(year.inter_cluster)}; "
            f"{_('Other initiatives')} {_amount(year.other)}; {_('Remaining')} {_amount(year.remaining)}",
            style="List Bullet",
        )
    for year in years:
        _reservations(document, year)


def _remaining(remaining: Decimal, over: Decimal) -> str:
    """What is left, or how much more was decided (as the pages mark it)."""
    return _("%(amount)s over") % {"amount": _amount(over)} if over else _amount(remaining)


def _reservations(document: DocxDocument, year: BudgetYearFigures) -> None:
    """A year's reservations with the projects decided against them by the day, and the inter-cluster
    allocation with its projects (as the page's table, `insights/partials/reservations.html`)."""
    inter = bool(year.inter_cluster or year.inter_cluster_projects)
    if not (year.reservations or inter):
        return
    document.add_heading(_("%(year)s: reservations and projects decided against them") % {"year": year.year}, level=2)
    table = document.add_table(rows=1, cols=5)
    titles = [_("Cluster"), _("Reserved"), _("Decided"), _("Projects"), _("Remaining")]
    for cell, title in zip(table.rows[0].cells, titles, strict=True):
        cell.text = title
    lines = [
        (r.cluster_name, r.amount, r.decided, r.projects, _remaining(r.remaining, r.over)) for r in year.reservations
    ]
    if inter:
        lines.append(
            (
                _("Inter-cluster allocation"),
                year.inter_cluster,
                year.inter_cluster_decided,
                year.inter_cluster_projects,
                _remaining(year.inter_cluster_remaining, year.inter_cluster_over),
            )
        )
    for name, reserved, decided, count, remaining in lines:
        cells = table.add_row().cells
        for cell, text in zip(cells, (name, _amount(reserved), _amount(decided), str(count), remaining), strict=True):
            cell.text = text
