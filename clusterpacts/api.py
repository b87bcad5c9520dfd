"""REST API v1 for clusters, members, pacts, annual plans and reports, and KPIs."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from clusterpacts import services
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    Workflow,
)
from clusterpacts.permissions import can_write
from core.api import (
    DATE_RANGE,
    OfficerOnly,
    ScopedFilterSet,
    ScopedViewSet,
    ServiceSerializer,
    etag_of,
)

# --- clusters and members ------------------------------------------------------------------------


class ClusterSerializer(ServiceSerializer):
    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "slug",
            "kind",
            "domain",
            "legal_entity",
            "enterprise_number",
            "website",
            "recognised_on",
            "started_on",
            "active",
            "description",
        ]


class ClusterFilter(ScopedFilterSet):
    class Meta:
        model = Cluster
        fields = {"kind": ["exact"], "active": ["exact"], "slug": ["exact"], "name": ["exact", "icontains"]}


class ClusterViewSet(ScopedViewSet):
    """The clusters: spearhead clusters and innovative business networks."""

    queryset = Cluster.objects.all()
    serializer_class = ClusterSerializer
    filterset_class = ClusterFilter
    ordering_fields = ["name", "started_on", "recognised_on"]
    ordering = ["name"]
    search_fields = ["name", "domain"]


class OrganisationSerializer(ServiceSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "enterprise_number", "website", "founded_on", "ceased_on", "is_sme"]
        read_only_fields = ["is_sme"]


class OrganisationFilter(ScopedFilterSet):
    cluster = django_filters.ModelChoiceFilter(
        field_name="memberships__cluster", queryset=Cluster.objects.all(), distinct=True, label="cluster"
    )

    class Meta:
        model = Organisation
        fields = {"kind": ["exact"], "enterprise_number": ["exact"], "name": ["icontains"]}


class OrganisationViewSet(ScopedViewSet):
    queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "kind"]
    ordering = ["name"]


class MembershipSerializer(ServiceSerializer):
    class Meta:
        model = Membership
        fields = ["id", "organisation", "cluster", "joined_on", "left_on", "paying"]

    def save_instance(self, instance: Membership) -> Membership:
        return services.membership_save(membership=instance)


class MembershipFilter(ScopedFilterSet):
    active_on = django_filters.DateFilter(method="filter_active_on", label="active on (YYYY-MM-DD)")

    class Meta:
        model = Membership
        fields = {
            "cluster": ["exact"],
            "organisation": ["exact"],
            "organisation__kind": ["exact"],
            "paying": ["exact"],
            "joined_on": ["gte", "lte"],
            "left_on": ["gte", "lte", "isnull"],
        }

    def filter_active_on(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.active_on(value)


class MembershipViewSet(ScopedViewSet):
    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["joined_on", "left_on", "id"]
    ordering = ["cluster", "joined_on", "id"]


# --- pacts ---------------------------------------------------------------------------------------


class PactSerializer(ServiceSerializer):
    class Meta:
        model = ClusterPact
        fields = ["id", "cluster", "version", "status", "signed_on", "programme_summary", "notes"]
        read_only_fields = ["version", "status", "signed_on"]

    def save_instance(self, instance: ClusterPact) -> ClusterPact:
        if instance.pk is None:
            return services.pact_create(
                cluster=instance.cluster, programme_summary=instance.programme_summary, notes=instance.notes
            )
        return services.entity_save(instance=instance)


class SignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(
        help_text="The day the version was signed (not in the future).", validators=DATE_RANGE
    )


class PactFilter(ScopedFilterSet):
    class Meta:
        model = ClusterPact
        fields = {"cluster": ["exact"], "status": ["exact"], "version": ["exact"], "signed_on": ["gte", "lte"]}


class PactViewSet(ScopedViewSet):
    """Cluster pacts, one version after another; signing a version supersedes the current one."""

    queryset = ClusterPact.objects.all()
    serializer_class = PactSerializer
    filterset_class = PactFilter
    ordering_fields = ["version", "signed_on"]
    ordering = ["cluster", "-version"]

    @extend_schema(request=SignSerializer, responses={200: PactSerializer})
    @action(detail=True, methods=["post"], permission_classes=[OfficerOnly])
    def sign(self, request: Request, pk: Any = None) -> Response:
        """Sign this draft version; the cluster's current signed version becomes superseded."""
        pact = self.get_object()  # in the user's scope (else 404), then officers only (else 403)
        data = SignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pact = services.pact_sign(pact=pact, signed_on=data.validated_data["signed_on"])
        return Response(PactSerializer(pact, context=self.get_serializer_context()).data)


class CommitmentSerializer(ServiceSerializer):
    class Meta:
        model = Commitment
        fields = ["id", "pact", "party", "description", "status", "due_on"]


class CommitmentFilter(ScopedFilterSet):
    cluster = django_filters.ModelChoiceFilter(field_name="pact__cluster", queryset=Cluster.objects.all())

    class Meta:
        model = Commitment
        fields = {"pact": ["exact"], "party": ["exact"], "status": ["exact"]}


