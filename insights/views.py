"""Read-only pages over all the domain apps. Nothing imports from here (DESIGN.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Prefetch, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format, number_format
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
from clusterpacts.selectors import DerivedFigures, plan_slots, report_slots
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
from insights.selectors import ClusterSeries, KpiItem, KpiSeries


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


def _kpi_spark(kpi: KpiItem) -> charts.Chart:
    """A KPI's evolution in the briefing: the value of each working year (pending ones drawn as such) against
    its target."""
    items = []
    for point in kpi["years"]:
        parts = [str(point["year"])]
        if point["value"] is not None:
            value = number_format(point["value"], use_l10n=True)
            parts.append(gettext("value %(value)s") % {"value": value})
            if point["status"] == "pending":
                parts[-1] += f" ({gettext('pending')})"
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


@require_safe
@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    """The clusters the user may see, with their running agreement and open flags."""
    today = timezone.localdate()
    clusters = list(Cluster.objects.for_user(request.user).order_by("name"))
    standings = agreement_standings(clusters=Cluster.objects.for_user(request.user), as_of=today)
    running = {pk: _running(standing) for pk, standing in standings.items()}
    open_flags = dict(
        Flag.objects.open()
        .filter(cluster__in=clusters)
        .values("cluster")
        .annotate(n=Count("id"))
        .values_list("cluster", "n")
    )
    rows = [{"cluster": c, "running": running.get(c.pk), "flags": open_flags.get(c.pk, 0)} for c in clusters]
    return render(request, "insights/cluster_list.html", {"rows": rows, "today": today})


@require_safe
@login_required
def briefing_page(request: HttpRequest) -> HttpResponse:
    """The parliamentary briefing as a page, in the reader's language (Dutch by default)."""
    from insights.selectors import briefing

    asked, invalid = _requested_day(request)
    as_of = asked or timezone.localdate()
    data = briefing(user=request.user, as_of=as_of)
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
    context = {
        "b": data,
        "as_of": as_of,
        "invalid": invalid,
        "budget_chart": budget_chart(data["budget"]),
        "kpi_rows": [
            {
                **row,
                "years": [point["year"] for point in row["kpis"][0]["years"]] if row["kpis"] else [],
                "kpis": [{**kpi, "chart": charts.spark_svg(_kpi_spark(kpi))} for kpi in row["kpis"]],
            }
            for row in data["kpis"]
        ],
        "exports": exports,
    }
    return render(request, "insights/briefing.html", context)


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
    """The same briefing as a Word document."""
    from insights.documents import briefing_docx
    from insights.selectors import briefing

    as_of = _requested_day(request)[0] or timezone.localdate()
    content = briefing_docx(briefing(user=request.user, as_of=as_of))
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


