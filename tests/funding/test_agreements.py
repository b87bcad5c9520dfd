"""Support agreements: term, overlap, extension, the 10-year cap, editing, database constraints, admin."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from evaluations.models import Evaluation
from funding.models import SupportAgreement, cap_date_for, term_end_limit
from funding.selectors import agreement_term
from funding.services import agreement_create, agreement_extend, agreement_save
from tests.factories import EvaluationFactory, completed_interim
from tests.funding.helpers import (
    ONE_DAY,
    YEARLY,
    make_chain,
    refused,
    refused_by_the_database,
    row_counts,
    shown,
)

pytestmark = pytest.mark.django_db

JAN_2017 = date(2017, 1, 1)
CAP_2017 = date(2026, 12, 31)

# Three full terms from 29 February 2016. As relativedelta counts, 2016-02-29 + 3 years is 2019-02-28,
# so the first term ends on 2019-02-27; the cap (2016-02-29 + 10 years - 1 day) is 2026-02-27.
TERMS_LEAP = [
    (date(2016, 2, 29), date(2019, 2, 27)),
    (date(2019, 2, 28), date(2022, 2, 27)),
    (date(2022, 2, 28), date(2025, 2, 27)),
]


def create(cluster, start: date, end: date, reference: str = "SO-X", **kwargs) -> SupportAgreement:
    return agreement_create(
        cluster=cluster, reference=reference, start_date=start, end_date=end, amount=YEARLY, **kwargs
    )


# --- the limits as functions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "latest_end"),
    [
        (date(2017, 1, 1), date(2019, 12, 31)),
        (date(2018, 7, 15), date(2021, 7, 14)),
        (date(2016, 2, 29), date(2019, 2, 27)),
        (date(2016, 3, 1), date(2019, 2, 28)),
        (date(2017, 3, 1), date(2020, 2, 29)),
    ],
)
def test_term_end_limit_is_start_plus_three_years_less_one_day(start, latest_end):
    assert term_end_limit(start) == latest_end


@pytest.mark.parametrize(
    ("chain_start", "cap"),
    [
        (date(2017, 1, 1), date(2026, 12, 31)),
        (date(2018, 1, 1), date(2027, 12, 31)),
        (date(2016, 2, 29), date(2026, 2, 27)),
        (date(2019, 3, 1), date(2029, 2, 28)),
        (date(2018, 3, 1), date(2028, 2, 29)),
    ],
)
def test_cap_date_is_first_start_plus_ten_years_less_one_day(chain_start, cap):
    assert cap_date_for(chain_start) == cap


# --- rule 1: a term is at most 3 years ----------------------------------------------------------------


def test_a_term_of_exactly_three_years_is_allowed(cluster):
    agreement = create(cluster, JAN_2017, date(2019, 12, 31))

    stored = SupportAgreement.objects.get(pk=agreement.pk)
    assert (stored.start_date, stored.end_date) == (JAN_2017, date(2019, 12, 31))
    assert stored.chain_start == JAN_2017


def test_a_term_one_day_longer_than_three_years_is_refused_with_latest_end_date(cluster):
    with refused("end_date", "at most 3 years", shown(date(2019, 12, 31))):
        create(cluster, JAN_2017, date(2020, 1, 1))


def test_an_agreement_ending_before_it_starts_is_refused(cluster):
    with refused("end_date", "cannot end before it starts"):
        create(cluster, JAN_2017, date(2016, 12, 31))


def test_an_agreement_of_a_single_day_is_allowed(cluster):
    agreement = create(cluster, JAN_2017, JAN_2017)

    assert SupportAgreement.objects.filter(pk=agreement.pk, end_date=JAN_2017).exists()


def test_a_term_starting_on_29_february_may_end_on_27_february_three_years_later(cluster):
    agreement = create(cluster, date(2016, 2, 29), date(2019, 2, 27))

    assert SupportAgreement.objects.get(pk=agreement.pk).end_date == date(2019, 2, 27)


def test_a_term_starting_on_29_february_ending_on_28_february_is_refused_naming_27_february(cluster):
    with refused("end_date", "at most 3 years", shown(date(2019, 2, 27))):
        create(cluster, date(2016, 2, 29), date(2019, 2, 28))


def test_a_longer_term_is_refused_when_editing_too(first_term):
    with refused("end_date", shown(date(2019, 12, 31))):
        agreement_save(agreement=first_term, end_date=date(2020, 1, 1))

    first_term.refresh_from_db()
    assert first_term.end_date == date(2019, 12, 31)


# --- rule 2: agreements of one cluster never overlap --------------------------------------------------


def test_agreements_of_one_cluster_on_consecutive_days_are_allowed(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 31))
    after = agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)

    assert SupportAgreement.objects.filter(cluster=cluster).count() == 2
    assert first_term.end_date + ONE_DAY == after.start_date


def test_an_agreement_overlapping_the_last_day_of_another_is_refused(cluster, first_term):
    with refused("start_date", "may not overlap", "SO-1", shown(JAN_2017), shown(date(2019, 12, 31))):
        create(cluster, date(2019, 12, 31), date(2022, 12, 30))


def test_an_agreement_overlapping_the_first_day_of_another_is_refused(cluster, first_term):
    with refused("start_date", "may not overlap", "SO-1"):
        create(cluster, date(2014, 1, 2), JAN_2017)


def test_an_agreement_inside_another_is_refused(cluster, first_term):
    with refused("start_date", "may not overlap", "SO-1"):
        create(cluster, date(2018, 1, 1), date(2018, 12, 31))


def test_an_agreement_around_another_is_refused(cluster):
    create(cluster, date(2018, 1, 1), date(2018, 12, 31), reference="SO-SHORT")

    with refused("start_date", "may not overlap", "SO-SHORT"):
        create(cluster, JAN_2017, date(2019, 12, 31))


def test_another_clusters_agreement_in_the_same_period_is_allowed(first_term, other_cluster):
    agreement = create(other_cluster, JAN_2017, date(2019, 12, 31), reference="SO-SIM-1")

    assert SupportAgreement.objects.filter(start_date=JAN_2017).count() == 2
    assert agreement.cluster == other_cluster


def test_an_agreement_does_not_overlap_itself_when_edited(first_term):
    agreement_save(agreement=first_term, amount=Decimal("1500000.00"))

    assert SupportAgreement.objects.get(pk=first_term.pk).amount == Decimal("1500000.00")


# --- rule 3: extensions -------------------------------------------------------------------------------


def test_an_extension_starts_the_day_after_its_predecessor_and_joins_its_chain(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))

    extension = agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)

    stored = SupportAgreement.objects.get(pk=extension.pk)
    assert stored.start_date == date(2020, 1, 1)
    assert stored.predecessor == first_term
    assert stored.chain_start == JAN_2017
    assert first_term.successor == stored


@pytest.mark.parametrize("days_after_end", [0, 2], ids=["same-day-as-end", "gap-of-one-day"])
def test_an_extension_not_starting_the_day_after_its_predecessor_is_refused(cluster, first_term, days_after_end):
    completed_interim(cluster, date(2019, 5, 15))

    with refused("start_date", "starts the day after its predecessor ends", shown(date(2020, 1, 1))):
        create(
            cluster,
            first_term.end_date + timedelta(days=days_after_end),
            date(2022, 12, 31),
            reference="SO-2",
            predecessor=first_term,
        )


def test_an_extension_for_another_cluster_is_refused(first_term, other_cluster):
    completed_interim(other_cluster, date(2019, 5, 15))

    with refused("predecessor", "same cluster"):
        create(other_cluster, date(2020, 1, 1), date(2022, 12, 31), reference="SO-SIM-2", predecessor=first_term)


def test_an_agreement_cannot_extend_itself(first_term):
    with refused("predecessor", "cannot extend itself"):
        agreement_save(agreement=first_term, predecessor=first_term)

    assert SupportAgreement.objects.get(pk=first_term.pk).predecessor is None


def test_an_agreement_has_at_most_one_extension(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))
    agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)

    with refused("predecessor", "already exists"):
        create(cluster, date(2020, 1, 1), date(2020, 12, 31), reference="SO-2-BIS", predecessor=first_term)


def test_an_extension_without_a_completed_interim_evaluation_is_refused(cluster, first_term):
    with refused("predecessor", "interim evaluation", str(cluster), shown(date(2017, 1, 2)), shown(date(2020, 1, 1))):
        agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)


@pytest.mark.parametrize(
    ("completed_on", "allowed"),
    [
        (date(2017, 1, 1), False),  # on the predecessor's first day: not strictly after its start
        (date(2017, 1, 2), True),
        (date(2019, 12, 31), True),
        (date(2020, 1, 1), True),  # on the extension's first day
        (date(2020, 1, 2), False),  # after the extension has started
    ],
    ids=str,
)
def test_the_interim_evaluation_is_completed_after_the_predecessor_starts_and_by_the_extension_start(
    cluster, first_term, completed_on, allowed
):
    completed_interim(cluster, completed_on)

    if allowed:
        extension = agreement_extend(
            predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY
        )
        assert SupportAgreement.objects.filter(pk=extension.pk, predecessor=first_term).exists()
    else:
        with refused("predecessor", "interim evaluation"):
            agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)


def test_an_interim_evaluation_of_another_cluster_does_not_allow_an_extension(first_term, other_cluster):
    completed_interim(other_cluster, date(2019, 5, 15))

    with refused("predecessor", "interim evaluation"):
        agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)


@pytest.mark.parametrize("kind", [Evaluation.Kind.FINAL, Evaluation.Kind.AD_HOC])
def test_a_completed_evaluation_that_is_not_interim_does_not_allow_an_extension(cluster, first_term, kind):
    evaluation = completed_interim(cluster, date(2019, 5, 15))
    Evaluation.objects.filter(pk=evaluation.pk).update(kind=kind)

    with refused("predecessor", "interim evaluation"):
        agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)


@pytest.mark.parametrize("completed_on", [None, date(2019, 6, 1)], ids=["no-completion-date", "stray-date"])
def test_an_interim_evaluation_still_in_reporting_does_not_allow_an_extension(cluster, first_term, completed_on):
    EvaluationFactory(
        cluster=cluster,
        stage="reporting",
        started_on=date(2019, 3, 1),
        reporting_on=date(2019, 5, 1),
        # A completion date left behind on an evaluation that is not completed must not count either.
        completed_on=completed_on,
    )

    with refused("predecessor", "interim evaluation"):
        agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)


def test_an_extension_may_not_be_longer_than_three_years(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))

    with refused("end_date", "at most 3 years", shown(date(2022, 12, 31))):
        agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2023, 1, 1), amount=YEARLY)


# --- rule 4: the 10-year cap --------------------------------------------------------------------------


def test_every_agreement_of_a_chain_carries_its_first_start_and_cap_date(chain_2017):
    assert [a.chain_start for a in chain_2017] == [JAN_2017] * 3
    stored = SupportAgreement.objects.filter(pk__in=[a.pk for a in chain_2017]).order_by("start_date")
    assert [a.chain_start for a in stored] == [JAN_2017] * 3
    assert [a.cap_date for a in stored] == [CAP_2017] * 3


def test_an_unsaved_extension_knows_the_cap_of_its_chain(chain_2017):
    extension = SupportAgreement(
        cluster=chain_2017[-1].cluster,
        predecessor=chain_2017[-1],
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )

    assert extension.cap_date == CAP_2017


def test_an_extension_ending_on_the_cap_date_is_allowed_and_is_the_final_term(cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))

    last = agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=CAP_2017, amount=YEARLY)

    stored = SupportAgreement.objects.get(pk=last.pk)
    assert stored.chain_start == JAN_2017
    assert stored.cap_date == CAP_2017
    assert stored.is_final_term
    assert not any(a.is_final_term for a in chain_2017)


def test_extension_past_cap_is_refused_with_latest_end_date(cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))

    with refused("end_date", "10-year cap", shown(JAN_2017), shown(CAP_2017)):
        agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=date(2027, 1, 1), amount=YEARLY)


def test_extension_past_cap_names_the_latest_end_date_as_the_default_language_prints_it(cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))

    with translation.override(settings.LANGUAGE_CODE):
        expected = shown(CAP_2017)
        with refused("end_date", expected):
            agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=date(2027, 1, 1), amount=YEARLY)

    assert expected == "31-12-2026"


def test_extension_past_cap_names_the_cap_not_the_end_of_a_full_term(cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))

    with refused("end_date", shown(CAP_2017)):
        agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=date(2028, 12, 31), amount=YEARLY)


def test_no_extension_follows_a_final_term(cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))
    last = agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=CAP_2017, amount=YEARLY)
    completed_interim(cluster, date(2026, 6, 1))

    with refused("end_date", "10-year cap", shown(CAP_2017)):
        agreement_extend(predecessor=last, reference="SO-5", end_date=date(2027, 1, 1), amount=YEARLY)


def test_a_chain_from_29_february_may_run_until_its_cap_on_27_february_ten_years_later(cluster):
    chain = make_chain(cluster, TERMS_LEAP)
    completed_interim(cluster, date(2024, 3, 1))

    last = agreement_extend(predecessor=chain[-1], reference="SO-4", end_date=date(2026, 2, 27), amount=YEARLY)

    assert last.cap_date == date(2026, 2, 27)
    assert last.is_final_term


def test_a_chain_from_29_february_is_refused_one_day_past_its_cap(cluster):
    chain = make_chain(cluster, TERMS_LEAP)
    completed_interim(cluster, date(2024, 3, 1))

    with refused("end_date", "10-year cap", shown(date(2026, 2, 27))):
        agreement_extend(predecessor=chain[-1], reference="SO-4", end_date=date(2026, 2, 28), amount=YEARLY)


def test_a_second_agreement_without_predecessor_is_refused_so_the_cap_cannot_restart(cluster, first_term):
    # Without this, a "fresh" agreement after the chain would start a new 10-year count.
    with refused("predecessor", "SO-1", "same 10-year cap"):
        create(cluster, date(2021, 1, 1), date(2023, 12, 31), reference="SO-NEW")


def test_an_agreement_without_predecessor_cannot_be_slipped_in_before_the_chain(cluster, first_term):
    with refused("predecessor", "SO-1"):
        create(cluster, date(2013, 1, 1), date(2015, 12, 31), reference="SO-OLD")


def test_another_clusters_chain_does_not_stop_a_first_agreement(cluster, other_cluster, first_term):
    other = create(other_cluster, JAN_2017, date(2019, 12, 31), reference="SO-OTHER")

    assert other.chain_start == JAN_2017


def test_chain_start_is_derived_and_never_taken_as_typed(cluster):
    agreement = agreement_save(
        agreement=SupportAgreement(
            cluster=cluster,
            reference="SO-1",
            start_date=JAN_2017,
            end_date=date(2019, 12, 31),
            amount=YEARLY,
            chain_start=date(2010, 1, 1),
        )
    )

    assert SupportAgreement.objects.get(pk=agreement.pk).chain_start == JAN_2017


@pytest.mark.parametrize(
    ("as_of", "years_left"),
    [
        (date(2016, 12, 31), Decimal("10.0")),  # before the chain starts: the whole ten years
        (JAN_2017, Decimal("10.0")),
        (date(2021, 12, 31), Decimal("5.0")),
        (date(2025, 12, 31), Decimal("1.0")),
        (CAP_2017, Decimal("0.0")),
        (date(2027, 1, 1), Decimal("0.0")),
        (date(2030, 6, 1), Decimal("0.0")),
    ],
    ids=str,
)
def test_years_left_under_the_cap(chain_2017, as_of, years_left):
    assert agreement_term(chain_2017[1]).years_left_under_cap(as_of) == years_left


def test_years_left_under_the_cap_shrink_as_time_passes(chain_2017):
    term = agreement_term(chain_2017[0])

    assert term.years_left_under_cap(date(2020, 1, 1)) > term.years_left_under_cap(date(2023, 1, 1))


# --- rule 5: editing a chain --------------------------------------------------------------------------


def test_shortening_an_agreement_that_has_an_extension_is_refused(chain_2017):
    first, second = chain_2017[0], chain_2017[1]

    with refused("end_date", second.reference, shown(date(2019, 12, 31))):
        agreement_save(agreement=first, end_date=date(2019, 12, 30))

    assert SupportAgreement.objects.get(pk=first.pk).end_date == date(2019, 12, 31)


def test_lengthening_an_agreement_onto_its_extension_is_refused(cluster):
    first, second = make_chain(cluster, [(JAN_2017, date(2018, 12, 31)), (date(2019, 1, 1), date(2021, 12, 31))])
    before = row_counts(SupportAgreement)

    with pytest.raises(ValidationError) as caught:
        agreement_save(agreement=first, end_date=date(2019, 1, 1))

    assert second.reference in str(caught.value.message_dict)
    assert SupportAgreement.objects.get(pk=first.pk).end_date == date(2018, 12, 31)
    assert row_counts(SupportAgreement) == before


def test_moving_the_start_of_an_agreement_that_has_an_extension_is_refused(chain_2017):
    first = chain_2017[0]
    before = row_counts(SupportAgreement)

    with refused("start_date", "can no longer change"):
        agreement_save(agreement=first, start_date=date(2017, 1, 2))

    assert SupportAgreement.objects.get(pk=first.pk).start_date == JAN_2017
    assert row_counts(SupportAgreement) == before
    assert {a.chain_start for a in SupportAgreement.objects.all()} == {JAN_2017}


def test_moving_an_extension_away_from_its_predecessor_is_refused(chain_2017):
    last = chain_2017[-1]

    with refused("start_date", "starts the day after its predecessor ends", shown(date(2023, 1, 1))):
        agreement_save(agreement=last, start_date=date(2023, 1, 2))

    assert SupportAgreement.objects.get(pk=last.pk).start_date == date(2023, 1, 1)


def test_an_agreement_with_an_extension_may_still_change_its_amount_and_notes(chain_2017):
    first = chain_2017[0]

    agreement_save(agreement=first, amount=Decimal("1400000.00"), notes="Indexed.")

    stored = SupportAgreement.objects.get(pk=first.pk)
    assert (stored.amount, stored.notes, stored.end_date) == (Decimal("1400000.00"), "Indexed.", date(2019, 12, 31))


def test_the_last_agreement_of_a_chain_may_be_shortened(chain_2017):
    last = chain_2017[-1]

    agreement_save(agreement=last, end_date=date(2024, 12, 31))

    assert SupportAgreement.objects.get(pk=last.pk).end_date == date(2024, 12, 31)


# --- rule 7: the database holds the rules when the service is bypassed --------------------------------
# A user meets each of these through the services, with a clear message (above, and just below); the
# database constraint is the backstop for a write that bypasses them: one test per constraint.


def raw_agreement(cluster, **overrides) -> dict:
    values = {
        "cluster": cluster,
        "reference": "SO-RAW",
        "start_date": JAN_2017,
        "end_date": date(2019, 12, 31),
        "chain_start": JAN_2017,
        "amount": YEARLY,
    }
    return values | overrides


def test_the_raw_row_used_below_is_valid_for_the_database(cluster):
    # The control for the constraint tests: only the one changed value makes them fail.
    with transaction.atomic():
        SupportAgreement.objects.create(**raw_agreement(cluster))

    assert SupportAgreement.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"end_date": date(2016, 12, 31)}, "agreement_ends_after_start"),
        ({"amount": Decimal("-0.01")}, "agreement_amount_not_negative"),
        ({"chain_start": date(2017, 1, 2)}, "agreement_chain_starts_first"),
    ],
    ids=["ends-before-start", "negative-amount", "chain-starts-later"],
)
def test_the_database_refuses_an_invalid_agreement_created_directly(cluster, overrides, constraint):
    with refused_by_the_database(SupportAgreement, constraint):
        SupportAgreement.objects.create(**raw_agreement(cluster, **overrides))

    assert SupportAgreement.objects.count() == 0


def test_changing_an_agreement_to_end_before_it_starts_is_refused_with_a_clear_message(client, officer, first_term):
    with refused("end_date", "cannot end before it starts"):
        agreement_save(agreement=first_term, end_date=date(2016, 12, 31))

    client.force_login(officer)
    response = client.patch(
        f"/api/v1/agreements/{first_term.pk}/", {"end_date": "2016-12-31"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"end_date": ["An agreement cannot end before it starts."]}
    assert SupportAgreement.objects.get(pk=first_term.pk).end_date == date(2019, 12, 31)


def test_a_negative_amount_is_refused_on_its_field_with_a_clear_message(client, officer, cluster):
    client.force_login(officer)
    payload = {
        "cluster": cluster.pk,
        "reference": "SO-1",
        "start_date": "2017-01-01",
        "end_date": "2019-12-31",
        "amount": "-0.01",
    }

    response = client.post("/api/v1/agreements/", payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"amount": ["The amount cannot be negative."]}, (
        "named on its field, as the admin shows it"
    )
    assert SupportAgreement.objects.count() == 0


def test_the_database_refuses_two_extensions_of_one_agreement(cluster, first_term):
    extension = raw_agreement(
        cluster, start_date=date(2020, 1, 1), end_date=date(2020, 12, 31), predecessor=first_term
    )
    with transaction.atomic():
        SupportAgreement.objects.create(**extension)

    with refused_by_the_database(SupportAgreement, "funding_supportagreement_predecessor_id_key"):
        SupportAgreement.objects.create(**(extension | {"reference": "SO-RAW-2"}))

    assert SupportAgreement.objects.filter(predecessor=first_term).count() == 1


def test_the_database_holds_one_chain_per_cluster_when_the_service_is_bypassed(cluster, first_term):
    with refused_by_the_database(SupportAgreement, "agreement_one_chain_per_cluster"):
        SupportAgreement.objects.create(
            **raw_agreement(
                cluster, start_date=date(2021, 1, 1), end_date=date(2021, 12, 31), chain_start=date(2021, 1, 1)
            )
        )

    assert SupportAgreement.objects.filter(cluster=cluster).count() == 1


# --- rule 8: the admin --------------------------------------------------------------------------------
# Each rule refused alike by the admin, the API and the service: test_agreement_rules.py.


def agreement_form(cluster, start: date, end: date, predecessor: SupportAgreement | None = None, **extra) -> dict:
    return {
        "cluster": cluster.pk,
        "reference": "SO-ADMIN",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "amount": "500000.00",
        "signed_on": "",
        "predecessor": predecessor.pk if predecessor else "",
        "notes": "",
        **extra,
    }


ADD_URL = "admin:funding_supportagreement_add"


def test_the_admin_adds_a_valid_extension_and_sets_its_chain_start(client, officer, cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))
    client.force_login(officer)

    response = client.post(reverse(ADD_URL), agreement_form(cluster, date(2020, 1, 1), date(2022, 12, 31), first_term))

    assert response.status_code == 302
    added = SupportAgreement.objects.get(reference="SO-ADMIN")
    assert added.predecessor == first_term
    assert added.chain_start == JAN_2017
    assert added.history.get().history_user == officer


def test_the_admin_adds_a_first_agreement_with_its_own_chain_start(client, officer, cluster):
    client.force_login(officer)

    response = client.post(reverse(ADD_URL), agreement_form(cluster, date(2018, 1, 1), date(2020, 12, 31)))

    assert response.status_code == 302
    assert SupportAgreement.objects.get(reference="SO-ADMIN").chain_start == date(2018, 1, 1)


def test_the_admin_in_dutch_names_the_cap_date_in_dutch(dutch_client, officer, cluster, chain_2017):
    completed_interim(cluster, date(2025, 3, 1))
    dutch_client.force_login(officer)
    before = row_counts(SupportAgreement)

    response = dutch_client.post(
        reverse(ADD_URL), agreement_form(cluster, date(2026, 1, 1), date(2027, 1, 1), chain_2017[-1])
    )

    assert response.status_code == 200
    with translation.override("nl"):
        assert shown(CAP_2017) in " ".join(response.context["adminform"].form.errors["end_date"])
    assert row_counts(SupportAgreement) == before


def test_the_admin_refuses_to_shorten_an_agreement_that_has_an_extension(client, officer, cluster, chain_2017):
    first = chain_2017[0]
    client.force_login(officer)

    response = client.post(
        reverse("admin:funding_supportagreement_change", args=[first.pk]),
        agreement_form(cluster, JAN_2017, date(2019, 6, 30), reference=first.reference),
    )

    assert response.status_code == 200
    assert "SO-2" in " ".join(response.context["adminform"].form.errors["end_date"])
    assert SupportAgreement.objects.get(pk=first.pk).end_date == date(2019, 12, 31)


def test_a_second_cluster_in_the_admin_does_not_clash_with_the_first(client, officer, first_term, other_cluster):
    client.force_login(officer)

    response = client.post(reverse(ADD_URL), agreement_form(other_cluster, JAN_2017, date(2019, 12, 31)))

    assert response.status_code == 302
    assert SupportAgreement.objects.filter(start_date=JAN_2017).count() == 2


def test_an_extension_past_the_cap_without_evaluation_hears_of_both_rules(chain_2017):
    completed_interim(chain_2017[0].cluster, date(2025, 6, 30))
    final = agreement_extend(predecessor=chain_2017[-1], reference="SO-4", end_date=CAP_2017, amount=YEARLY)
    before = row_counts(SupportAgreement)

    with pytest.raises(ValidationError) as caught:
        agreement_extend(predecessor=final, reference="SO-5", end_date=date(2027, 12, 31), amount=YEARLY)

    messages = caught.value.message_dict
    assert shown(CAP_2017) in " ".join(messages["end_date"])  # the cap, with the latest allowed end date
    assert "interim evaluation" in " ".join(messages["predecessor"])  # and the missing evaluation
    assert row_counts(SupportAgreement) == before


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_a_date_beyond_calendar_arithmetic_is_refused_not_a_crash(cluster, field):
    dates = {"start_date": date(9990, 1, 1), "end_date": date(9990, 12, 31)}
    if field == "end_date":
        dates["start_date"] = date(2017, 1, 1)
    with refused("start_date" if field == "start_date" else "end_date", "between 1990 and 2900"):
        create(cluster, dates["start_date"], dates["end_date"])
