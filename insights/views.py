"""Read-only pages over all the domain apps. Nothing imports from here (DESIGN.md)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clusterpacts.models import AnnualReport, Cluster, ClusterPact, Commitment, KpiDefinition
from clusterpacts.permissions import can_write_cluster_documents, get_cluster_by_slug_for_user
from clusterpacts.selectors import membership_figures
from evaluations.models import Evaluation
from funding.models import Flag, SupportAgreement


@require_safe
@login_required
def cluster_home(request: HttpRequest, slug: str) -> HttpResponse:
    """A cluster at a glance: its pact, agreements, this year's targets, reports and open flags."""
    cluster = get_cluster_by_slug_for_user(request.user, slug)
    today = timezone.localdate()
    pact = (
        ClusterPact.objects.filter(cluster=cluster, status=ClusterPact.Status.SIGNED)
        .prefetch_related(Prefetch("commitments", queryset=Commitment.objects.order_by("party", "id")))
        .first()
    )
    agreements = list(SupportAgreement.objects.filter(cluster=cluster).order_by("start_date"))
    reports = list(AnnualReport.objects.filter(cluster=cluster).order_by("-year"))
    report_years = {report.year for report in reports}
    working_year = today.year - 1
    start_year = cluster.started_on.year if cluster.started_on else working_year
    missing_years = [year for year in range(start_year, working_year + 1) if year not in report_years]
    targets = [
        (kpi, value)
        for kpi, value in (
            (t.kpi, t.value)
            for t in cluster.kpi_targets.filter(year=today.year).select_related("kpi").order_by("kpi__position")
        )
    ]
    context = {
        "cluster": cluster,
        "today": today,
        "pact": pact,
        "agreements": agreements,
        "running": next((a for a in agreements if a.start_date <= today <= a.end_date), None),
        "reports": reports,
        "missing_years": missing_years,
        "working_year": working_year,
        "targets": targets,
        "kpi_count": KpiDefinition.objects.filter(active=True).count(),
        "flags": Flag.objects.open().filter(cluster=cluster).order_by("due_on"),
        "evaluations": Evaluation.objects.filter(cluster=cluster).order_by("-period_end")[:5],
        "members": membership_figures(cluster=cluster, on=today),
        "can_write": can_write_cluster_documents(request.user, cluster),
    }
    return render(request, "insights/cluster_home.html", context)


@require_safe
@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    """The clusters the user may see, with their running agreement and open flags."""
    today = timezone.localdate()
    clusters = list(Cluster.objects.for_user(request.user).order_by("name"))
    running = {a.cluster_id: a for a in SupportAgreement.objects.running_on(today).filter(cluster__in=clusters)}
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
    from insights.api import AsOfSerializer
    from insights.selectors import briefing

    query = AsOfSerializer(data=request.GET)
    as_of = query.validated_data.get("as_of") if query.is_valid() else None
    as_of = as_of or timezone.localdate()
    data = briefing(clusters=Cluster.objects.for_user(request.user), as_of=as_of)
    return render(request, "insights/briefing.html", {"b": data, "as_of": as_of, "invalid": bool(query.errors)})


@require_safe
@login_required
def briefing_docx_download(request: HttpRequest) -> HttpResponse:
    """The same briefing as a Word document."""
    from insights.api import AsOfSerializer
    from insights.documents import briefing_docx
    from insights.selectors import briefing

    query = AsOfSerializer(data=request.GET)
    as_of = (query.validated_data.get("as_of") if query.is_valid() else None) or timezone.localdate()
    content = briefing_docx(briefing(clusters=Cluster.objects.for_user(request.user), as_of=as_of))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="clusterpacten-briefing-{as_of.isoformat()}.docx"'
    return response


