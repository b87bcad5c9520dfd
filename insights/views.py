"""Read-only pages over all the domain apps. Nothing imports from here (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Prefetch, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from clusterpacts.models import (
    MISSING,
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    Workflow,
)
from clusterpacts.permissions import can_write_cluster_documents, get_cluster_by_slug_for_user
from clusterpacts.selectors import DerivedFigures, plan_slots, report_slot_counts, report_slots
from core.roles import User, is_officer, is_reader
from evaluations.models import Evaluation
from funding.models import Flag, SupportAgreement
from funding.selectors import (
    AgreementStanding,
    AgreementTerm,
    BudgetYearFigures,
    ReservationUse,
    agreement_standing,
    agreement_standings,
    agreement_term,
)
from insights import charts
from insights.selectors import Briefing, BriefingDetail, ClusterSeries, KpiItem, KpiPoint, KpiSeries, KpisRow


@require_safe
@login_required
def cluster_home(request: HttpRequest, slug: str) -> HttpResponse:
    """A cluster at a glance and over the years: pact, agreement chain, KPIs, members, evaluations, lessons."""
    from evaluations.models import Finding, Lesson
    from insights.selectors import cluster_projects, kpi_evolution, members_by_year

    cluster = get_cluster_by_slug_for_user(request.user, slug)
    today = timezone.localdate()
    pacts = list(
        ClusterPact.objects.filter(cluster=cluster)
        .prefetch_related(Prefetch("commitments", queryset=Commitment.objects.order_by("party", "id")))
        .annotate(lesson_count=Count("lessons"))
        .order_by("-version")
    )
    pact = next((p for p in pacts if p.status == ClusterPact.Status.SIGNED), None)
    agreements = list(SupportAgreement.objects.filter(cluster=cluster).order_by("start_date"))
    reports = list(AnnualReport.objects.filter(cluster=cluster).order_by("-year"))
    working_year = today.year - 1
    start_year = cluster.started_on.year if cluster.started_on else working_year
    slots = report_slots(clusters=Cluster.objects.filter(pk=cluster.pk), as_of=today)
    # The report due next (the earliest due day from today on): the manager's link to this year's report,
    # which opens the new report's page while it is not started.
    due_next = min((slot for slot in slots if slot.due_on >= today), key=lambda slot: slot.due_on, default=None)
    # The ended working years never started are offered; the running year's report is not due yet.
    missing_years = [
        slot.year for slot in slots if slot.status == MISSING and slot.year <= working_year and slot is not due_next
    ]
    years = list(range(min(start_year, today.year), today.year + 1))
    evolution = kpi_evolution(cluster=cluster, years=years)
    members = members_by_year(cluster=cluster, years=years, today=today)
    evaluations = list(
        Evaluation.objects.filter(cluster=cluster)
        .prefetch_related(
            Prefetch("findings", queryset=Finding.objects.order_by(_criterion_order(), "id")),
            Prefetch("lessons", queryset=Lesson.objects.select_related("carried_into").order_by("kind", "id")),
        )
        .order_by("-period_end", "-period_start")
    )
    project_years = cluster_projects(user=request.user, cluster=cluster, as_of=today)
    reservations = [py.use for py in reversed(project_years) if py.use is not None]
    context = {
        "cluster": cluster,
        "today": today,
        "pact": pact,
        "pacts": pacts,
        "agreements": agreements,
        "running": _running(agreement_standing(cluster=cluster, as_of=today)),
        "agreement_chart": _agreement_timeline(agreements, today),
        "reports": reports,
        "missing_years": missing_years,
        # This year's plan and next year's, with the state each has today (plan_slots, as every reader).
        "plans": plan_slots(
            clusters=Cluster.objects.filter(pk=cluster.pk), as_of=today, years=[today.year, today.year + 1]
        ),
        "due_next": due_next,
        "overdue_years": [slot.year for slot in slots if slot.overdue],
        "working_year": working_year,
        "targets": [
            (row["kpi"], p["target"]) for row in evolution for p in row["years"][-1:] if p["target"] is not None
        ],
        "evolution": [_with_how({**row, "chart": _kpi_chart(row)}, members) for row in evolution],
        "members": members[-1].figures,
        "members_by_year": members,
        # An officer is warned of the working years whose derived KPIs cannot be computed.
        "no_membership_years": [row.year for row in members if not row.has_data]
        if is_officer(request.user) and any(row["kpi"].is_derived for row in evolution)
        else [],
        "members_chart": _members_chart(members),
        "flags": Flag.objects.open().filter(cluster=cluster).order_by("due_on"),
        "evaluations": evaluations,
        "can_write": can_write_cluster_documents(request.user, cluster),
        "cluster_query": urlencode({"cluster": cluster.pk}),
        # The years something was decided in (the reservations' table has every year with a reservation).
        "project_years": [py for py in project_years if py.projects],
        "reservations": reservations,
        "reservation_chart": _reservation_chart(reservations),
    }
    return render(request, "insights/cluster_home.html", context)


def _reservation_chart(uses: list[ReservationUse]) -> charts.Chart | None:
    """Per year, what was decided in projects against the cluster's reservation (a column, drawn in the
    warning colour when it passes the reservation) and the reservation (a line across it), in M EUR."""
    if not uses:
        return None
    million = Decimal(1_000_000)
    items = []
    for use in uses:
        title = gettext("%(year)s: %(decided)s M decided, %(reserved)s M reserved") % {
            "year": use.year,
            "decided": number_format(use.decided / million, 2, use_l10n=True),
            "reserved": number_format(use.reserved / million, 2, use_l10n=True),
        }
        if use.over:
            title += " (" + gettext("%(over)s M over") % {"over": number_format(use.over / million, 2, use_l10n=True)}
            title += ")"
        items.append(
            charts.Column(
                label=str(use.year),
                value=use.decided / million,
                css="bar-over" if use.over else "bar",
                target=use.reserved / million,
                title=title,
            )
        )
    legend = [("bar", gettext("decided in projects"))]
    if any(use.over for use in uses):
        legend.append(("bar-over", gettext("decided beyond the reservation")))
    legend.append(("target", gettext("reservation")))
    return charts.columns(
        gettext("Projects decided against the reservation (million EUR)"), items, legend=legend, width=400
    )


def _with_how(row: dict[str, Any], members: list[DerivedFigures]) -> dict[str, Any]:
    """A KPI's evolution with, per year, the figures a derived KPI was computed from (None for a reported one)."""
    how: list[DerivedFigures | None] = list(members) if row["kpi"].is_derived else [None] * len(row["years"])
    return {**row, "points": list(zip(row["years"], how, strict=True))}