class CommitmentViewSet(ScopedViewSet):
    queryset = Commitment.objects.all()
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    ordering_fields = ["due_on", "id"]
    ordering = ["pact", "party", "id"]


# --- plans and reports ---------------------------------------------------------------------------


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


# The service's own message (the admin shows it too), on the API's field name.
COMMENT_REQUIRED = gettext_lazy("Say why the report is returned: a comment is required.")


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(
        help_text="Why the report is returned; required.",
        error_messages={"required": COMMENT_REQUIRED, "blank": COMMENT_REQUIRED, "null": COMMENT_REQUIRED},
    )


PLAN_COMMENT_REQUIRED = gettext_lazy("Say why the plan is returned: a comment is required.")


class PlanReturnSerializer(serializers.Serializer):
    """ReturnSerializer for a plan: the refusal names the plan, in the words of `check_transition`."""

    comment = serializers.CharField(
        help_text="Why the plan is returned; required.",
        error_messages={
            "required": PLAN_COMMENT_REQUIRED,
            "blank": PLAN_COMMENT_REQUIRED,
            "null": PLAN_COMMENT_REQUIRED,
        },
    )


class WorkflowSerializer(ServiceSerializer):
    # The years the database accepts (a check constraint); the due date is computed from the year.
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="The (working) year.")

    def save_instance(self, instance: Any) -> Any:
        if instance.pk is None:
            return services.entity_save(instance=instance)
        return services.document_update(document=instance)


