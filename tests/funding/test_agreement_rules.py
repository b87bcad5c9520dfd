"""Each agreement rule has one home (funding.services.agreement_check): the admin, the API and the service
refuse the same input with the same message on the same field, and save nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from clusterpacts.models import Cluster
from funding.models import SupportAgreement
from funding.services import agreement_create
from tests.factories import completed_interim
from tests.funding.conftest import TERMS_2017
from tests.funding.helpers import YEARLY, make_chain, row_counts, shown

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    """A cluster's agreements so far, the agreement then entered, and the rule's message on its field."""

    existing: Callable[[Cluster], SupportAgreement | None]  # returns the predecessor to name, if any
    start: date
    end: date
    field: str
    fragment: Callable[[], str]  # a part of the message that must be there, literally (in the active language)


def no_agreement(cluster: Cluster) -> None:
    return None


def the_first_term(cluster: Cluster) -> SupportAgreement:
    return agreement_create(
        cluster=cluster, reference="SO-1", start_date=date(2017, 1, 1), end_date=date(2019, 12, 31), amount=YEARLY
    )


def a_first_term_not_named(cluster: Cluster) -> None:
    the_first_term(cluster)  # the new agreement names no predecessor


def the_first_term_evaluated(cluster: Cluster) -> SupportAgreement:
    completed_interim(cluster, date(2019, 5, 15))
    return the_first_term(cluster)


def chain_to_the_last_term(cluster: Cluster) -> SupportAgreement:
    chain = make_chain(cluster, TERMS_2017)
    completed_interim(cluster, date(2025, 3, 1))
    return chain[-1]


CASES = {
    "term-over-three-years": Case(
        no_agreement,
        date(2017, 1, 1),
        date(2020, 1, 1),
        "end_date",
        lambda: f"at most 3 years: the latest allowed end date is {shown(date(2019, 12, 31))}.",
    ),
    "overlap": Case(
        a_first_term_not_named,
        date(2019, 6, 1),
        date(2021, 12, 31),
        "start_date",
        lambda: f"may not overlap: SO-1 runs from {shown(date(2017, 1, 1))} to {shown(date(2019, 12, 31))}.",
    ),
    "extension-without-interim-evaluation": Case(
        the_first_term,
        date(2020, 1, 1),
        date(2022, 12, 31),
        "predecessor",
        lambda: (
            f"needs an interim evaluation of Catalisti completed between {shown(date(2017, 1, 2))} and "
            f"{shown(date(2020, 1, 1))}"
        ),
    ),
    "past-the-cap": Case(
        chain_to_the_last_term,
        date(2026, 1, 1),
        date(2027, 1, 1),
        "end_date",
        lambda: (
            f"10-year cap of the chain that started on {shown(date(2017, 1, 1))}: the latest allowed end date is "
            f"{shown(date(2026, 12, 31))}."
        ),
    ),
    "not-an-extension-of-the-last": Case(
        a_first_term_not_named,
        date(2020, 1, 1),
        date(2022, 12, 31),
        "predecessor",
        lambda: f"(the last, SO-1, ends on {shown(date(2019, 12, 31))}): a new agreement extends the last one",
    ),
    "start-the-day-after-the-predecessor": Case(
        the_first_term_evaluated,
        date(2020, 2, 1),
        date(2022, 12, 31),
        "start_date",
        lambda: f"An extension starts the day after its predecessor ends: {shown(date(2020, 1, 1))}.",
    ),
}


def entered(cluster: Cluster, case: Case, predecessor: SupportAgreement | None) -> dict[str, str | int]:
    return {
        "cluster": cluster.pk,
        "reference": "SO-NEW",
        "start_date": case.start.isoformat(),
        "end_date": case.end.isoformat(),
        "amount": "500000.00",
        "predecessor": predecessor.pk if predecessor else "",
    }


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_agreement_rule_is_refused_alike_by_the_admin_the_api_and_the_service(
    client: Client, officer, cluster, case: Case
):
    predecessor = case.existing(cluster)
    data = entered(cluster, case, predecessor)
    client.force_login(officer)
    before = row_counts(SupportAgreement)

    with pytest.raises(ValidationError) as caught:
        agreement_create(
            cluster=cluster,
            reference="SO-NEW",
            start_date=case.start,
            end_date=case.end,
            amount=YEARLY,
            predecessor=predecessor,
        )
    by_service = caught.value.message_dict[case.field]
    assert row_counts(SupportAgreement) == before

    response = client.post(reverse("admin:funding_supportagreement_add"), {**data, "signed_on": "", "notes": ""})
    assert response.status_code == 200, "the change form is shown again, with its errors"
    by_admin = response.context["adminform"].form.errors[case.field]
    assert row_counts(SupportAgreement) == before

    response = client.post("/api/v1/agreements/", data, content_type="application/json")
    assert response.status_code == 400
    by_api = response.json()[case.field]
    assert row_counts(SupportAgreement) == before

    assert by_service == by_admin == by_api
    assert case.fragment() in " ".join(by_service)
