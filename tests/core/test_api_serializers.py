"""core/api.py `ModelSerializer`: the fields are worked out once per serializer class (issue 16: about 1.3 ms a
request), and every serializer still gets fields of its own, the same as DRF would have made."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.request import Request

from core.api import ModelSerializer

pytestmark = pytest.mark.django_db


def _api_serializers() -> list[type[ModelSerializer]]:
    from config.api import router

    found: list[type[ModelSerializer]] = []
    for _prefix, viewset, _basename in router.registry:
        serializer_class = getattr(viewset, "serializer_class", None)
        if serializer_class is not None and issubclass(serializer_class, ModelSerializer):
            found.append(serializer_class)
    return found


@pytest.mark.parametrize("serializer_class", _api_serializers(), ids=lambda cls: cls.__name__)
def test_the_fields_are_those_drf_works_out(serializer_class):
    ours = serializer_class().get_fields()
    again = serializer_class().get_fields()
    drf = serializers.ModelSerializer.get_fields(serializer_class())

    assert {name: repr(field) for name, field in ours.items()} == {name: repr(field) for name, field in drf.items()}
    assert all(ours[name] is not again[name] for name in ours)


def test_a_many_field_and_its_child_are_new_for_each_serializer():
    from funding.api import AllocationSerializer

    first, second = AllocationSerializer().fields["partners"], AllocationSerializer().fields["partners"]

    assert isinstance(first, serializers.ManyRelatedField)
    assert first is not second
    assert first.child_relation is not second.child_relation
    assert first.child_relation.parent is first


def test_each_serializers_related_choices_are_those_of_its_own_request(rf, officer, manager, cluster, other_cluster):
    from funding.api import AgreementSerializer

    def choices(user) -> set[int]:
        request = Request(rf.get("/"))
        request.user = user
        field = AgreementSerializer(context={"request": request}).fields["cluster"]
        return {cluster.pk for cluster in field.get_queryset()}

    assert choices(officer) == {cluster.pk, other_cluster.pk}
    assert choices(manager) == {cluster.pk}
    assert choices(officer) == {cluster.pk, other_cluster.pk}


def test_a_date_time_is_written_in_the_zone_active_when_its_serializer_writes():
    from datetime import UTC, datetime

    from django.utils import timezone

    from core.api import DateTimeField

    moment = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    with timezone.override("Europe/Brussels"):
        brussels = DateTimeField()
        assert brussels.to_representation(moment) == serializers.DateTimeField().to_representation(moment)
        assert brussels.to_representation(moment) == "2024-07-01T14:00:00+02:00"
    with timezone.override("UTC"):
        assert DateTimeField().to_representation(moment) == "2024-07-01T12:00:00Z"


def test_the_readable_fields_are_those_drf_lists():
    from funding.api import AgreementSerializer

    serializer = AgreementSerializer()

    assert serializer._readable_fields == list(serializers.ModelSerializer._readable_fields.fget(serializer))
