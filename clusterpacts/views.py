"""Portal pages for annual plans and reports: cluster managers draft and submit, officers review.

Thin views (STYLE.md rule 4): find the object through the access helpers (404 outside the user's
scope), call the services, show their messages next to the right field.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from clusterpacts import selectors, services
from clusterpacts.forms import (
    KIND_PLAN,
    KIND_REPORT,
    BulkAcceptForm,
    FiguresForm,
    PlanForm,
    ReportForm,
    ReviewForm,
    ReviewQueueForm,
    errors_to_form,
    focus_first_error,
    kpi_field_name,
)
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    ReportAttachment,
    Workflow,
    check_transition,
    plan_years,
    report_years,
)
from clusterpacts.permissions import can_write_cluster_documents, get_cluster_by_slug_for_user, get_for_user
from clusterpacts.selectors import YearFigures
from core.paging import paginate
from core.roles import is_officer
from core.uploads import pdf_download
from core.versions import VERSION_FIELD, check_version, version_of


def officer_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_officer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _year_or_404(year: int, years: range) -> int:
    """A year the document cannot have (before the cluster started, too far ahead) has no page."""
    if year not in years:
        raise Http404
    return year


def _plain(value: Any) -> Any:
    """68.00 -> 68 and 61.50 -> 61.5, so fields show numbers as people write them."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return value


def figure_rows(form: Any, figures: YearFigures, kpis: list[KpiDefinition]) -> list[dict[str, Any]]:
    """One row per KPI for the templates: the field (a KPI the form does not take has none), target, this
    year's and last year's value. A derived KPI's values are computed from the memberships (`derived`:
    the figures they come from, for the page to say how), whatever a report holds for it."""
    rows = []
    for kpi in kpis:
        target = figures.target.get(kpi.pk)
        name = kpi_field_name(kpi)
        source = figures.derived.source_of(kpi.code) if kpi.is_derived else None
        if kpi.is_derived:
            current = figures.derived.value(kpi.code)
            last_year, last_year_official = figures.derived_last_year.value(kpi.code), True
        else:
            value, last = figures.value.get(kpi.pk), figures.last_year.get(kpi.pk)
            current = value.value if value else None
            last_year, last_year_official = (last.value if last else None), bool(last and last.is_official)
        rows.append(
            {
                "kpi": kpi,
                "field": form[name] if form is not None and name in form.fields else None,
                "target": target,
                "value": current,
                "last_year": last_year,
                "last_year_official": last_year_official,
                "achievement": kpi.achievement(current, target),
                "derived": figures.derived if kpi.is_derived else None,
                "source": source,
                # The projects a project KPI was counted from (listed below the figures).
                "counted": sum(kpi.code in p.counts_in for p in figures.derived.basis(source)) if source else 0,
            }
        )
    return rows


def _no_membership_years(figures: YearFigures, kpis: list[KpiDefinition]) -> list[int]:
    """The year, if the catalogue has membership KPIs and no membership was active at its end: the page warns."""
    derived = figures.derived
    from_members = any(derived.source_of(kpi.code) == "memberships" for kpi in kpis if kpi.is_derived)
    return [derived.year] if from_members and not derived.has_data else []


# What a saved page says: after a save as a draft, after a submission.
PLAN_SAVED = (
    gettext_lazy("The annual plan was saved as a draft."),
    gettext_lazy("The annual plan was submitted to VLAIO."),
)
REPORT_SAVED = (
    gettext_lazy("Your annual report was saved as a draft."),
    gettext_lazy("Your annual report was submitted to VLAIO. You will hear when it is reviewed."),
)


def _figures_of(document: AnnualPlan | AnnualReport | None) -> list[KpiTarget] | list[KpiValue]:
    """The figures that belong with a plan or report, for its version: a changed figure is a change."""
    if document is None:
        return []
    if isinstance(document, AnnualPlan):
        return list(KpiTarget.objects.filter(plan=document).order_by("pk"))
    return list(KpiValue.objects.filter(report=document).order_by("pk"))


def document_version(document: AnnualPlan | AnnualReport | None) -> str:
    return version_of(document, _figures_of(document))