@require_safe
@login_required
def funding_overview(request: HttpRequest) -> HttpResponse:
    """Every budget year, past and planned: envelope, reservations per cluster, other allocations, remaining;
    and per year what was decided in projects against each reservation and the inter-cluster allocation.

    With `?as_of=YYYY-MM-DD`, as it stood at the end of that day (`funding.selectors.budget_years`): only the
    allocations and the projects decided by then. Without, everything recorded."""
    from funding.selectors import budget_years

    as_of, invalid = _requested_day(request)
    clusters = list(Cluster.objects.for_user(request.user).order_by("name"))
    years = budget_years(user=request.user, as_of=as_of)
    reserved: list[list[Decimal | None]] = []
    for year in years:
        by_cluster = {r.cluster: r.amount for r in year.reservations}
        reserved.append([by_cluster.get(c.pk) for c in clusters])
    grand = {
        "envelope": sum((y.envelope for y in years), Decimal(0)),
        "reserved": [sum((row[i] or Decimal(0) for row in reserved), Decimal(0)) for i in range(len(clusters))],
        "inter_cluster": sum((y.inter_cluster for y in years), Decimal(0)),
        "other": _total_or_none(y.other for y in years),
        "remaining": _total_or_none(y.remaining for y in years),
    }
    rows = [{"year": year, "reserved": amounts} for year, amounts in zip(years, reserved, strict=True)]
    # The downloads carry the page's day, as the briefing's do.
    query = urlencode({"as_of": as_of.isoformat()}) if as_of else ""
    context = {
        "clusters": clusters,
        "rows": rows,
        # The decisions, latest year first: the years with a reservation or a project.
        "decision_years": [
            year for year in reversed(years) if year.reservations or year.inter_cluster or year.inter_cluster_projects
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


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The officer's overview: open flags, latest evaluations, agreements ending soon, reports, budget."""
    from funding.models import BudgetYear
    from funding.selectors import budget_years

    if not is_reader(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    horizon = today + timedelta(days=730)
    ending = _ending_terms(request.user, today, horizon)
    # The report on last year of each cluster: the same slots the flag scan and the briefing read.
    last_reports = report_slots(clusters=Cluster.objects.for_user(request.user), as_of=today, years=[today.year - 1])
    report_counts = Counter("overdue" if slot.overdue else slot.status for slot in last_reports)
    budget = BudgetYear.objects.filter(year=today.year).first()
    return render(
        request,
        "insights/dashboard.html",
        {
            "today": today,
            "flags_by_kind": _open_flags_by_kind(request.user),
            "latest": _latest_evaluations(request.user),
            "ending": ending,
            "ending_chart": _ending_chart(request.user, ending, today, horizon),
            "ending_query": urlencode({"end_date__gte": today.isoformat(), "end_date__lte": horizon.isoformat()}),
            # What waits in the review queue: plans and reports submitted (the queue's default view).
            "to_review": AnnualReport.objects.for_user(request.user).filter(status=Workflow.SUBMITTED).count()
            + AnnualPlan.objects.for_user(request.user).filter(status=Workflow.SUBMITTED).count(),
            "report_counts": sorted(report_counts.items()),
            "last_reports": last_reports,
            "budget_year": budget,
            "budget": next(iter(budget_years(user=request.user, from_year=today.year)), None) if budget else None,
        },
    )


def _open_flags_by_kind(user: User) -> list[tuple[str, list[Flag]]]:
    by_kind: dict[str, list[Flag]] = {}
    for flag in Flag.objects.for_user(user).open().select_related("cluster").order_by("kind", "due_on"):
        by_kind.setdefault(flag.get_kind_display(), []).append(flag)
    return sorted(by_kind.items())


def _latest_evaluations(user: User) -> list[Evaluation]:
    """Each cluster's evaluation with the latest period."""
    latest: dict[int, Evaluation] = {}
    for evaluation in (
        Evaluation.objects.for_user(user).select_related("cluster").order_by("period_end", "period_start")
    ):
        latest[evaluation.cluster_id] = evaluation
    return sorted(latest.values(), key=lambda e: e.cluster.name)


def _ending_terms(user: User, today: date, horizon: date) -> list[AgreementTerm]:
    """The agreements that end between today and `horizon`, soonest first."""
    ending = SupportAgreement.objects.for_user(user).filter(end_date__gte=today, end_date__lte=horizon)
    return [agreement_term(agreement) for agreement in ending.select_related("cluster").order_by("end_date")]


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


@require_safe
@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """One KPI across the clusters: who is ahead of or behind target, in a year and over the years."""
    from insights.forms import CompareForm
    from insights.selectors import kpi_comparison

    today = timezone.localdate()
    clusters = list(Cluster.objects.for_user(request.user).order_by("name"))
    # From the first cluster's start, and at least last year (the default) and this year.
    first = min((c.started_on.year for c in clusters if c.started_on), default=today.year - 1)
    years = list(range(min(first, today.year - 1), today.year + 1))
    form = CompareForm(request.GET, years=years, default_year=today.year - 1)
    context: dict[str, Any] = {"form": form, "years": years, "today": today}
    if form.is_valid():
        kpi, year = form.cleaned_data["kpi"], form.cleaned_data["year"]
        rows = kpi_comparison(clusters=clusters, kpi=kpi, years=years)
        at = years.index(year)
        ranked = sorted(
            rows,
            key=lambda r: (
                r["years"][at]["achievement"] is None,
                -(r["years"][at]["achievement"] or 0),
                r["cluster_name"],
            ),
        )
        context.update(
            kpi=kpi,
            year=year,
            ranked=[{**row, "point": row["years"][at]} for row in ranked],
            rows=rows,
            year_chart=_achievement_bars(kpi, year, ranked, at),
            years_chart=charts.lines(
                gettext("%(kpi)s: achievement of the target per year (%%)") % {"kpi": kpi.code},
                [str(y) for y in years],
                [charts.Series(row["cluster_name"], [p["achievement"] for p in row["years"]]) for row in rows],
                reference=100,
            ),
        )
    return render(request, "insights/compare.html", context, status=200 if form.is_valid() else 400)


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