def _running(standing: AgreementStanding | None) -> SupportAgreement | None:
    """The agreement running on the standing's day, if one is."""
    return standing.agreement if standing and standing.running else None


def _criterion_order() -> Case:
    """Findings in the order the criteria are listed (the KPI categories), not alphabetically by code."""
    criteria = KpiDefinition.Category.values
    return Case(*(When(criterion=c, then=Value(n)) for n, c in enumerate(criteria)), default=Value(len(criteria)))


def _agreement_timeline(agreements: list[SupportAgreement], today: date) -> charts.Chart | None:
    """The chain of agreements from its start to the ten-year cap, one lane per agreement."""
    if not agreements:
        return None
    terms = [agreement_term(agreement) for agreement in agreements]
    last = terms[-1]  # carries the cap date
    end = max([last.cap_date, *(a.end_date for a in agreements)])
    lanes = [
        charts.Lane(
            t.agreement.reference, [_agreement_span(t, today)], [_cap_milestone(t.cap_date)] if t is last else []
        )
        for t in terms
    ]
    return charts.timeline(
        gettext("Support agreements up to the cap date"), lanes, start=agreements[0].chain_start, end=end, today=today
    )


def _agreement_span(term: AgreementTerm, today: date) -> charts.Span:
    """An agreement's bar: running or past, a term still to come, or the final term (ending on the cap)."""
    agreement = term.agreement
    css = "agreement-final" if term.final_term else "agreement"
    if agreement.start_date > today:
        css = "agreement-future"
    period = f"{date_format(agreement.start_date, 'SHORT_DATE_FORMAT')} \u2013 "
    period += date_format(agreement.end_date, "SHORT_DATE_FORMAT")
    return charts.Span(agreement.start_date, agreement.end_date, css, f"{agreement.reference}: {period}")


def _cap_milestone(cap: date) -> charts.Milestone:
    day = date_format(cap, "SHORT_DATE_FORMAT")
    return charts.Milestone(cap, "cap", gettext("Cap date %(date)s") % {"date": day}, note=day)