def _saved(
    request: HttpRequest,
    form: FiguresForm,
    writable: bool,
    save: Callable[..., object],
    done: tuple[Any, Any],
    model: type[AnnualPlan] | type[AnnualReport],
    cluster: Cluster,
    year: int,
) -> bool:
    """A plan or report page's POST: 403 unless `writable`; then the form, the version the page was
    opened at against the document as stored now (under a lock), and one call of the page's service
    with what the form read. True once saved (`done` says so); else False with every refusal on the
    form at once: what could not be read and what the service refuses in the rest, including what the
    submission would refuse.

    A value that cannot be read or is refused saves nothing (the form keeps what was typed). A content
    that is saved but cannot be submitted stays saved as a draft (`form.draft_saved`), and the form
    carries its new version, so that the next submit is not taken for a stale one."""
    if not writable:
        raise PermissionDenied
    submit = "submit" in request.POST
    readable = form.is_valid()
    refusal: ValidationError | None = None
    try:
        with transaction.atomic():
            current = _locked(model, cluster, year)
            check_version(current, form.cleaned_data.get(VERSION_FIELD), related=_figures_of(current))
            try:
                save(**form.service_arguments(), submit=submit, by=request.user)
            except services.SubmissionRefused as refused:
                refusal = refused  # the content is saved: this transaction keeps it
            if not readable:
                # Nothing is saved while a value cannot be read; the service ran so that what it refuses in
                # the rest is said now, in the same round.
                transaction.set_rollback(True)
    except ValidationError as error:
        refusal = error
    if refusal is not None:
        form.add_service_errors(refusal)
    if not form.errors:
        messages.success(request, done[submit])
        return True
    if readable and isinstance(refusal, services.SubmissionRefused):
        form.draft_saved = True  # type: ignore[attr-defined]
        data = request.POST.copy()
        data[VERSION_FIELD] = document_version(model.objects.filter(cluster=cluster, year=year).first())
        form.data = data
    focus_first_error(form)
    return False


def _locked(
    model: type[AnnualPlan] | type[AnnualReport], cluster: Cluster, year: int
) -> AnnualPlan | AnnualReport | None:
    """The cluster's plan or report of `year` as stored now, locked until the save is done."""
    return model.objects.select_for_update().filter(cluster=cluster, year=year).first()


# --- annual plan ---------------------------------------------------------------------------------