class WorkflowActions:
    """submit/ (managers of the cluster and officers), accept/ and return/ (officers)."""

    def _transition(self, request: Request, to: str, payload: type[serializers.Serializer] | None = None) -> Response:
        # The document in the user's scope (else 404), then the action's permission on it (else 403),
        # and only then the payload.
        document = self.get_object()  # type: ignore[attr-defined]
        comment = ""
        if payload is ReturnSerializer and isinstance(document, AnnualPlan):
            payload = PlanReturnSerializer
        if payload is not None:
            data = payload(data=request.data)
            data.is_valid(raise_exception=True)
            comment = data.validated_data["comment"]
        if to == Workflow.SUBMITTED:  # complete, as in the portal
            document = services.document_submit(document=document, by=request.user)
        else:
            document = services.document_transition(document=document, to=to, by=request.user, comment=comment)
        data = self.get_serializer(document).data  # type: ignore[attr-defined]
        response = Response(data)
        response["ETag"] = etag_of(data)
        return response

    @extend_schema(request=None)  # answers the document, as its viewset serializes it
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        """Submit a draft or returned document for review."""
        return self._transition(request, Workflow.SUBMITTED)

    @extend_schema(request=CommentSerializer)
    @action(detail=True, methods=["post"], permission_classes=[OfficerOnly])
    def accept(self, request: Request, pk: Any = None) -> Response:
        """Accept a submitted document: its values become official and it can no longer change."""
        return self._transition(request, Workflow.ACCEPTED, CommentSerializer)

    @extend_schema(request=ReturnSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return", permission_classes=[OfficerOnly])
    def return_(self, request: Request, pk: Any = None) -> Response:
        """Return a submitted document to the cluster with a comment saying what to correct."""
        return self._transition(request, Workflow.RETURNED, ReturnSerializer)


class AnnualPlanSerializer(WorkflowSerializer):
    class Meta:
        model = AnnualPlan
        fields = [
            "id",
            "cluster",
            "year",
            "status",
            "planned_actions",
            "submitted_at",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = ["status", "submitted_at", "reviewed_at", "review_comment"]


class WorkflowFilter(ScopedFilterSet):
    class Meta:
        fields = {"cluster": ["exact"], "year": ["exact", "gte", "lte"], "status": ["exact", "in"]}


class AnnualPlanFilter(WorkflowFilter):
    class Meta(WorkflowFilter.Meta):
        model = AnnualPlan


class AnnualPlanViewSet(WorkflowActions, ScopedViewSet):
    """Annual plans: planned actions and, as kpi-targets, a target per KPI for the year."""

    queryset = AnnualPlan.objects.all()
    serializer_class = AnnualPlanSerializer
    filterset_class = AnnualPlanFilter
    manager_may_write = staticmethod(can_write)
    ordering_fields = ["year", "submitted_at"]
    ordering = ["cluster", "-year"]


class AnnualReportSerializer(WorkflowSerializer):
    overdue = serializers.SerializerMethodField(help_text="Not submitted and past its due date (today).")

    class Meta:
        model = AnnualReport
        fields = [
            "id",
            "cluster",
            "year",
            "status",
            "narrative",
            "due_on",
            "overdue",
            "submitted_at",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = ["status", "due_on", "submitted_at", "reviewed_at", "review_comment"]

    def get_overdue(self, obj: AnnualReport) -> bool:
        # Today once per serializer (a list's rows share one), not once per row: each asks the time zone.
        if "_today" not in self.__dict__:
            self._today = timezone.localdate()
        return obj.is_overdue(self._today)


class AnnualReportFilter(WorkflowFilter):
    class Meta(WorkflowFilter.Meta):
        model = AnnualReport


class AnnualReportViewSet(WorkflowActions, ScopedViewSet):
    """Annual reports on a working year: narrative and, as kpi-values, the KPI actuals."""

    queryset = AnnualReport.objects.all()
    serializer_class = AnnualReportSerializer
    filterset_class = AnnualReportFilter
    manager_may_write = staticmethod(can_write)
    ordering_fields = ["year", "due_on", "submitted_at"]
    ordering = ["cluster", "-year"]


# --- KPIs ----------------------------------------------------------------------------------------


class KpiSerializer(ServiceSerializer):
    class Meta:
        model = KpiDefinition
        fields = [
            "id",
            "code",
            "name_nl",
            "name_en",
            "unit",
            "category",
            "direction",
            "source",
            "description",
            "active",
            "position",
        ]


class KpiFilter(ScopedFilterSet):
    class Meta:
        model = KpiDefinition
        fields = {
            "code": ["exact"],
            "unit": ["exact"],
            "category": ["exact"],
            "source": ["exact"],
            "active": ["exact"],
        }


class KpiViewSet(ScopedViewSet):
    """The KPI catalogue."""

    queryset = KpiDefinition.objects.all()
    serializer_class = KpiSerializer
    filterset_class = KpiFilter
    ordering_fields = ["position", "code"]
    ordering = ["position", "code"]


class FigureSerializer(ServiceSerializer):
    document_field = ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A figure stays with its document and KPI; change the value, or create another figure."""
        if self.instance is None and not attrs.get(self.document_field):
            raise serializers.ValidationError({self.document_field: "This field is required."})
        if self.instance is not None:
            for name in (self.document_field, "kpi"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: "This cannot change; create a new figure instead."})
        return attrs


class KpiTargetSerializer(FigureSerializer):
    document_field = "plan"

    class Meta:
        model = KpiTarget
        fields = ["id", "plan", "cluster", "kpi", "year", "value"]
        read_only_fields = ["cluster", "year"]

    def save_instance(self, instance: KpiTarget) -> KpiTarget:
        if instance.plan is None:  # a target entered without a plan (in the admin) is changed there
            raise serializers.ValidationError({"plan": "This field is required."})
        return services.kpi_target_set(plan=instance.plan, kpi=instance.kpi, value=instance.value)


class KpiValueSerializer(FigureSerializer):
    document_field = "report"
    official = serializers.SerializerMethodField(help_text="True once the report is accepted; otherwise pending.")

    class Meta:
        model = KpiValue
        fields = ["id", "report", "cluster", "kpi", "year", "value", "official"]
        read_only_fields = ["cluster", "year"]

    def get_official(self, obj: KpiValue) -> bool:
        return obj.is_official

    def save_instance(self, instance: KpiValue) -> KpiValue:
        return services.kpi_value_set(report=instance.report, kpi=instance.kpi, value=instance.value)


class FigureFilter(ScopedFilterSet):
    kpi_code = django_filters.CharFilter(field_name="kpi__code", label="KPI code")

    class Meta:
        fields = {"cluster": ["exact"], "kpi": ["exact"], "year": ["exact", "gte", "lte"]}


class KpiTargetFilter(FigureFilter):
    class Meta(FigureFilter.Meta):
        model = KpiTarget
        fields = {**FigureFilter.Meta.fields, "plan": ["exact"]}


class KpiValueFilter(FigureFilter):
    official = django_filters.BooleanFilter(method="filter_official", label="official (accepted report)")

    class Meta(FigureFilter.Meta):
        model = KpiValue
        fields = {**FigureFilter.Meta.fields, "report": ["exact"]}

    def filter_official(self, queryset: Any, name: str, value: bool) -> Any:
        accepted = {"report__status": Workflow.ACCEPTED}
        return queryset.filter(**accepted) if value else queryset.exclude(**accepted)


class KpiTargetViewSet(ScopedViewSet):
    queryset = KpiTarget.objects.select_related("plan")
    serializer_class = KpiTargetSerializer
    filterset_class = KpiTargetFilter
    manager_may_write = staticmethod(can_write)
    ordering_fields = ["year", "kpi", "cluster"]
    ordering = ["cluster", "year", "kpi"]


class KpiValueViewSet(ScopedViewSet):
    queryset = KpiValue.objects.select_related("report")
    serializer_class = KpiValueSerializer
    filterset_class = KpiValueFilter
    manager_may_write = staticmethod(can_write)
    ordering_fields = ["year", "kpi", "cluster"]
    ordering = ["cluster", "year", "kpi"]


def register(router: BaseRouter) -> None:
    router.register("clusters", ClusterViewSet)
    router.register("organisations", OrganisationViewSet)
    router.register("memberships", MembershipViewSet)
    router.register("pacts", PactViewSet)
    router.register("commitments", CommitmentViewSet)
    router.register("annual-plans", AnnualPlanViewSet)
    router.register("annual-reports", AnnualReportViewSet)
    router.register("kpis", KpiViewSet)
    router.register("kpi-targets", KpiTargetViewSet)
    router.register("kpi-values", KpiValueViewSet)