def _kpi_chart(row: KpiSeries) -> charts.Chart:
    kpi = row["kpi"]
    items = []
    for point in row["years"]:
        parts = [str(point["year"])]
        if point["value"] is not None:
            parts.append(gettext("value %(value)s") % {"value": number_format(point["value"], use_l10n=True)})
        if point["target"] is not None:
            parts.append(gettext("target %(value)s") % {"value": number_format(point["target"], use_l10n=True)})
        items.append(
            charts.Column(
                label=str(point["year"]),
                value=point["value"],
                css="bar-pending" if point["status"] == "pending" else "bar",
                target=point["target"],
                title=", ".join(parts),
            )
        )
    return charts.columns(f"{kpi.code} {kpi.name}", items, width=400)


def _kpi_rows(rows: list[KpisRow]) -> list[dict[str, Any]]:
    """The briefing's KPI tables: each cell's value and target formatted here, once per page
    (`insights.numbers.NumberFormat`, as `floatformat:"-2g"` would), and each KPI's evolution drawn."""
    from insights.numbers import NumberFormat

    number = NumberFormat()
    # The labels escaped once; the numbers are digits and separators only (`NumberFormat`).
    pending = format_html(' <span class="pending">({})</span>', gettext("pending"))
    target = conditional_escape(gettext("target"))

    def cells(kpi: KpiItem) -> SafeString:
        return mark_safe(  # noqa: S308 - the labels are escaped above, the rest are numbers
            "".join(
                f'<td class="num">{number(point["value"])}{pending if point["status"] == "pending" else ""}'
                f'<br><span class="meta">{target} {number(point["target"])}</span></td>'
                for point in kpi["years"]
            )
        )

    return [
        {
            **row,
            "years": [point["year"] for point in row["kpis"][0]["years"]] if row["kpis"] else [],
            "kpis": [
                {**kpi, "cells": cells(kpi), "chart": charts.spark_svg(_kpi_spark(kpi, number))} for kpi in row["kpis"]
            ],
        }
        for row in rows
    ]


def _kpi_spark(kpi: KpiItem, number: Callable[[Decimal | None], str]) -> charts.Chart:
    """A KPI's evolution in the briefing: the value of each working year (pending ones drawn as such) against
    its target."""
    value_label, target_label, pending = gettext("value %(value)s"), gettext("target %(value)s"), gettext("pending")
    items = []
    for point in kpi["years"]:
        parts = [str(point["year"])]
        if point["value"] is not None:
            parts.append(value_label % {"value": number(point["value"])})
            if point["status"] == "pending":
                parts[-1] += f" ({pending})"
        if point["target"] is not None:
            parts.append(target_label % {"value": number(point["target"])})
        items.append(
            charts.Column(
                label=str(point["year"]),
                value=point["value"],
                css="bar-pending" if point["status"] == "pending" else "bar",
                target=point["target"],
                title=", ".join(parts),
            )
        )
    return charts.spark(f"{kpi['code']} {kpi['name']}", items)


def _members_chart(rows: list[DerivedFigures]) -> charts.Chart:
    if not any(row.has_data for row in rows):
        rows = []  # no member in any year: say so rather than draw a row of empty columns
    return charts.columns(
        gettext("Members at the end of each year"),
        [
            charts.Column(label=str(row.year), value=row.figures.members, title=f"{row.year}: {row.figures.members}")
            for row in rows
        ],
        width=400,
    )


# The cluster list shows this many clusters a page.
CLUSTER_PAGE_SIZE = 50


@require_safe
@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    """The clusters the user may see, with their running agreement and open flags: a page at a time, by name,
    searchable by name, short name or domain (`?q=`)."""
    from core.paging import paginate

    today = timezone.localdate()
    query = request.GET.get("q", "").strip()
    clusters = Cluster.objects.for_user(request.user).order_by("name", "pk")
    if query:
        clusters = clusters.filter(Q(name__icontains=query) | Q(slug__icontains=query) | Q(domain__icontains=query))
    pager = paginate(request, clusters, per_page=CLUSTER_PAGE_SIZE)
    shown = list(pager.items)
    standings = agreement_standings(clusters=Cluster.objects.filter(pk__in=[c.pk for c in shown]), as_of=today)
    running = {pk: _running(standing) for pk, standing in standings.items()}
    open_flags = dict(
        Flag.objects.open()
        .filter(cluster__in=shown)
        .values("cluster")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("cluster", "n")
    )
    rows = [{"cluster": c, "running": running.get(c.pk), "flags": open_flags.get(c.pk, 0)} for c in shown]
    return render(request, "insights/cluster_list.html", {"rows": rows, "today": today, "pager": pager, "q": query})


