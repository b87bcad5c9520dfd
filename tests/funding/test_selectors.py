"""An agreement chain's standing as of a day (funding/selectors.py): its boundary days, and every reader
agreeing with it on every day of a year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clusterpacts.models import Cluster
from funding.models import Flag, SupportAgreement
from funding.selectors import agreement_standing, agreement_standings, agreement_term
from funding.services import agreement_create, agreement_extend, flags_scan
from insights.selectors import briefing
from tests.factories import ClusterFactory, completed_interim
from tests.funding.conftest import TERMS_2017
from tests.funding.helpers import ONE_DAY, YEARLY, make_chain

pytestmark = pytest.mark.django_db

END_2019 = date(2019, 12, 31)  # the end of the `first_term` fixture (2017-01-01 .. 2019-12-31)
CAP_2017 = date(2026, 12, 31)  # the cap of a chain that started on 2017-01-01
LEAP_CAP = date(2026, 2, 27)  # the cap of a chain that started on 2016-02-29


def standing_on(cluster: Cluster, day: date):
    standing = agreement_standing(cluster=cluster, as_of=day)
    assert standing is not None, f"no standing on {day}"
    return standing


def final_chain_2017(cluster: Cluster) -> list[SupportAgreement]:
    """Three terms from 2017-01-01 and a fourth, final one of one year: 2026-01-01 .. 2026-12-31 (the cap)."""
    chain = make_chain(cluster, TERMS_2017)
    completed_interim(cluster, date(2024, 6, 1))
    return [*chain, agreement_extend(predecessor=chain[-1], reference="SO-4", end_date=CAP_2017, amount=YEARLY)]


# --- the renewal window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_before_end", "due"), [(181, False), (180, True), (1, True), (0, True), (-1, True), (-400, True)]
)
def test_renewal_is_due_from_180_days_before_the_end_while_nothing_extends_the_agreement(
    cluster, first_term, days_before_end, due
):
    standing = standing_on(cluster, END_2019 - timedelta(days=days_before_end))

    assert standing.agreement == first_term
    assert standing.renewal_due is due
    assert standing.days_left_in_term == days_before_end
    assert standing.running is (days_before_end >= 0)
    assert (standing.has_successor, standing.final_term) == (False, False)


def test_the_renewal_window_comes_from_the_settings(settings, cluster, first_term):
    settings.CLUSTERPACTS_RENEWAL_WINDOW_DAYS = 30

    assert not standing_on(cluster, END_2019 - timedelta(days=31)).renewal_due
    assert standing_on(cluster, END_2019 - timedelta(days=30)).renewal_due


def test_an_extension_signed_later_is_not_there_until_the_day_it_is_signed(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))
    signed_on = date(2019, 12, 2)
    extension = agreement_extend(
        predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY, signed_on=signed_on
    )

    before = standing_on(cluster, signed_on - ONE_DAY)
    assert (before.renewal_due, before.has_successor, before.last_agreement) == (True, False, first_term)
    signed = standing_on(cluster, signed_on)
    assert (signed.renewal_due, signed.has_successor, signed.last_agreement) == (False, True, extension)
    assert standing_on(cluster, date(2020, 1, 1)).agreement == extension


def test_an_extension_without_a_signing_day_counts_at_once(cluster, first_term):
    completed_interim(cluster, date(2019, 5, 15))
    agreement_extend(predecessor=first_term, reference="SO-2", end_date=date(2022, 12, 31), amount=YEARLY)

    standing = standing_on(cluster, END_2019 - timedelta(days=100))

    assert (standing.agreement, standing.has_successor, standing.renewal_due) == (first_term, True, False)


@pytest.mark.parametrize(
    ("completed_on", "missing"),
    [
        (None, True),
        (date(2017, 1, 1), True),  # on the term's first day: not after it started
        (date(2017, 1, 2), False),
        (date(2019, 10, 1), False),  # on the day itself
        (date(2019, 10, 2), True),  # after the day: not there yet
    ],
    ids=str,
)
def test_evaluation_missing_while_renewal_is_due_without_an_interim_evaluation_in_the_term(
    cluster, first_term, completed_on, missing
):
    if completed_on:
        completed_interim(cluster, completed_on)

    standing = standing_on(cluster, date(2019, 10, 1))

    assert standing.renewal_due
    assert standing.evaluation_missing is missing


# --- the cap and the final term -------------------------------------------------------------------


def test_each_term_knows_the_cap_and_the_latest_end_of_its_extension(cluster):
    chain = final_chain_2017(cluster)

    terms = [agreement_term(agreement) for agreement in chain]

    assert {term.cap_date for term in terms} == {CAP_2017}
    assert [term.latest_extension_end for term in terms] == [
        date(2022, 12, 31),  # a full term after 2019-12-31
        date(2025, 12, 31),
        CAP_2017,  # a full term would pass the cap
        None,  # the final term: nothing can extend it
    ]
    assert [term.final_term for term in terms] == [False, False, False, True]


@pytest.mark.parametrize(
    ("as_of", "final_term", "cap_approaching", "days_to_cap"),
    [
        (date(2025, 12, 30), False, False, 366),
        (date(2025, 12, 31), False, True, 365),  # the day before the final term: the cap is a window away
        (date(2026, 1, 1), True, True, 364),
        (CAP_2017, True, True, 0),
        (CAP_2017 + ONE_DAY, False, False, -1),  # the chain has ended
    ],
    ids=str,
)
def test_final_term_and_cap_approaching_on_their_boundary_days(
    cluster, as_of, final_term, cap_approaching, days_to_cap
):
    chain = final_chain_2017(cluster)

    standing = standing_on(cluster, as_of)

    assert (standing.final_term, standing.cap_approaching, standing.days_to_cap) == (
        final_term,
        cap_approaching,
        days_to_cap,
    )
    assert standing.cap_date == CAP_2017
    assert standing.last_agreement == chain[-1]
    assert not standing.renewal_due


@pytest.mark.parametrize(("days_before_end", "approaching"), [(181, False), (180, True)])
def test_the_cap_approaches_when_the_renewal_now_due_is_the_last_one_possible(
    cluster, chain_2017, days_before_end, approaching
):
    # The last term ends on 2025-12-31, 365 days before the cap: its extension can only be the final term.
    standing = standing_on(cluster, date(2025, 12, 31) - timedelta(days=days_before_end))

    assert standing.days_to_cap == 365 + days_before_end
    assert (standing.renewal_due, standing.cap_approaching) == (approaching, approaching)
    assert standing.latest_extension_end == CAP_2017


def test_the_cap_window_comes_from_the_settings(settings, cluster):
    settings.CLUSTERPACTS_CAP_WINDOW_DAYS = 60
    final_chain_2017(cluster)

    assert not standing_on(cluster, CAP_2017 - timedelta(days=61)).cap_approaching
    assert standing_on(cluster, CAP_2017 - timedelta(days=60)).cap_approaching


def test_a_chain_from_29_february_is_capped_and_approaches_its_cap_counting_from_27_february(cluster):
    terms = [
        (date(2016, 2, 29), date(2019, 2, 27)),
        (date(2019, 2, 28), date(2022, 2, 27)),
        (date(2022, 2, 28), date(2025, 2, 27)),
    ]
    chain = make_chain(cluster, terms)
    completed_interim(cluster, date(2023, 6, 1))
    final = agreement_extend(predecessor=chain[-1], reference="SO-4", end_date=LEAP_CAP, amount=YEARLY)

    # 2025-02-27 is 365 days before 2026-02-27 (inside the window) but 366 before 2026-02-28.
    assert not standing_on(cluster, date(2025, 2, 26)).cap_approaching
    last_day = standing_on(cluster, date(2025, 2, 27))
    assert (last_day.cap_date, last_day.cap_approaching, last_day.final_term) == (LEAP_CAP, True, False)
    first_day = standing_on(cluster, date(2025, 2, 28))
    assert (first_day.agreement, first_day.final_term) == (final, True)
    assert standing_on(cluster, LEAP_CAP).final_term
    assert not standing_on(cluster, date(2026, 2, 28)).final_term


# --- which clusters, and at what cost -------------------------------------------------------------


def test_no_standing_before_the_first_agreement_starts(cluster, first_term):
    assert agreement_standing(cluster=cluster, as_of=date(2016, 12, 31)) is None
    assert standing_on(cluster, date(2017, 1, 1)).agreement == first_term


def test_the_standings_of_many_clusters_take_two_queries(django_assert_num_queries):
    clusters = ClusterFactory.create_batch(5)
    for number, cluster in enumerate(clusters):
        agreement_create(
            cluster=cluster,
            reference=f"SO-{number}",
            start_date=date(2017, 1, 1),
            end_date=END_2019,
            amount=YEARLY,
        )
        completed_interim(cluster, date(2019, 5, 1))

    with django_assert_num_queries(2):
        standings = agreement_standings(clusters=Cluster.objects.all(), as_of=date(2019, 10, 1))
        renewals = [standing.renewal_due for standing in standings.values()]
        names = [standing.agreement.cluster.name for standing in standings.values()]

    assert set(standings) == {cluster.pk for cluster in clusters}
    assert renewals == [True] * 5
    assert len(names) == 5
    assert not any(standing.evaluation_missing for standing in standings.values())


# --- every reader agrees, every day ---------------------------------------------------------------


def signed_chain(cluster: Cluster, terms: list[tuple[date, date]], signed: list[date]) -> None:
    """A chain as the demo data builds it, each agreement with its signing day and each extension after a
    completed interim evaluation."""
    agreement = agreement_create(
        cluster=cluster,
        reference=f"SO-{cluster.slug}-1",
        start_date=terms[0][0],
        end_date=terms[0][1],
        amount=YEARLY,
        signed_on=signed[0],
    )
    for number, ((start, end), signed_on) in enumerate(zip(terms[1:], signed[1:], strict=True), start=2):
        completed_interim(cluster, start - timedelta(days=200))
        agreement = agreement_extend(
            predecessor=agreement,
            reference=f"SO-{cluster.slug}-{number}",
            end_date=end,
            amount=YEARLY,
            signed_on=signed_on,
        )


@pytest.fixture
def year_of_chains(db) -> None:
    # As the demo data: from 2017, terms of three years, each signed 30 days before it starts, the first
    # interim evaluation completed in May 2019. Renewal due from 2019-07-04 until the extension is signed.
    demo = ClusterFactory(name="VIL", slug="vil")
    terms = [*TERMS_2017, (date(2026, 1, 1), CAP_2017)]
    signed_chain(demo, terms, [start - timedelta(days=30) for start, _ in terms])
    # From 2011: the renewal is due in the autumn of 2019, and the final term (2020) reaches its cap
    # (2020-12-31) within a year from its first day.
    capped = ClusterFactory(name="Flux50", slug="flux50")
    terms = [
        (date(2011, 1, 1), date(2013, 12, 31)),
        (date(2014, 1, 1), date(2016, 12, 31)),
        (date(2017, 1, 1), date(2019, 12, 31)),
        (date(2020, 1, 1), date(2020, 12, 31)),
    ]
    signed_chain(capped, terms, [start - timedelta(days=30) for start, _ in terms])
    # From 2010-07-01, capped on 2020-06-30: the final term was signed six weeks after it started, so until
    # then the chain's last term had ended without an extension.
    late = ClusterFactory(name="SIM", slug="sim")
    terms = [
        (date(2010, 7, 1), date(2013, 6, 30)),
        (date(2013, 7, 1), date(2016, 6, 30)),
        (date(2016, 7, 1), date(2019, 6, 30)),
        (date(2019, 7, 1), date(2020, 6, 30)),
    ]
    signed_chain(late, terms, [date(2010, 6, 1), date(2013, 6, 1), date(2016, 6, 1), date(2019, 8, 15)])
    ClusterFactory(name="MEDVIA", slug="medvia")  # no agreement at all


def open_flag_clusters(kind: str) -> set[int]:
    return set(Flag.objects.open().filter(kind=kind).values_list("cluster_id", flat=True))


def test_the_briefing_and_the_scan_agree_on_every_day_of_a_year(year_of_chains, officer):
    readings = {"renewal_due": set(), "final_term": set(), "reaches_cap_within_a_year": set()}
    day = date(2019, 7, 1)
    while day <= date(2020, 6, 30):
        flags_scan(as_of=day)
        rows = briefing(user=officer, as_of=day)["renewals"]
        flagged = {
            "renewal_due": open_flag_clusters(Flag.Kind.RENEWAL_DUE),
            "final_term": open_flag_clusters(Flag.Kind.FINAL_TERM),
            "reaches_cap_within_a_year": open_flag_clusters(Flag.Kind.CAP_APPROACHING),
        }
        for key, clusters in flagged.items():
            said = {row["cluster"] for row in rows if row.get(key)}
            assert said == clusters, f"{day}: the briefing's {key} is {said}, the scan's open flags {clusters}"
            readings[key].add(frozenset(said))
        day += ONE_DAY

    # The year crossed each boundary: no answer stayed the same all year.
    assert all(len(seen) > 1 for seen in readings.values()), readings


def test_the_api_works_out_the_cap_date_once_per_row(client, officer, cluster, monkeypatch):
    chain = final_chain_2017(cluster)
    calls = []
    monkeypatch.setattr("funding.selectors.cap_date_for", lambda start: calls.append(start) or CAP_2017)
    client.force_login(officer)

    rows = client.get("/api/v1/agreements/", {"cluster": cluster.pk}).json()["results"]

    assert [(row["cap_date"], row["final_term"]) for row in rows] == [("2026-12-31", False)] * 3 + [
        ("2026-12-31", True)
    ]
    assert len(calls) == len(chain)
