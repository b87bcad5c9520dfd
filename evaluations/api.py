"""REST API v1 for evaluations, their findings, and lessons."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from clusterpacts.models import Cluster
from core.api import DATE_RANGE, OfficerOnly, ScopedFilterSet, ScopedViewSet, ServiceSerializer
from core.inline import Inline
from evaluations import services
from evaluations.models import Conclusion, Evaluation, Finding, Lesson, Stage


class FindingSerializer(ServiceSerializer):
    class Meta:
        model = Finding
        fields = ["id", "evaluation", "criterion", "assessment", "text"]


class EvaluationSerializer(ServiceSerializer):
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = Evaluation
        fields = ["id", *Evaluation.RECORDED_FIELDS, "findings"]


class AdvanceSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    on = serializers.DateField(
        help_text="The day the evaluation reached the stage (not in the future).", validators=DATE_RANGE
    )
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, required=False, allow_blank=True, default="")


class EvaluationFilter(ScopedFilterSet):
    class Meta:
        model = Evaluation
        fields = {
            "cluster": ["exact"],
            "kind": ["exact"],
            "stage": ["exact", "in"],
            "conclusion": ["exact"],
            "completed_on": ["gte", "lte", "isnull"],
            "period_start": ["gte", "lte"],
            "period_end": ["gte", "lte"],
        }


class EvaluationViewSet(ScopedViewSet):
    """Evaluations of the cluster pacts; stages move forward only."""

    queryset = Evaluation.objects.prefetch_related("findings")
    # A list reads the findings in its page query (FindingSerializer's fields, in the model's order).
    inlined = (Inline("findings", ("id", "evaluation_id", "criterion", "assessment", "text"), ("criterion", "id")),)
    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter
    ordering_fields = ["period_end", "completed_on", "planned_on"]
    ordering = ["cluster", "-period_end", "id"]

    @extend_schema(request=AdvanceSerializer, responses={200: EvaluationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[OfficerOnly])
    def advance(self, request: Request, pk: Any = None) -> Response:
        """Move the evaluation forward to a later stage, reached on the given day."""
        evaluation = self.get_object()  # in the user's scope (else 404), then officers only (else 403)
        data = AdvanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = services.evaluation_advance(
            evaluation=evaluation,
            to=data.validated_data["stage"],
            on=data.validated_data["on"],
            conclusion=data.validated_data["conclusion"],
        )
        return Response(self.get_serializer(evaluation).data)


class FindingFilter(ScopedFilterSet):
    class Meta:
        model = Finding
        fields = {"evaluation": ["exact"], "criterion": ["exact"], "assessment": ["exact"]}


class FindingViewSet(ScopedViewSet):
    queryset = Finding.objects.all()
    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    ordering = ["evaluation", "criterion"]


class LessonSerializer(ServiceSerializer):
    cluster = serializers.IntegerField(source="evaluation.cluster_id", read_only=True)

    class Meta:
        model = Lesson
        fields = ["id", "evaluation", "cluster", "kind", "text", "follow_up", "carried_into", "status"]


class LessonFilter(ScopedFilterSet):
    cluster = django_filters.ModelChoiceFilter(field_name="evaluation__cluster", queryset=Cluster.objects.all())

    class Meta:
        model = Lesson
        fields = {"evaluation": ["exact"], "kind": ["exact"], "status": ["exact"], "carried_into": ["exact"]}


class LessonViewSet(ScopedViewSet):
    """Lessons from evaluations: good practices and bottlenecks, and the pact they were carried into."""

    queryset = Lesson.objects.select_related("evaluation")
    serializer_class = LessonSerializer
    filterset_class = LessonFilter
    ordering = ["evaluation", "kind", "id"]


def register(router: BaseRouter) -> None:
    router.register("evaluations", EvaluationViewSet)
    router.register("findings", FindingViewSet)
    router.register("lessons", LessonViewSet)