@require_safe
@login_required
def briefing_page(request: HttpRequest) -> HttpResponse:
    """The parliamentary briefing as a page, in the reader's language (Dutch by default): the summary of the
    whole programme, then the detail of a page of clusters (`?page=`) or of one (`?cluster=` its short name
    or name)."""
    asked, invalid = _requested_day(request)
    as_of = asked or timezone.localdate()
    chosen, unknown = _chosen_cluster(request)
    data = _briefing(request, as_of, chosen)
    day = as_of.isoformat()
    # Every download carries the page's day: the export replays it as the briefing does (insights.exports).
    exports = {
        "evaluations": urlencode({"as_of": day}),
        "kpi_values": urlencode({"as_of": day}),
        "lessons": urlencode({"as_of": day}),
        "agreements": urlencode({"as_of": day}),
        "allocations": urlencode({"as_of": day}),
        "projects": urlencode({"as_of": day}),
    }
    detail = data["detail"]
    # The Word document holds what the page details: the same page, or the same cluster.
    docx = {"as_of": day}
    if chosen is not None:
        docx["cluster"] = chosen.slug
    elif detail["page"] > 1:
        docx["page"] = str(detail["page"])
    context = {
        "b": data,
        "as_of": as_of,
        "invalid": invalid,
        "chosen": chosen,
        "unknown_cluster": unknown,
        "paged": detail["pages"] > 1 or chosen is not None,
        "pager": _detail_pager(request, detail),
        "docx_query": urlencode(docx),
        "budget_chart": budget_chart(data["budget"]),
        "kpi_rows": _kpi_rows(data["kpis"]),
        "exports": exports,
    }
    return render(request, "insights/briefing.html", context)


def _chosen_cluster(request: HttpRequest) -> tuple[Cluster | None, bool]:
    """The cluster the briefing is asked to detail (`?cluster=`: its short name, or its name in any case),
    in the reader's scope: (the cluster or None, whether one was asked for and not found)."""
    asked = request.GET.get("cluster", "").strip()
    if not asked:
        return None, False
    found = Cluster.objects.for_user(request.user).filter(Q(slug=asked) | Q(name__iexact=asked)).first()
    return found, found is None


def _briefing(request: HttpRequest, as_of: date, chosen: Cluster | None) -> Briefing:
    """The briefing of the page and the .docx: the page of clusters asked for (`?page=`), or the chosen one."""
    from insights.selectors import briefing

    return briefing(
        user=request.user,
        as_of=as_of,
        detail_of=Cluster.objects.filter(pk=chosen.pk) if chosen is not None else None,
        page=_page_number(request.GET.get("page")),
    )


def _page_number(value: str | None) -> int:
    """A page number from the query (1 when it is none)."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _detail_pager(request: HttpRequest, detail: BriefingDetail) -> dict[str, Any]:
    """The links between the briefing's pages of clusters (the `partials/pagination.html` keys)."""
    from core.paging import page_link

    number, pages = detail["page"], detail["pages"]

    def link(to: int, show: bool) -> str | None:
        return page_link(request.GET, "page", to) if show else None

    return {
        "pages": pages,
        "number": number,
        "count": detail["clusters"],
        "start": detail["first"],
        "end": detail["last"],
        "first_url": link(1, number > 2),
        "previous_url": link(number - 1, number > 1),
        "next_url": link(number + 1, number < pages),
        "last_url": link(pages, number < pages - 1),
    }


def _requested_day(request: HttpRequest) -> tuple[date | None, bool]:
    """The day a page is asked as of (`?as_of=YYYY-MM-DD`, as the API reads it): (the day or None, whether
    what was given is not a day). A page shows what it would without a day when the day is not valid."""
    from insights.api import AsOfSerializer

    query = AsOfSerializer(data=request.GET)
    if not query.is_valid():
        return None, True
    return query.validated_data.get("as_of"), False


@require_safe
@login_required
def briefing_docx_download(request: HttpRequest) -> HttpResponse:
    """The same briefing as a Word document: the summary, and the detail the page shows for the same query
    (a page of clusters, or the chosen one)."""
    from insights.documents import briefing_docx

    as_of = _requested_day(request)[0] or timezone.localdate()
    chosen, _unknown = _chosen_cluster(request)
    content = briefing_docx(_briefing(request, as_of, chosen))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="clusterpacten-briefing-{as_of.isoformat()}.docx"'
    return response


