"""GET /api/v1/briefing/?as_of=YYYY-MM-DD: the five questions of the seed, answered as of a day (the
summary of the whole programme; the per-cluster detail a page at a time: detail_page, page_size, cluster)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clusterpacts.models import Cluster
from core.api import RolePermission
from insights.selectors import BRIEFING_MAX_PAGE_SIZE, BRIEFING_PAGE_SIZE, briefing


def amount(*, allow_null: bool = False, help_text: str | None = None) -> serializers.DecimalField:
    """An amount or figure, as a JSON number (not a string) with two decimals."""
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=allow_null, help_text=help_text
    )


class ClusterRef(serializers.Serializer):
    cluster = serializers.IntegerField()
    cluster_name = serializers.CharField()


class BriefingEvaluation(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    stage = serializers.ChoiceField(choices=["planned", "in_progress", "reporting", "completed"])
    completed_on = serializers.DateField(allow_null=True)
    conclusion = serializers.CharField(allow_blank=True)


class BriefingEvaluations(ClusterRef):
    evaluations = BriefingEvaluation(many=True)


class BriefingReport(serializers.Serializer):
    year = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["missing", "draft", "submitted", "accepted", "returned"])
    due_on = serializers.DateField(help_text="The report's due date, or the default one while it is not started.")
    overdue = serializers.BooleanField()


class BriefingReports(ClusterRef):
    reports = BriefingReport(many=True)


class BriefingKpiPoint(serializers.Serializer):
    year = serializers.IntegerField()
    target = amount(allow_null=True)
    value = amount(allow_null=True, help_text="Submitted or accepted by as_of.")
    status = serializers.ChoiceField(
        choices=["accepted", "pending", "derived"],
        allow_null=True,
        help_text=(
            "accepted (official) or pending (submitted, not accepted) by as_of; derived: computed from the "
            "memberships at the year's end (official); null: no value."
        ),
    )
    achievement = amount(allow_null=True, help_text="% of target, by direction.")


class BriefingKpi(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    target = amount(allow_null=True)
    value = amount(allow_null=True, help_text="Submitted or accepted by as_of.")
    official = serializers.BooleanField(help_text="The report was accepted by as_of.")
    achievement = amount(allow_null=True, help_text="% of target, by direction.")
    years = BriefingKpiPoint(
        many=True, help_text="Every working year from the cluster's start to the last one ended by as_of."
    )


class BriefingKpis(ClusterRef):
    year = serializers.IntegerField()
    kpis = BriefingKpi(many=True)


class BriefingLesson(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["good_practice", "bottleneck"])
    text = serializers.CharField()
    follow_up = serializers.CharField(allow_blank=True)
    evaluation = serializers.IntegerField()
    evaluation_title = serializers.CharField()
    carried_into_version = serializers.IntegerField(allow_null=True)
    carried_into_signed_on = serializers.DateField(allow_null=True)


class BriefingLessons(ClusterRef):
    lessons = BriefingLesson(many=True)


class BriefingEvaluationRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    completed_on = serializers.DateField()


class BriefingChainLink(serializers.Serializer):
    reference = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    signed_on = serializers.DateField(allow_null=True)
    extends = serializers.CharField(allow_null=True, help_text="The reference of the agreement it extends.")
    rests_on = BriefingEvaluationRef(
        allow_null=True, help_text="The completed interim evaluation that allowed the extension."
    )


class BriefingPact(serializers.Serializer):
    version = serializers.IntegerField()
    signed_on = serializers.DateField()
    current = serializers.BooleanField(help_text="The last version signed by as_of.")


class BriefingRenewal(ClusterRef):
    agreement = serializers.CharField(allow_null=True, help_text="The agreement running (or last started) on as_of.")
    first_start = serializers.DateField(allow_null=True, help_text="The start of the chain's first agreement.")
    chain = BriefingChainLink(many=True, help_text="The agreements signed by as_of, by start date.")
    pacts = BriefingPact(many=True, help_text="The pact versions signed by as_of.")
    next_renewal_on = serializers.DateField(
        allow_null=True, help_text="The day an extension would start; null in the final term."
    )
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    cap_date = serializers.DateField(required=False)
    final_term = serializers.BooleanField(required=False)
    renewal_due = serializers.BooleanField(required=False)
    reaches_cap_within_a_year = serializers.BooleanField(required=False)
    state = serializers.ChoiceField(choices=["final_term", "renewal_due", "running", "ended"], required=False)


money = amount  # `amount` is also a field's name below, where it hides the function


class BriefingReservation(ClusterRef):
    amount = money(help_text="Reserved for the cluster's competitiveness programme (0: projects without one).")
    decided = money(help_text="Granted to the projects the cluster leads, decided in the year by as_of.")
    projects = serializers.IntegerField(help_text="The number of those projects.")
    remaining = money(help_text="amount - decided; negative when more was decided than reserved.")
    over = money(help_text="decided - amount when more was decided than reserved, else 0.")


class BriefingBudget(serializers.Serializer):
    year = serializers.IntegerField()
    envelope = amount()
    reservations = BriefingReservation(many=True, help_text="Those of the clusters detailed.")
    reserved = amount(help_text="Total of the reservations (of every cluster, also those not listed).")
    reservation_count = serializers.IntegerField(
        help_text="The clusters with a reservation, or projects decided against one, that year (listed or not)."
    )
    inter_cluster = amount()
    other = amount(allow_null=True, help_text="Null for a cluster manager: not every allocation is theirs to see.")
    remaining = amount(allow_null=True, help_text="Envelope - every allocation; null for a cluster manager.")
    decided = serializers.BooleanField(help_text="At least one allocation of the year was decided by as_of.")
    projects_decided = amount(help_text="Decided in the year by as_of against the reservations listed.")
    inter_cluster_decided = amount(help_text="Inter-cluster projects decided in the year by as_of.")
    inter_cluster_projects = serializers.IntegerField(help_text="The number of those inter-cluster projects.")
    inter_cluster_remaining = amount(help_text="inter_cluster - inter_cluster_decided; negative when exceeded.")


class BriefingExceeded(ClusterRef):
    over = amount(help_text="Decided beyond the reservation.")


class BriefingSummaryFigures(serializers.Serializer):
    clusters = serializers.IntegerField()
    evaluations_completed = serializers.IntegerField()
    reports_pending = serializers.IntegerField(help_text="Submitted, not accepted by as_of.")
    kpi_targets_met = serializers.IntegerField()
    kpi_targets_measured = serializers.IntegerField(help_text="Targets with an accepted value.")
    budget_year = serializers.IntegerField(allow_null=True)
    budget_envelope = amount(allow_null=True)
    budget_committed = amount(allow_null=True, help_text="Allocated of the year's envelope by as_of (that you see).")
    projects_decided = amount(
        allow_null=True,
        help_text="Decided in projects of budget_year by as_of against the reservations (that you see).",
    )
    inter_cluster_decided = amount(
        allow_null=True, help_text="Decided in inter-cluster projects of budget_year by as_of (that you see)."
    )
    reservations_exceeded = BriefingExceeded(
        many=True,
        help_text="The first (by cluster name, at most 10) of the reservations of budget_year more was decided "
        "against by as_of than reserved.",
    )
    reservations_exceeded_count = serializers.IntegerField(help_text="How many reservations were exceeded in all.")


class BriefingDetail(serializers.Serializer):
    page = serializers.IntegerField(help_text="The page of clusters detailed (detail_page), by name.")
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    clusters = serializers.IntegerField(help_text="The clusters the detail runs over: every one, or the one asked.")
    first = serializers.IntegerField(help_text="The position of the page's first cluster (1-based; 0 without any).")
    last = serializers.IntegerField()
    chosen = serializers.BooleanField(help_text="The detail is of the cluster asked for (cluster=).")


class BriefingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    summary = serializers.CharField(help_text="One paragraph in the request's language, to open a reply with.")
    summary_figures = BriefingSummaryFigures()
    detail = BriefingDetail(
        help_text="The per-cluster answers below (evaluations to budget reservations) are of these clusters; the "
        "summary and the budget's totals count every cluster."
    )
    evaluations = BriefingEvaluations(many=True)
    reports = BriefingReports(many=True)
    kpis = BriefingKpis(many=True)
    lessons = BriefingLessons(many=True)
    renewals = BriefingRenewal(many=True)
    budget = BriefingBudget(many=True)


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="The day to answer as of (default: today).")

    def validate_as_of(self, value: Any) -> Any:
        if not 2000 <= value.year <= 2100:
            raise serializers.ValidationError("Choose a day between 2000 and 2100.")
        return value


class BriefingQuerySerializer(AsOfSerializer):
    detail_page = serializers.IntegerField(required=False, min_value=1, help_text="The page of clusters detailed.")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=BRIEFING_MAX_PAGE_SIZE, help_text="Clusters per page of detail."
    )
    cluster = serializers.SlugField(required=False, help_text="Detail this cluster only (its slug).")


class BriefingView(APIView):
    """The briefing: evaluations, reports, KPIs, lessons, renewals and budget, as of a day. The summary counts
    the whole programme; the per-cluster answers detail a page of clusters (detail_page, page_size), or one."""

    permission_classes = [RolePermission]

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM-DD; default today."),
            OpenApiParameter("detail_page", int, description="The page of clusters detailed, by name; default 1."),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Clusters per page of detail; default {BRIEFING_PAGE_SIZE}, "
                f"at most {BRIEFING_MAX_PAGE_SIZE}.",
            ),
            OpenApiParameter("cluster", str, description="Detail only this cluster (its slug)."),
        ],
        responses={
            200: BriefingSerializer,
            400: OpenApiResponse(description="as_of is not a day (YYYY-MM-DD), or a page is not a number."),
            404: OpenApiResponse(description="No cluster of that slug that you may see."),
        },
        operation_id="briefing_retrieve",
    )
    def get(self, request: Request) -> Response:
        query = BriefingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        as_of = asked.get("as_of") or timezone.localdate()
        detail_of = None
        if asked.get("cluster"):
            detail_of = Cluster.objects.for_user(request.user).filter(slug=asked["cluster"])
            if not detail_of.exists():
                raise NotFound()
        data = briefing(
            user=request.user,
            as_of=as_of,
            detail_of=detail_of,
            page=asked.get("detail_page", 1),
            page_size=asked.get("page_size"),
        )
        return Response(BriefingSerializer(data).data)
