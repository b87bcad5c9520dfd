"""REST API v1 for support agreements, budget years, allocations, the projects decided against them, and flags."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import DecimalField, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from clusterpacts.models import Cluster, Organisation
from core.api import (
    DATE_RANGE,
    ModelSerializer,
    OfficerOnly,
    ReadOnlyScopedViewSet,
    ScopedFilterSet,
    ScopedRelatedField,
    ScopedViewSet,
    ServiceSerializer,
)
from core.inline import Inline
from funding import services
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement
from funding.selectors import AgreementTerm, agreement_term


class AgreementSerializer(ServiceSerializer):
    cap_date = serializers.SerializerMethodField(help_text="First start of the chain + 10 years - 1 day.")
    final_term = serializers.SerializerMethodField(help_text="It ends on the cap date: nothing can extend it.")
    _term: AgreementTerm  # of the row being written out: worked out once, read by both fields

    class Meta:
        model = SupportAgreement
        fields = [
            "id",
            "cluster",
            "reference",
            "start_date",
            "end_date",
            "amount",
            "signed_on",
            "predecessor",
            "chain_start",
            "cap_date",
            "final_term",
            "notes",
        ]
        read_only_fields = ["chain_start"]

    def to_representation(self, instance: SupportAgreement) -> dict[str, Any]:
        self._term = agreement_term(instance)
        return super().to_representation(instance)

    def get_cap_date(self, agreement: SupportAgreement) -> date:
        return self._term.cap_date

    def get_final_term(self, agreement: SupportAgreement) -> bool:
        return self._term.final_term

    def save_instance(self, instance: SupportAgreement) -> SupportAgreement:
        return services.agreement_save(agreement=instance)


class AgreementFilter(ScopedFilterSet):
    running_on = django_filters.DateFilter(method="filter_running_on", label="running on (YYYY-MM-DD)")

    class Meta:
        model = SupportAgreement
        fields = {
            "cluster": ["exact"],
            "predecessor": ["exact", "isnull"],
            "start_date": ["gte", "lte"],
            "end_date": ["gte", "lte"],
            "reference": ["exact"],
        }

    def filter_running_on(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.running_on(value)


class AgreementViewSet(ScopedViewSet):
    """Support agreements: terms of at most 3 years, extended in a chain up to the 10-year cap."""

    queryset = SupportAgreement.objects.select_related("predecessor")
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    ordering_fields = ["start_date", "end_date", "reference"]
    ordering = ["cluster", "start_date"]


ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))


class BudgetYearSerializer(ServiceSerializer):
    allocated = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, coerce_to_string=False)
    remaining = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, coerce_to_string=False, help_text="Envelope - allocated."
    )

    class Meta:
        model = BudgetYear
        fields = ["id", "year", "envelope", "allocated", "remaining", "notes"]

    def save_instance(self, instance: BudgetYear) -> BudgetYear:
        return services.budget_year_save(budget_year=instance)


class BudgetYearViewSet(ScopedViewSet):
    """Budget years with their envelope; what remains is computed, never stored."""

    queryset = BudgetYear.objects.annotate(allocated_total=Coalesce(Sum("allocations__amount"), ZERO))
    serializer_class = BudgetYearSerializer
    filterset_fields = {"year": ["exact", "gte", "lte"]}
    ordering_fields = ["year"]
    ordering = ["year"]


class AllocationSerializer(ServiceSerializer):
    partners = ScopedRelatedField(many=True, queryset=Cluster.objects.all(), required=False)

    class Meta:
        model = Allocation
        fields = ["id", "budget_year", "purpose", "cluster", "partners", "amount", "description", "decided_on"]

    def save_instance(self, instance: Allocation, partners: Any = None) -> Allocation:
        return services.allocation_save(allocation=instance, partners=partners)

    def create(self, validated_data: dict[str, Any]) -> Allocation:
        partners = validated_data.pop("partners", [])
        return self.save_instance(Allocation(**validated_data), partners=partners)

    def update(self, instance: Allocation, validated_data: dict[str, Any]) -> Allocation:
        partners = validated_data.pop("partners", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self.save_instance(instance, partners=partners)


class AllocationFilter(ScopedFilterSet):
    year = django_filters.NumberFilter(field_name="budget_year__year")
    partner = django_filters.ModelChoiceFilter(field_name="partners", queryset=Cluster.objects.all())

    class Meta:
        model = Allocation
        fields = {"budget_year": ["exact"], "purpose": ["exact"], "cluster": ["exact"]}


class AllocationViewSet(ScopedViewSet):
    """Allocations of a budget year: a reservation per cluster, inter-cluster projects, other initiatives."""

    queryset = Allocation.objects.prefetch_related(
        Prefetch("partners", queryset=Cluster.objects.only("id"))  # type: ignore[arg-type]
    )
    # A list reads the partners' ids in its page query, in the clusters' order (their name).
    inlined = (Inline("partners", ("id",), ("name", "id")),)
    serializer_class = AllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["amount", "decided_on", "id"]
    ordering = ["budget_year", "purpose", "id"]


class ProjectPartnerSerializer(ModelSerializer):
    """One partner of a project: written as the organisation's id and its role, read with its name and
    whether it is an SME."""

    organisation = ScopedRelatedField(queryset=Organisation.objects.all())
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    sme = serializers.BooleanField(
        source="organisation.is_sme", read_only=True, help_text="The organisation is an SME (its kind)."
    )

    class Meta:
        model = ProjectPartner
        fields = ["organisation", "organisation_name", "role", "sme"]


class ProjectSerializer(ServiceSerializer):
    """A project with its other clusters and its partners, written together through `project_save`: every
    broken rule is a 400 on its field (`clusters`, `partners`, `amount`, ...) and nothing is saved."""

    clusters = ScopedRelatedField(
        many=True,
        queryset=Cluster.objects.all(),
        required=False,
        help_text="The other clusters of an inter-cluster project, besides the lead cluster. "
        "Left out of a PUT or PATCH: kept as they are.",
    )
    partners = ProjectPartnerSerializer(
        many=True,
        required=False,
        help_text="The partner organisations with their role; at most one lead partner. "
        "Sent: they replace the project's partners. Left out of a PUT or PATCH: kept as they are.",
    )
    year = serializers.IntegerField(
        read_only=True, help_text="The budget year it counts in: the year of the decision."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "reference",
            "title",
            "type",
            "lead_cluster",
            "clusters",
            "decided_on",
            "year",
            "amount",
            "start_date",
            "end_date",
            "status",
            "status_on",
            "partners",
        ]
        extra_kwargs = {
            "status_on": {
                "required": False,
                "help_text": "The day the project took its current status (for a decided project: its decision "
                "day, which is the default).",
            }
        }

    def save_instance(
        self, instance: Project, clusters: list[Cluster] | None = None, partners: list[dict[str, Any]] | None = None
    ) -> Project:
        # A partner sent without a role takes the default of PartnerPut (a partner).
        puts = None if partners is None else [services.PartnerPut(**partner) for partner in partners]
        return services.project_save(project=instance, clusters=clusters, partners=puts)

    def create(self, validated_data: dict[str, Any]) -> Project:
        clusters = validated_data.pop("clusters", [])
        partners = validated_data.pop("partners", [])
        return self.save_instance(Project(**validated_data), clusters=clusters, partners=partners)

    def update(self, instance: Project, validated_data: dict[str, Any]) -> Project:
        clusters = validated_data.pop("clusters", None)
        partners = validated_data.pop("partners", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self.save_instance(instance, clusters=clusters, partners=partners)


class ProjectFilter(ScopedFilterSet):
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(),
        method="filter_cluster",
        label="cluster taking part: the lead cluster or one of the other clusters",
    )
    # Bounded by the calendar: a year past it (or 0) would be a 500 from the date lookup, not a 400.
    year = django_filters.NumberFilter(
        field_name="decided_on",
        lookup_expr="year",
        label="year of the decision",
        min_value=1,
        max_value=9999,
        decimal_places=0,
    )

    class Meta:
        model = Project
        fields = {
            "lead_cluster": ["exact"],
            "type": ["exact"],
            "status": ["exact"],
            "decided_on": ["gte", "lte"],
            "reference": ["exact"],
        }

    def filter_cluster(self, queryset: Any, name: str, value: Cluster) -> Any:
        # A subquery rather than a join on the other clusters: no row twice, and no DISTINCT.
        joined = Project.clusters.through.objects.filter(cluster=value).values("project_id")
        return queryset.filter(Q(lead_cluster=value) | Q(pk__in=joined))


class ProjectViewSet(ScopedViewSet):
    """Projects decided against the lead cluster's reservation (an inter-cluster project: against the year's
    inter-cluster allocation). A cluster manager sees the projects their cluster leads or takes part in;
    only officers write."""

    queryset = Project.objects.prefetch_related(
        Prefetch("clusters", queryset=Cluster.objects.only("id")),  # type: ignore[arg-type]
        Prefetch("partners", queryset=ProjectPartner.objects.select_related("organisation")),  # type: ignore[arg-type]
    )
    # A list reads the other clusters and the partners in its page query, in the order of the prefetches
    # (the clusters by name; the partners as ProjectPartner.Meta.ordering), with what the serializers show.
    inlined = (
        Inline("clusters", ("id",), ("name", "id")),
        Inline(
            "partners",
            ("id", "project_id", "organisation_id", "role", "organisation__name", "organisation__kind"),
            ("role", "organisation__name", "id"),
        ),
    )
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    ordering_fields = ["decided_on", "amount", "reference", "start_date", "end_date"]
    ordering = ["-decided_on", "reference"]


class FlagSerializer(ModelSerializer):
    message = serializers.CharField(source="text", read_only=True, help_text="In the request's language.")

    class Meta:
        model = Flag
        fields = ["id", *Flag.SHOWN_FIELDS]
        read_only_fields = fields


class FlagFilter(ScopedFilterSet):
    open = django_filters.BooleanFilter(field_name="resolved_on", lookup_expr="isnull", label="open (not resolved)")

    class Meta:
        model = Flag
        fields = {
            "kind": ["exact", "in"],
            "cluster": ["exact"],
            "agreement": ["exact"],
            "raised_on": ["gte", "lte"],
            "due_on": ["gte", "lte"],
        }


class ScanSerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="Scan as of this day (default: today).", validators=DATE_RANGE
    )


class FlagViewSet(ReadOnlyScopedViewSet):
    """Flags raised by the daily scan: renewals, the 10-year cap, missing evaluations, overdue reports."""

    queryset = Flag.objects.all()
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    ordering_fields = ["raised_on", "due_on", "resolved_on"]
    ordering = ["resolved_on", "due_on", "id"]

    @extend_schema(
        request=ScanSerializer,
        responses={
            200: inline_serializer(
                "ScanResult",
                {
                    "as_of": serializers.DateField(),
                    "raised": FlagSerializer(many=True),
                    "resolved": FlagSerializer(many=True),
                },
            )
        },
    )
    @action(detail=False, methods=["post"], permission_classes=[OfficerOnly])
    def scan(self, request: Request) -> Response:
        """Run the scan now (officers only) and return what it raised and resolved."""
        data = ScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.flags_scan(as_of=data.validated_data.get("as_of") or timezone.localdate())
        return Response(
            {
                "as_of": result.as_of,
                "raised": FlagSerializer(result.raised, many=True).data,
                "resolved": FlagSerializer(result.resolved, many=True).data,
            }
        )


def register(router: BaseRouter) -> None:
    router.register("agreements", AgreementViewSet)
    router.register("budget-years", BudgetYearViewSet)
    router.register("allocations", AllocationViewSet)
    router.register("projects", ProjectViewSet)
    router.register("flags", FlagViewSet)