@require_safe
@login_required
def export(request: HttpRequest, dataset: str, fmt: str) -> HttpResponseBase:
    """A table as CSV or Excel, filtered with the same parameters as its API list, scoped to the user; with
    `as_of=YYYY-MM-DD`, as it stood at the end of that day (`insights.exports`)."""
    from django.http import FileResponse, Http404, StreamingHttpResponse

    from insights.exports import DATASETS, csv_stream, xlsx_file

    spec = DATASETS.get(dataset)
    if spec is None or fmt not in ("csv", "xlsx"):
        raise Http404
    from insights.api import AsOfSerializer

    query = AsOfSerializer(data=request.GET)
    if not query.is_valid():
        return HttpResponse(gettext("Give the day as as_of=YYYY-MM-DD."), status=400, content_type="text/plain")
    as_of: date | None = query.validated_data.get("as_of")
    params = request.GET.copy()
    params.pop("as_of", None)
    filterset = spec.filterset(params, queryset=spec.queryset(request.user), request=request)
    if not filterset.is_valid():
        return HttpResponse(str(filterset.errors.as_text()), status=400, content_type="text/plain; charset=utf-8")
    filename = f"{dataset}-{(as_of or timezone.localdate()).isoformat()}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(spec, filterset.qs, as_of), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(
        xlsx_file(spec, filterset.qs, as_of),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# The funding overview shows the reservations of this many clusters a page (a column each, and their rows
# among the decisions); every total counts all the clusters.
FUNDING_PAGE_SIZE = 12


@require_safe
@login_required
def funding_overview(request: HttpRequest) -> HttpResponse:
    """Every budget year, past and planned: envelope, reservations per cluster, other allocations, remaining;
    and per year what was decided in projects against each reservation and the inter-cluster allocation.
    The year's figures are summed in the database; the clusters' reservations are shown a page of clusters at
    a time (`?page=`), beside the total of all.

    With `?as_of=YYYY-MM-DD`, as it stood at the end of that day (`funding.selectors.budget_years`): only the
    allocations and the projects decided by then. Without, everything recorded."""
    from core.paging import paginate
    from funding.selectors import budget_years

    as_of, invalid = _requested_day(request)
    pager = paginate(
        request, Cluster.objects.for_user(request.user).order_by("name", "pk"), per_page=FUNDING_PAGE_SIZE
    )
    clusters = list(pager.items)
    years = budget_years(user=request.user, as_of=as_of, clusters=[c.pk for c in clusters])
    reserved: list[list[Decimal | None]] = []
    for year in years:
        by_cluster = {r.cluster: r.amount for r in year.reservations}
        reserved.append([by_cluster.get(c.pk) for c in clusters])
    grand = {
        "envelope": sum((y.envelope for y in years), Decimal(0)),
        "reserved": [sum((row[i] or Decimal(0) for row in reserved), Decimal(0)) for i in range(len(clusters))],
        "reserved_total": sum((y.reserved for y in years), Decimal(0)),
        "inter_cluster": sum((y.inter_cluster for y in years), Decimal(0)),
        "other": _total_or_none(y.other for y in years),
        "remaining": _total_or_none(y.remaining for y in years),
    }
    rows = [{"year": year, "reserved": amounts} for year, amounts in zip(years, reserved, strict=True)]
    # The downloads carry the page's day, as the briefing's do.
    query = urlencode({"as_of": as_of.isoformat()}) if as_of else ""
    context = {
        "clusters": clusters,
        "paged": pager.pages > 1,
        "pager": pager,
        "rows": rows,
        # The decisions, latest year first: the years with a reservation or a project.
        "decision_years": [
            year
            for year in reversed(years)
            if year.reservation_count or year.inter_cluster or year.inter_cluster_projects
        ],
        "grand": grand,
        "today": timezone.localdate(),
        "as_of": as_of,
        "invalid": invalid,
        "export_query": query,
    }
    return render(request, "insights/funding.html", {**context, "budget_chart": budget_chart(years)})