@login_required
def plan_edit(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    cluster = get_cluster_by_slug_for_user(request.user, slug)
    _year_or_404(year, plan_years(cluster))
    plan = AnnualPlan.objects.filter(cluster=cluster, year=year).first()
    kpis = list(KpiDefinition.objects.filter(active=True))
    writable = can_write_cluster_documents(request.user, cluster) and (plan is None or plan.is_editable)
    figures = selectors.figures_by_kpi(cluster=cluster, year=year, with_values=False)
    initial: dict[str, Any] = {"planned_actions": plan.planned_actions if plan else ""}
    initial.update({kpi_field_name(k): _plain(figures.target.get(k.pk)) for k in kpis})
    initial[VERSION_FIELD] = document_version(plan)

    form = PlanForm(request.POST or None, kpis=kpis, initial=initial)
    save = partial(services.annual_plan_save, cluster=cluster, year=year)
    if request.method == "POST":
        if _saved(request, form, writable, save, PLAN_SAVED, AnnualPlan, cluster, year):
            return redirect("clusterpacts:plan", slug=cluster.slug, year=year)
        plan = AnnualPlan.objects.filter(cluster=cluster, year=year).first()  # a draft kept by a refused submit
    rows = figure_rows(form, figures, kpis)
    return render(
        request,
        "clusterpacts/plan_edit.html",
        {"cluster": cluster, "year": year, "plan": plan, "form": form, "rows": rows, "writable": writable},
    )


# --- annual report -------------------------------------------------------------------------------


@login_required
def report_edit(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    cluster = get_cluster_by_slug_for_user(request.user, slug)
    _year_or_404(year, report_years(cluster))
    report = AnnualReport.objects.filter(cluster=cluster, year=year).first()
    kpis = list(KpiDefinition.objects.filter(active=True))
    writable = can_write_cluster_documents(request.user, cluster) and (report is None or report.is_editable)
    figures = selectors.figures_by_kpi(cluster=cluster, year=year)
    # The derived KPIs (MEM1, MEM2) are computed from the memberships, shown, never entered: no field.
    reported = [kpi for kpi in kpis if not kpi.is_derived]
    initial: dict[str, Any] = {"narrative": report.narrative if report else ""}
    for kpi in reported:
        stored = figures.value.get(kpi.pk)
        initial[kpi_field_name(kpi)] = _plain(stored.value if stored else None)

    initial[VERSION_FIELD] = document_version(report)

    form = ReportForm(request.POST or None, request.FILES or None, kpis=reported, initial=initial)
    save = partial(services.annual_report_save, cluster=cluster, year=year)
    if request.method == "POST":
        if _saved(request, form, writable, save, REPORT_SAVED, AnnualReport, cluster, year):
            return redirect("clusterpacts:report", slug=cluster.slug, year=year)
        report = AnnualReport.objects.filter(cluster=cluster, year=year).first()  # a draft kept by a refused submit
    return render(
        request,
        "clusterpacts/report_edit.html",
        {
            "cluster": cluster,
            "year": year,
            "report": report,
            "form": form,
            "rows": figure_rows(form, figures, kpis),
            "no_membership_years": _no_membership_years(figures, kpis),
            "projects": figures.derived.basis("projects"),
            "writable": writable,
            "attachments": report.attachments.all() if report else [],
            "events": report.events.select_related("by") if report else [],
        },
    )


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Attachments are served through this view only, after the same scope check as the report (404
    outside it), and always as a sandboxed download (`core.uploads.pdf_download`)."""
    attachment = get_for_user(ReportAttachment, request.user, pk)
    return pdf_download(attachment.file.open("rb"), title=attachment.title or "attachment")


# --- officers: review ----------------------------------------------------------------------------


# The review queue shows this many plans and reports, and this many overdue reports, a page at a time.
REVIEW_PAGE_SIZE = 25
OVERDUE_PAGE_SIZE = 25


@officer_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """Plans and reports, narrowed by kind, cluster, year and state (GET); by default what waits for review;
    a page at a time (`?page=`). Below, the overdue reports of the chosen cluster and year (none when only
    plans are asked for), a page at a time too (`?overdue_page=`): both filtered and counted in the database."""
    today = timezone.localdate()
    clusters = Cluster.objects.for_user(request.user).order_by("name")
    filters = ReviewQueueForm(request.GET or None, clusters=clusters)
    chosen = filters.filters()
    items = paginate(request, selectors.review_documents(user=request.user, **chosen), per_page=REVIEW_PAGE_SIZE)
    overdue = None
    if chosen["kind"] != KIND_PLAN:
        scope = clusters.filter(pk=chosen["cluster"].pk) if chosen["cluster"] else clusters
        overdue = paginate(
            request,
            selectors.overdue_slots(clusters=scope, as_of=today, year=chosen["year"]),
            per_page=OVERDUE_PAGE_SIZE,
            param="overdue_page",
        )
    form = BulkAcceptForm(queryset=AnnualReport.objects.none())
    return render(
        request,
        "clusterpacts/review_queue.html",
        {
            "items": items.items,
            "pager": items,
            "filters": filters,
            "waiting": chosen["states"] == [Workflow.SUBMITTED],
            "bulk": any(i.kind == KIND_REPORT and i.document.status == Workflow.SUBMITTED for i in items.items),
            "overdue": overdue.items if overdue else [],
            "overdue_pager": overdue,
            "show_overdue": chosen["kind"] != KIND_PLAN,
            "form": form,
            "today": today,
        },
    )


def _review(request: HttpRequest, document: services.Document) -> HttpResponse | ReviewForm:
    """Accept or return `document` as it was when the page opened (its version), with the comment;
    the redirect once decided, else the form with the refusal on it."""
    plan = isinstance(document, AnnualPlan)
    form = ReviewForm(request.POST or None, plan=plan, initial={VERSION_FIELD: document_version(document)})
    if request.method != "POST" or not form.is_valid():
        return form
    to = {"accept": Workflow.ACCEPTED, "return": Workflow.RETURNED}.get(request.POST.get("decision") or "")
    if to is None:
        form.add_error(
            None,
            gettext("Choose to accept or to return the plan.")
            if plan
            else gettext("Choose to accept or to return the report."),
        )
        focus_first_error(form)
        return form
    comment = form.cleaned_data["comment"]
    try:
        with transaction.atomic():
            # The officer decides on the document as it was when the page opened, not on a later change.
            stored = _locked(type(document), document.cluster, document.year)
            if stored is not None:  # a move the workflow refuses anyway is refused for that reason
                check_transition(stored.status, to, comment, plan=plan)
            check_version(stored, form.cleaned_data[VERSION_FIELD], related=_figures_of(stored))
            services.document_transition(document=document, to=to, by=request.user, comment=comment)
    except ValidationError as error:
        errors_to_form(form, error, {"review_comment": "comment", "status": None})
        focus_first_error(form)
        return form
    messages.success(
        request,
        gettext("%(report)s was accepted.") % {"report": document}
        if to == Workflow.ACCEPTED
        else gettext("%(report)s was returned to the cluster.") % {"report": document},
    )
    return redirect("clusterpacts:review")


@officer_required
def review_report(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_for_user(AnnualReport, request.user, pk)
    decided = _review(request, report)
    if not isinstance(decided, ReviewForm):
        return decided
    kpis = list(KpiDefinition.objects.filter(active=True))
    figures = selectors.figures_by_kpi(cluster=report.cluster, year=report.year)
    return render(
        request,
        "clusterpacts/review_report.html",
        {
            "report": report,
            "cluster": report.cluster,
            "rows": figure_rows(None, figures, kpis),
            "no_membership_years": _no_membership_years(figures, kpis),
            "projects": figures.derived.basis("projects"),
            "form": decided,
            "attachments": report.attachments.all(),
            "events": report.events.select_related("by"),
        },
    )


@officer_required
def review_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's review: its actions and targets beside last year's targets and values; accept or return.
    Officers only: a manager gets 403 for every plan, their own included, so an id tells nothing."""
    plan = get_for_user(AnnualPlan, request.user, pk)
    decided = _review(request, plan)
    if not isinstance(decided, ReviewForm):
        return decided
    kpis = list(KpiDefinition.objects.filter(active=True))
    figures = selectors.figures_by_kpi(cluster=plan.cluster, year=plan.year, with_values=False, with_last_target=True)
    rows = []
    for row in figure_rows(None, figures, kpis):
        last_target = figures.last_year_target.get(row["kpi"].pk)
        row["last_year_target"] = last_target
        row["last_year_achievement"] = row["kpi"].achievement(row["last_year"], last_target)
        rows.append(row)
    return render(
        request,
        "clusterpacts/review_plan.html",
        {
            "plan": plan,
            "cluster": plan.cluster,
            "rows": rows,
            "form": decided,
            "events": plan.events.select_related("by"),
        },
    )


@officer_required
@require_POST
def review_bulk_accept(request: HttpRequest) -> HttpResponse:
    """Accept each chosen report that is submitted; say which could not be accepted and why."""
    form = BulkAcceptForm(request.POST, queryset=AnnualReport.objects.for_user(request.user))
    if not form.is_valid():
        for error in form.errors.get("reports", []):
            messages.error(request, str(error))
        return redirect("clusterpacts:review")
    accepted = []
    for report in form.cleaned_data["reports"].select_related("cluster"):
        try:
            services.document_transition(document=report, to=Workflow.ACCEPTED, by=request.user)
        except ValidationError as error:
            messages.error(request, f"{report}: {' '.join(error.messages)}")
        else:
            accepted.append(str(report))
    if accepted:
        messages.success(
            request,
            ngettext(
                "Accepted %(count)d report: %(reports)s.", "Accepted %(count)d reports: %(reports)s.", len(accepted)
            )
            % {"count": len(accepted), "reports": "; ".join(accepted)},
        )
    return redirect(reverse("clusterpacts:review"))
