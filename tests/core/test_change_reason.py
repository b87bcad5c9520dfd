"""Why a change was made: `core.audit.change_reason` gives every history row written inside its reason."""

from __future__ import annotations

import pytest

from clusterpacts.models import Cluster
from core.audit import change_reason
from core.services import entity_save
from tests import factories

pytestmark = pytest.mark.django_db


def reasons(cluster: Cluster) -> list[str | None]:
    return list(cluster.history.order_by("history_id").values_list("history_change_reason", flat=True))


def test_rows_written_inside_get_the_reason():
    with change_reason("workbook import 2026-12-01"):
        cluster = factories.ClusterFactory(name="Catalisti")
        entity_save(instance=cluster, name="Catalisti vzw")
    assert reasons(cluster) == ["workbook import 2026-12-01", "workbook import 2026-12-01"]


def test_rows_written_outside_have_no_reason():
    cluster = factories.ClusterFactory(name="SIM")
    with change_reason("inside"):
        entity_save(instance=cluster, name="SIM vzw")
    entity_save(instance=cluster, name="SIM")
    assert reasons(cluster) == [None, "inside", None]


def test_a_nested_reason_holds_inside_and_the_outer_one_comes_back():
    cluster = factories.ClusterFactory(name="VIL")
    with change_reason("outer"):
        entity_save(instance=cluster, name="VIL 1")
        with change_reason("inner"):
            entity_save(instance=cluster, name="VIL 2")
        entity_save(instance=cluster, name="VIL 3")
    assert reasons(cluster)[1:] == ["outer", "inner", "outer"]


def test_the_reason_is_cut_to_the_field_length():
    limit = Cluster.history.model._meta.get_field("history_change_reason").max_length
    with change_reason("x" * (limit + 50)):
        cluster = factories.ClusterFactory(name="Flux50")
    assert reasons(cluster) == ["x" * limit]


def test_an_objects_own_reason_is_kept():
    cluster = factories.ClusterFactory(name="Flanders' FOOD")
    cluster._change_reason = "typo"
    with change_reason("import"):
        cluster.name = "Flanders' FOOD vzw"
        cluster.save()
    assert reasons(cluster)[-1] == "typo"


def test_the_reason_is_left_behind_when_an_error_leaves_the_block():
    with pytest.raises(RuntimeError), change_reason("failed import"):
        raise RuntimeError
    cluster = factories.ClusterFactory(name="MEDVIA")
    assert reasons(cluster) == [None]