@require_safe
@login_required
def export(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    """A table as CSV or Excel, filtered with the same parameters as its API list, scoped to the user."""
    from django.http import FileResponse, Http404, StreamingHttpResponse
    from django.utils.module_loading import import_string

    from insights.exports import DATASETS, csv_stream, xlsx_file

    spec = DATASETS.get(dataset)
    if spec is None or fmt not in ("csv", "xlsx"):
        raise Http404
    filterset = import_string(spec.filterset)(request.GET, queryset=spec.queryset(request.user), request=request)
    if not filterset.is_valid():
        return HttpResponse(str(filterset.errors.as_text()), status=400, content_type="text/plain; charset=utf-8")
    filename = f"{dataset}-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(spec, filterset.qs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(
        xlsx_file(spec, filterset.qs),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_safe
@login_required
def funding_overview(request: HttpRequest) -> HttpResponse:
    """Every budget year, past and planned: envelope, reservations per cluster, other allocations, remaining."""
    from decimal import Decimal

    from funding.models import Allocation, BudgetYear

    clusters = list(Cluster.objects.for_user(request.user).order_by("name"))
    years = list(BudgetYear.objects.for_user(request.user).order_by("year"))
    allocations = Allocation.objects.for_user(request.user).filter(budget_year__in=years)
    reserved: dict[tuple[int, int], Decimal] = {}
    other: dict[tuple[int, str], Decimal] = {}
    for budget_year_id, purpose, cluster_id, amount in allocations.values_list(
        "budget_year_id", "purpose", "cluster_id", "amount"
    ):
        if purpose == Allocation.Purpose.COMPETITIVENESS:
            reserved[(budget_year_id, cluster_id)] = amount
        else:
            other[(budget_year_id, purpose)] = other.get((budget_year_id, purpose), Decimal(0)) + amount
    # What remains is computed from every allocation of the year, which only readers of all data may see.
    totals = dict(
        Allocation.objects.filter(budget_year__in=years)
        .values("budget_year")
        .annotate(total=Sum("amount"))
        .values_list("budget_year", "total")
    )
    rows = []
    for year in years:
        rows.append(
            {
                "year": year,
                "reserved": [reserved.get((year.pk, c.pk)) for c in clusters],
                "inter_cluster": other.get((year.pk, Allocation.Purpose.INTER_CLUSTER), Decimal(0)),
                "other": other.get((year.pk, Allocation.Purpose.OTHER), Decimal(0)),
                "remaining": year.envelope - (totals.get(year.pk) or Decimal(0)),
            }
        )
    grand = {
        "envelope": sum((r["year"].envelope for r in rows), Decimal(0)),
        "reserved": [sum((r["reserved"][i] or Decimal(0) for r in rows), Decimal(0)) for i in range(len(clusters))],
        "inter_cluster": sum((r["inter_cluster"] for r in rows), Decimal(0)),
        "other": sum((r["other"] for r in rows), Decimal(0)),
        "remaining": sum((r["remaining"] for r in rows), Decimal(0)),
    }
    return render(
        request,
        "insights/funding.html",
        {"clusters": clusters, "rows": rows, "grand": grand, "today": timezone.localdate()},
    )


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The officer's overview: open flags, latest evaluations, agreements ending soon, reports, budget."""
    from datetime import timedelta

    from clusterpacts.roles import is_reader
    from evaluations.models import Evaluation
    from funding.models import BudgetYear, Flag
    from insights.selectors import briefing

    if not is_reader(request.user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    today = timezone.localdate()
    clusters = Cluster.objects.for_user(request.user)
    flags = list(Flag.objects.for_user(request.user).open().select_related("cluster").order_by("kind", "due_on"))
    by_kind: dict[str, list[Flag]] = {}
    for flag in flags:
        by_kind.setdefault(flag.get_kind_display(), []).append(flag)
    latest: dict[int, Evaluation] = {}
    for evaluation in (
        Evaluation.objects.for_user(request.user).select_related("cluster").order_by("period_end", "period_start")
    ):
        latest[evaluation.cluster_id] = evaluation
    ending = (
        SupportAgreement.objects.for_user(request.user)
        .filter(end_date__gte=today, end_date__lte=today + timedelta(days=730))
        .select_related("cluster")
        .order_by("end_date")
    )
    summary = briefing(clusters=clusters, as_of=today)
    report_counts: dict[str, int] = {}
    for row in summary["reports"]:
        for report in row["reports"][:1]:
            key = "overdue" if report["overdue"] else report["status"]
            report_counts[key] = report_counts.get(key, 0) + 1
    budget = BudgetYear.objects.filter(year=today.year).first()
    return render(
        request,
        "insights/dashboard.html",
        {
            "today": today,
            "flags_by_kind": sorted(by_kind.items()),
            "latest": sorted(latest.values(), key=lambda e: e.cluster.name),
            "ending": ending,
            "report_counts": sorted(report_counts.items()),
            "reports": summary["reports"],
            "budget_year": budget,
            "budget": next((row for row in summary["budget"] if budget and row["year"] == budget.year), None),
        },
    )