def _total_or_none(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any part is not the reader's to see."""
    listed = list(amounts)
    return None if any(a is None for a in listed) else sum((a for a in listed if a is not None), Decimal(0))


def budget_chart(rows: list[BudgetYearFigures]) -> charts.Chart | None:
    """Each budget year's envelope as a column: reserved, inter-cluster, other and what remains, in M EUR
    (the parts the reader may see)."""
    if not rows:
        return None
    million = Decimal(1_000_000)
    names = {
        "reserved": gettext("Reserved for the clusters"),
        "inter_cluster": gettext("Inter-cluster projects"),
        "other": gettext("Other initiatives"),
        "remaining": gettext("Remaining"),
    }
    css = {"reserved": "bar", "inter_cluster": "bar-inter", "other": "bar-other", "remaining": "bar-remaining"}
    stacks = []
    for row in rows:
        parts = []
        for key, name in names.items():
            value: Decimal | None = getattr(row, key)
            if value is None:
                continue
            amount = value / million
            parts.append(
                charts.Part(amount, css[key], f"{row.year} {name}: {number_format(amount, 1, use_l10n=True)} M")
            )
        stacks.append(charts.Stack(str(row.year), parts))
    return charts.stacked(
        gettext("Envelope per year and how it is allocated (million EUR)"),
        stacks,
        legend=[(css[key], name) for key, name in names.items() if any(getattr(row, key) is not None for row in rows)],
    )


# Each block of the dashboard lists at most this many rows (flags of a kind, evaluations, agreements ending,
# reports), with how many there are in all and where the full list is: the page reads what it shows.
DASHBOARD_ROWS = 10


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The officer's overview: open flags, latest evaluations, agreements ending soon, reports, budget. Each
    block is its own small query, bounded however large the programme: counts, and the first rows."""
    from funding.models import BudgetYear
    from funding.selectors import budget_years

    if not is_reader(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    horizon = today + timedelta(days=730)
    clusters = Cluster.objects.for_user(request.user)
    ending = SupportAgreement.objects.for_user(request.user).filter(end_date__gte=today, end_date__lte=horizon)
    ending_terms = [
        agreement_term(agreement)
        for agreement in ending.select_related("cluster").order_by("end_date", "pk")[:DASHBOARD_ROWS]
    ]
    last_year = today.year - 1
    # The report on last year of each cluster: counted from the same slots the flag scan and the briefing read.
    report_counts = report_slot_counts(clusters=clusters, as_of=today, year=last_year)
    slotted = sum(report_counts.values())
    listed = clusters.filter(started_on__lte=today, started_on__year__lte=last_year).order_by("name", "pk")
    last_reports = report_slots(
        clusters=Cluster.objects.filter(pk__in=list(listed.values_list("pk", flat=True)[:DASHBOARD_ROWS])),
        as_of=today,
        years=[last_year],
    )
    budget = BudgetYear.objects.filter(year=today.year).first()
    evaluated, latest = _latest_evaluations(request.user)
    ending_count = ending.count()
    return render(
        request,
        "insights/dashboard.html",
        {
            "today": today,
            "flags_by_kind": _open_flags_by_kind(request.user),
            "latest": latest,
            "evaluated": evaluated,
            "ending": ending_terms,
            "ending_count": ending_count,
            "ending_more": ending_count - len(ending_terms),
            "ending_chart": _ending_chart(request.user, ending_terms, today, horizon),
            "ending_query": urlencode({"end_date__gte": today.isoformat(), "end_date__lte": horizon.isoformat()}),
            # What waits in the review queue: plans and reports submitted (the queue's default view).
            "to_review": AnnualReport.objects.for_user(request.user).filter(status=Workflow.SUBMITTED).count()
            + AnnualPlan.objects.for_user(request.user).filter(status=Workflow.SUBMITTED).count(),
            "report_counts": sorted(report_counts.items()),
            "last_reports": last_reports,
            "reports_more": slotted - len(last_reports),
            "reports_query": urlencode({"kind": "report", "year": last_year, "state": "all"}),
            "budget_year": budget,
            # The year's totals only: no reservation is listed (`clusters=[]`).
            "budget": next(iter(budget_years(user=request.user, from_year=today.year, clusters=[])), None)
            if budget
            else None,
        },
    )


@dataclass(frozen=True)
class FlagsOfKind:
    """The open flags of one kind on the dashboard: how many, the first ones (soonest due), and the full list."""

    kind: str
    label: str
    count: int
    flags: list[Flag]
    more_url: str


def _open_flags_by_kind(user: User) -> list[FlagsOfKind]:
    """Per kind, by its name: the count of open flags and the first `DASHBOARD_ROWS` by due day (two queries:
    the counts, and the first rows of every kind at once, numbered per kind in the database)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    open_flags = Flag.objects.for_user(user).open()
    counts = dict(open_flags.values("kind").order_by().annotate(n=Count("id")).values_list("kind", "n"))
    first = (
        open_flags.annotate(
            rank=Window(RowNumber(), partition_by=F("kind"), order_by=[F("due_on").asc(nulls_last=True), F("id")])
        )
        .filter(rank__lte=DASHBOARD_ROWS)
        .select_related("cluster")
        .order_by("kind", F("due_on").asc(nulls_last=True), "id")
    )
    by_kind: dict[str, list[Flag]] = {}
    for flag in first:
        by_kind.setdefault(flag.kind, []).append(flag)
    staff = getattr(user, "is_staff", False)
    blocks = [
        FlagsOfKind(
            kind=kind,
            label=str(Flag.Kind(kind).label),
            count=count,
            flags=by_kind.get(kind, []),
            # The whole list: in the admin for staff, else in the API (both filter the open flags by kind).
            more_url=reverse("admin:funding_flag_changelist") + "?" + urlencode({"state": "open", "kind__exact": kind})
            if staff
            else "/api/v1/flags/?" + urlencode({"open": "true", "kind": kind}),
        )
        for kind, count in counts.items()
    ]
    return sorted(blocks, key=lambda block: block.label)


def _latest_evaluations(user: User) -> tuple[int, list[Evaluation]]:
    """How many clusters have an evaluation, and the latest (by period) of each of the first `DASHBOARD_ROWS`
    of them by name: each cluster's latest found in the database (its evaluations numbered by period)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    latest = Evaluation.objects.for_user(user).annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("cluster_id"),
            order_by=[F("period_end").desc(), F("period_start").desc(), F("id").desc()],
        )
    )
    evaluated = Evaluation.objects.for_user(user).values("cluster_id").distinct().count()
    shown = list(latest.filter(rank=1).select_related("cluster").order_by("cluster__name", "id")[:DASHBOARD_ROWS])
    return evaluated, shown


def _ending_chart(user: User, ending: list[AgreementTerm], today: date, horizon: date) -> charts.Chart | None:
    """A lane for each cluster with an agreement ending in the window: its agreements in the window (a
    successor already signed shows) and its cap date."""
    lanes_of = sorted({term.agreement.cluster for term in ending}, key=lambda c: c.name)
    if not lanes_of:
        return None
    in_window = (
        SupportAgreement.objects.for_user(user)
        .filter(cluster__in=lanes_of, end_date__gte=today - timedelta(days=365), start_date__lte=horizon)
        .order_by("start_date")
    )
    by_cluster: dict[int, list[AgreementTerm]] = {}
    for agreement in in_window:
        by_cluster.setdefault(agreement.cluster_id, []).append(agreement_term(agreement))
    lanes = []
    for cluster in lanes_of:
        chain = by_cluster.get(cluster.pk, [])
        spans = [_agreement_span(term, today) for term in chain]
        lanes.append(charts.Lane(cluster.name, spans, [_cap_milestone(chain[-1].cap_date)] if chain else []))
    title = gettext("Agreements ending in the next 24 months")
    return charts.timeline(title, lanes, start=date(today.year, 1, 1), end=date(horizon.year, 12, 31), today=today)


# The comparison ranks every cluster, and shows the ranking and the years a page of clusters at a time.
COMPARE_PAGE_SIZE = 25


@require_safe
@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """One KPI across the clusters: who is ahead of or behind target, in a year and over the years. Every
    cluster is ranked; the ranking, its chart and the years are shown a page of clusters at a time (`?page=`),
    the numbers formatted once per page (`insights.numbers.NumberFormat`), not once per cell."""
    from django.db.models import Min

    from core.paging import paginate
    from insights.forms import CompareForm
    from insights.numbers import NumberFormat
    from insights.selectors import ClusterRef, kpi_comparison

    today = timezone.localdate()
    scope = Cluster.objects.for_user(request.user)
    # From the first cluster's start, and at least last year (the default) and this year.
    first_start = scope.aggregate(first=Min("started_on"))["first"]
    first = first_start.year if first_start else today.year - 1
    years = list(range(min(first, today.year - 1), today.year + 1))
    form = CompareForm(request.GET, years=years, default_year=today.year - 1)
    context: dict[str, Any] = {"form": form, "years": years, "today": today}
    if form.is_valid():
        kpi, year = form.cleaned_data["kpi"], form.cleaned_data["year"]
        clusters = [ClusterRef(*row) for row in scope.order_by("name", "pk").values_list("pk", "name", "slug")]
        # Every cluster's point of the chosen year, to rank them all; then the years of the page's clusters.
        ranked = sorted(kpi_comparison(clusters=clusters, kpi=kpi, years=[year], scope=scope), key=_ahead_first)
        pager = paginate(request, ranked, per_page=COMPARE_PAGE_SIZE)
        shown = {row["cluster"] for row in pager.items}
        rows = kpi_comparison(clusters=[c for c in clusters if c.pk in shown], kpi=kpi, years=years)
        number = NumberFormat()
        at = years.index(year)
        page_ranked = [{**row, "point": row["years"][0]} for row in pager.items]
        context.update(
            kpi=kpi,
            year=year,
            pager=pager,
            ranked=[{**row, "cells": _cells(row["point"], number)} for row in page_ranked],
            rows=rows,
            table=[{**row, "pairs": [(point, _cells(point, number)) for point in row["years"]]} for row in rows],
            year_chart=_achievement_bars(kpi, year, pager.items, 0),
            years_chart=charts.lines(
                gettext("%(kpi)s: achievement of the target per year (%%)") % {"kpi": kpi.code},
                [str(y) for y in years],
                [charts.Series(row["cluster_name"], [p["achievement"] for p in row["years"]]) for row in rows],
                reference=100,
            ),
            at=at,
        )
    return render(request, "insights/compare.html", context, status=200 if form.is_valid() else 400)


def _ahead_first(row: ClusterSeries) -> tuple[bool, Decimal, str]:
    """The ranking's order: the highest achievement of the (one) year first, those without one last, by name."""
    achievement = row["years"][0]["achievement"]
    return achievement is None, -(achievement or Decimal(0)), row["cluster_name"]


def _cells(point: KpiPoint, number: Any) -> dict[str, str]:
    """A point's target, value and achievement as the comparison writes them ("—" for none)."""
    achievement = point["achievement"]
    return {
        "target": number(point["target"]),
        "value": number(point["value"]),
        "achievement": f"{achievement} %" if achievement is not None else "",
    }


def _achievement_bars(kpi: KpiDefinition, year: int, rows: list[ClusterSeries], at: int) -> charts.Chart:
    items = []
    for row in rows:
        point = row["years"][at]
        achievement = point["achievement"]
        css = "bar" if achievement is not None and achievement >= 100 else "bar-behind"
        if point["status"] == "pending":
            css = "bar-pending"
        title = row["cluster_name"]
        if achievement is not None:
            title += f": {achievement} %"
        items.append(charts.HBar(row["cluster_name"], achievement, css, title))
    return charts.hbars(
        gettext("%(kpi)s in %(year)s: achievement of the target (%%)") % {"kpi": kpi.code, "year": year},
        items,
        reference=100,
        unit=" %",
    )


@require_safe
@login_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """Officers only: every history row of the domain models from `from` to `to` (days, both included),
    oldest first, as CSV: when, who, model, object id, object, change, changed fields."""
    import csv

    from django.http import StreamingHttpResponse

    from core.audit import AUDIT_COLUMNS, audit_rows
    from core.spreadsheets import safe_cell

    if not is_officer(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    try:
        last = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
        first = date.fromisoformat(request.GET["from"]) if request.GET.get("from") else last - timedelta(days=30)
    except ValueError:
        return HttpResponse(
            gettext("Give the period as from=YYYY-MM-DD&to=YYYY-MM-DD."), status=400, content_type="text/plain"
        )
    if first > last:
        return HttpResponse(gettext("The period ends before it starts."), status=400, content_type="text/plain")
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)

    class Echo:
        def write(self, value: str) -> str:
            return value

    def lines() -> Iterator[str]:
        writer = csv.writer(Echo())
        yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the right accents
        yield writer.writerow(AUDIT_COLUMNS)
        for row in audit_rows(start=start, end=end):
            yield writer.writerow(["" if cell is None else safe_cell(cell) for cell in row.cells()])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{first.isoformat()}-{last.isoformat()}.csv"'
    return response
