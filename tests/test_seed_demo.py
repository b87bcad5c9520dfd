"""seed_demo: the seven clusters with the public facts, idempotent, refused in production; the history
tells the minister's story as of 1 March 2020, and today holds only what would really be waiting."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from clusterpacts import selectors
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
)
from evaluations.models import Evaluation, Finding, Lesson
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement
from funding.selectors import budget_years
from funding.services import flags_scan
from tests.conftest import reload_migrated_data

pytestmark = pytest.mark.django_db

MODELS = [
    Cluster,
    Organisation,
    Membership,
    ClusterPact,
    Commitment,
    AnnualPlan,
    KpiTarget,
    AnnualReport,
    KpiValue,
    ReportEvent,
    Evaluation,
    Finding,
    Lesson,
    SupportAgreement,
    BudgetYear,
    Allocation,
    Project,
    ProjectPartner,
    ClusterManager,
    get_user_model(),
]
# What the demo data holds. The generated figures come from a generator seeded per cluster, so they are
# the same on every run: a change to the data file or its loader that changes them must be deliberate.
SEEDED = {
    "Cluster": 7,
    "Organisation": 2104,
    "Membership": 2104,
    "ClusterPact": 58,  # a yearly version from the first 31 January at least half a year after version 1
    "Commitment": 174,
    "AnnualPlan": 67,  # the plans on 2027 of the three clusters whose support may run into 2027
    "KpiTarget": 1139,  # every plan a target for each of the 17 KPIs, the derived ones included
    "AnnualReport": 58,  # MEDVIA's report on 2026, in draft
    "KpiValue": 513,
    "ReportEvent": 249,  # two reports returned and resubmitted; three plans on 2027 submitted
    "Evaluation": 24,
    "Finding": 51,
    "Lesson": 34,
    "SupportAgreement": 24,
    "BudgetYear": 11,
    "Allocation": 91,
    "Project": 193,  # 2 to 4 a cluster a year from its start up to 2025, and 20 inter-cluster projects
    "ProjectPartner": 783,
    "ClusterManager": 7,
    "User": 10,  # the nine demo logins and `system`, who signs the loader's changes (core.audit)
}
CAP_2017, CAP_2018 = date(2026, 12, 31), date(2027, 12, 31)
RENEWAL_DUE = {"renewal_due": date(2026, 12, 31), "evaluation_missing": date(2027, 1, 1)}
TODAY = date(2026, 12, 2)
ANSWER = date(2020, 3, 1)  # the minister's answer (shared/seed)
FIRST_FOUR = ["catalisti", "sim", "flux50", "vil"]
# Projects decided in 2024 against each cluster's reservation (public record, DESIGN.md), in EUR.
DECIDED_2024 = {
    "Catalisti": Decimal("5310000"),
    "De Blauwe Cluster": Decimal("10100000"),
    "Flanders' FOOD": Decimal("6800000"),
    "Flux50": Decimal("7700000"),
    "MEDVIA": Decimal("2700000"),
    "SIM": Decimal("6200000"),
    "VIL": Decimal("1100000"),
}
END_2024 = date(2024, 12, 31)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module (it takes seconds); each test only reads, and the data is removed after."""
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        first, output = _counts(), out.getvalue()
        call_command("seed_demo", stdout=StringIO())
        second = _counts()
        yield {"first": first, "second": second, "output": output}
        call_command("flush", interactive=False, verbosity=0)
        reload_migrated_data()


def test_every_change_of_the_demo_loader_is_signed_by_the_system_user(seeded):
    for model in (Cluster, AnnualReport, KpiValue, Evaluation, SupportAgreement, Allocation, Project, ProjectPartner):
        assert set(model.history.values_list("history_user__username", flat=True)) == {"system"}, model


def test_running_it_twice_gives_the_same_counts(seeded):
    assert seeded["first"] == seeded["second"]
    assert seeded["first"]["Cluster"] == 7


def test_the_demo_data_is_the_same_on_every_run(seeded):
    assert seeded["first"] == SEEDED
    assert KpiTarget.objects.aggregate(total=Sum("value"))["total"] == Decimal("439452006")
    assert KpiValue.objects.aggregate(total=Sum("value"))["total"] == Decimal("25262")
    assert Membership.objects.filter(left_on__isnull=False).count() == 422
    assert Counter(Organisation.objects.values_list("kind", flat=True)) == {
        "sme": 1294,
        "company": 428,
        "knowledge_institution": 382,
    }
    assert Counter(AnnualReport.objects.values_list("status", flat=True)) == {"accepted": 57, "draft": 1}
    assert Counter(AnnualPlan.objects.values_list("status", flat=True)) == {"accepted": 64, "submitted": 3}
    assert Counter(Evaluation.objects.values_list("stage", flat=True)) == {
        "completed": 17,
        "reporting": 6,
        "in_progress": 1,
    }
    assert SupportAgreement.objects.aggregate(total=Sum("amount"))["total"] == Decimal("32000000")
    assert Allocation.objects.aggregate(total=Sum("amount"))["total"] == Decimal("656200000")
    assert Project.objects.aggregate(total=Sum("amount"))["total"] == Decimal("393770000")
    assert Counter(Project.objects.values_list("status", flat=True)) == {
        "completed": 141,
        "running": 48,
        "decided": 3,
        "stopped": 1,
    }
    assert Organisation.objects.filter(founded_on__isnull=False).count() == 1722  # every company and SME
    assert Organisation.objects.filter(ceased_on__isnull=False).count() == 54


def test_a_scan_of_the_demo_data_raises_its_flags(seeded):
    flags_scan(as_of=date(2026, 11, 27))

    flags: dict[str, dict[str, date]] = {}
    for slug, kind, due_on in Flag.objects.open().values_list("cluster__slug", "kind", "due_on"):
        flags.setdefault(slug, {})[kind] = due_on
    final_term = {"cap_approaching": CAP_2017, "final_term": CAP_2017}
    assert flags == {
        "catalisti": final_term,
        "sim": final_term,
        "flux50": final_term,
        "vil": final_term,
        "flanders-food": RENEWAL_DUE | {"cap_approaching": CAP_2018},
        # Besides: the projects it decided in 2024 exceed its reservation of that year.
        "de-blauwe-cluster": RENEWAL_DUE | {"cap_approaching": CAP_2018, "reservation_exceeded": None},
        "medvia": RENEWAL_DUE,
    }


def test_the_first_four_are_in_their_final_term_before_the_cap(seeded):
    for slug in ("catalisti", "sim", "flux50", "vil"):
        last = SupportAgreement.objects.filter(cluster__slug=slug).order_by("-end_date").first()
        assert last.cap_date == date(2026, 12, 31)
        assert last.is_final_term
        assert last.chain_start == date(2017, 1, 1)


def test_public_member_counts_come_from_memberships(seeded):
    end_2019 = date(2019, 12, 31)

    def members(slug):
        return Membership.objects.filter(cluster__slug=slug).active_on(end_2019).count()

    assert members("vil") == 622
    assert members("flux50") == 142
    assert members("de-blauwe-cluster") == 137
    flux50_companies = (
        Membership.objects.filter(cluster__slug="flux50", organisation__kind__in=["sme", "company"])
        .active_on(end_2019)
        .count()
    )
    assert flux50_companies == 142


def test_budget_2020_and_reservations(seeded):
    year = BudgetYear.objects.get(year=2020)
    assert year.envelope == Decimal("75000000")
    reservations = Allocation.objects.filter(budget_year=year, purpose="competitiveness")
    assert reservations.count() == 6
    assert {a.amount for a in reservations} == {Decimal("8000000")}
    assert list(BudgetYear.objects.values_list("year", flat=True)) == list(range(2017, 2028))


def test_first_interim_evaluations_completed_in_may_2019(seeded):
    firsts = Evaluation.objects.filter(cluster__slug__in=FIRST_FOUR, stage="completed")
    may_2019 = firsts.filter(completed_on__year=2019, completed_on__month=5)
    assert may_2019.count() == 4
    assert set(may_2019.values_list("conclusion", flat=True)) == {"largely_achieved"}
    assert set(may_2019.values_list("findings__assessment", flat=True)) == {"largely_achieved"}
    assert all("openbare bron" in summary for summary in may_2019.values_list("summary", flat=True))


def test_every_evaluation_was_registered_before_it_started(seeded):
    for evaluation in Evaluation.objects.all():
        assert evaluation.registered_on, evaluation
        assert evaluation.registered_on < (evaluation.started_on or evaluation.planned_on), evaluation
        assert evaluation.registered_on <= TODAY


def test_as_of_the_answer_the_record_holds(seeded):
    """1 March 2020: the first four's first interim evaluation completed (May 2019) and their 2017 and
    2018 reports accepted; Flanders' FOOD's and De Blauwe Cluster's first working year reported and
    accepted, their first evaluation registered but not started; every report on 2019 in and still
    being processed; MEDVIA not started."""
    stages = {}
    for evaluation in Evaluation.objects.filter(registered_on__lte=ANSWER).select_related("cluster"):
        stages.setdefault(evaluation.cluster.slug, []).append(evaluation.stage_on(ANSWER))
    assert stages == {slug: ["completed"] for slug in FIRST_FOUR} | {
        "flanders-food": ["planned"],
        "de-blauwe-cluster": ["planned"],
    }
    slots = selectors.report_slots(clusters=Cluster.objects.all(), as_of=ANSWER, years=[2017, 2018, 2019])
    status = {(slot.cluster_slug, slot.year): slot.status for slot in slots}
    assert status == (
        {(slug, year): "accepted" for slug in FIRST_FOUR for year in (2017, 2018)}
        | {(slug, 2018): "accepted" for slug in ("flanders-food", "de-blauwe-cluster")}
        | {(slug, 2019): "submitted" for slug in [*FIRST_FOUR, "flanders-food", "de-blauwe-cluster"]}
    )
    assert not selectors.overdue_reports(clusters=Cluster.objects.all(), as_of=ANSWER)


def test_the_targets_the_record_calls_met_are_met(seeded):
    """The first working year of Flanders' FOOD and De Blauwe Cluster: every target met; the first four's
    2017-2018: largely (most values at or above their target)."""
    targets = {
        (slug, year, kpi): value
        for slug, year, kpi, value in KpiTarget.objects.values_list("cluster__slug", "year", "kpi_id", "value")
    }
    met, total = Counter(), Counter()
    for value in KpiValue.objects.filter(year__in=[2017, 2018]).select_related("cluster"):
        key = value.cluster.slug, value.year
        total[key] += 1
        met[key] += value.value >= targets[(*key, value.kpi_id)]
    assert met[("flanders-food", 2018)] == total[("flanders-food", 2018)] > 0
    assert met[("de-blauwe-cluster", 2018)] == total[("de-blauwe-cluster", 2018)] > 0
    for slug in FIRST_FOUR:
        for year in (2017, 2018):
            assert met[(slug, year)] >= 2 / 3 * total[(slug, year)], (slug, year)


def test_every_plan_is_complete_with_a_target_for_every_kpi(seeded):
    """The portal refuses to submit a plan without a target per active KPI; the demo's plans hold to it."""
    active = KpiDefinition.objects.filter(active=True).count()
    plans = AnnualPlan.objects.annotate(targets_count=Count("targets"))
    assert plans.exists()
    assert {plan.targets_count for plan in plans} == {active}


def test_today_only_the_plans_on_2027_wait_for_review(seeded):
    """Every report up to 2025 accepted (De Blauwe Cluster's on 2025 after a return, MEDVIA's ten days
    late); the plans on 2027 of the three clusters whose support may run into 2027 submitted in November."""
    assert not AnnualReport.objects.filter(status__in=["submitted", "returned"]).exists()
    assert set(AnnualReport.objects.filter(year__lte=2025).values_list("status", flat=True)) == {"accepted"}
    waiting = AnnualPlan.objects.filter(status="submitted")
    assert sorted(waiting.values_list("cluster__slug", "year")) == [
        ("de-blauwe-cluster", 2027),
        ("flanders-food", 2027),
        ("medvia", 2027),
    ]
    assert not selectors.overdue_reports(clusters=Cluster.objects.all(), as_of=TODAY)
    blue = AnnualReport.objects.get(cluster__slug="de-blauwe-cluster", year=2025)
    assert list(blue.events.order_by("at").values_list("to_status", flat=True)) == [
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]
    assert max(AnnualReport.objects.filter(year=2025).values_list("events__at", flat=True)).date() <= date(2026, 6, 30)


def test_2024_project_decisions_are_the_public_figures(seeded):
    """As of the end of 2024, each cluster decided the public figure against its reservation and the
    inter-cluster projects the public 14.2 M EUR: the funding overview's figures (`budget_years`)."""
    officer = get_user_model().objects.get(username="officer")

    (year,) = budget_years(user=officer, from_year=2024, as_of=END_2024)[:1]

    assert year.year == 2024
    assert {r.cluster_name: r.decided for r in year.reservations} == DECIDED_2024
    assert year.inter_cluster_decided == Decimal("14200000") == year.inter_cluster
    assert year.inter_cluster_projects == 5
    # De Blauwe Cluster decided 10.1 M EUR against its reservation of 8 M EUR; every other cluster less.
    assert [(r.cluster_name, r.amount, r.over) for r in year.over_reserved] == [
        ("De Blauwe Cluster", Decimal("8000000"), Decimal("2100000"))
    ]
    assert Allocation.objects.get(budget_year__year=2024, purpose="inter_cluster").amount == Decimal("14200000")


def test_the_funding_overview_and_the_briefing_as_of_the_end_of_2024_show_the_public_figures(seeded, client):
    """What an officer reads, as of 31 December 2024: per cluster the reservation, the decided amount (the
    public figure) and what remains, on the funding overview, in the briefing's JSON and on its page."""
    client.force_login(get_user_model().objects.get(username="officer"))
    day = END_2024.isoformat()

    body = client.get(f"/api/v1/briefing/?as_of={day}", HTTP_ACCEPT_LANGUAGE="en").json()
    (year,) = [row for row in body["budget"] if row["year"] == 2024]
    decided = {r["cluster_name"]: Decimal(str(r["decided"])) for r in year["reservations"]}
    remaining = {r["cluster_name"]: Decimal(str(r["remaining"])) for r in year["reservations"]}
    assert decided == DECIDED_2024
    assert remaining == {name: Decimal("8000000") - amount for name, amount in DECIDED_2024.items()}
    assert Decimal(str(year["inter_cluster_decided"])) == Decimal("14200000")

    for url in (f"/insights/funding/?as_of={day}", f"/insights/briefing/?as_of={day}"):
        page = " ".join(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode().split())
        for amount in [*DECIDED_2024.values(), Decimal("14200000"), Decimal("2100000")]:
            assert f"{amount:,.2f}" in page or f"{amount:,.0f}" in page, f"{amount} not on {url}"


def test_at_the_end_of_2024_only_de_blauwe_cluster_is_flagged_over_its_reservation(seeded):
    flags_scan(as_of=END_2024)

    flags = Flag.objects.open().filter(kind=Flag.Kind.RESERVATION_EXCEEDED)
    assert [(flag.cluster.slug, flag.year) for flag in flags] == [("de-blauwe-cluster", 2024)]
    assert "2,100,000.00 EUR" in flags[0].message_en
    assert "10,100,000.00 EUR" in flags[0].message_en


def test_no_other_year_was_decided_beyond_its_reservation_or_allocation(seeded):
    """Every other year of every cluster stays within its reservation, and the inter-cluster projects of
    every year within the year's inter-cluster allocation (the whole of it in 2024)."""
    officer = get_user_model().objects.get(username="officer")
    over = []
    for year in budget_years(user=officer, as_of=TODAY):
        over += [(r.cluster_name, year.year) for r in year.over_reserved]
        assert year.inter_cluster_decided <= year.inter_cluster, year.year
        assert year.year <= 2025 or not year.projects_decided, "no project is decided after the last working year"
    assert over == [("De Blauwe Cluster", 2024)]


def test_the_project_kpis_of_2024_are_counted_from_the_projects(seeded):
    clusters = dict(Cluster.objects.values_list("pk", "name"))

    figures = selectors.derived_figures(cluster_ids=list(clusters), years=[2024], as_of=END_2024)

    for cluster_id, name in clusters.items():
        year = figures[cluster_id, 2024]
        assert year.value("PRJ1") == DECIDED_2024[name], name
        assert year.value("CPI3") >= 2, name  # several projects a cluster
        assert year.value("C4") >= 1, name  # collaborations with at least three companies
        assert year.value("CPI7") >= 3, name
        assert 0 < year.value("CPI7BIS") <= 100, name
    assert sum(figures[cluster_id, 2024].value("CPI8") for cluster_id in clusters) >= 10  # 5 projects, 2+ clusters


def test_the_projects_keep_the_rules_of_the_portal(seeded):
    """Decided on a past day (those of 2024 within 2024), each with one lead partner, partners that were
    members of one of its clusters and existed on the decision day; an inter-cluster project names another
    cluster; the old ones completed the day after their end, one stopped early."""
    projects = Project.objects.prefetch_related("clusters", "partners__organisation__memberships")
    for project in projects:
        assert project.decided_on <= TODAY and project.status_on <= TODAY, project
        assert project.decided_on.year == int(project.reference.split(".")[1]), project
        assert "(illustratief)" in project.title
        assert [p.role for p in project.partners.all()].count("lead") == 1, project
        clusters = {project.lead_cluster_id} | {cluster.pk for cluster in project.clusters.all()}
        assert (project.type == "inter_cluster") == (len(clusters) > 1), project
        for partner in project.partners.all():
            organisation = partner.organisation
            assert organisation.exists_on(project.decided_on), (project, organisation)
            assert any(
                m.cluster_id in clusters
                and m.joined_on <= project.decided_on
                and (m.left_on or TODAY) >= project.decided_on
                for m in organisation.memberships.all()
            ), (project, organisation)
        if project.status == "completed":
            assert project.status_on == project.end_date + timedelta(days=1)
        if project.status == "running":
            assert project.status_on == project.start_date
    assert Project.objects.filter(status="stopped").count() == 1
    with_three_companies = [
        project
        for project in projects
        if sum(p.organisation.kind in ("company", "sme") for p in project.partners.all()) >= 3
    ]
    assert len(with_three_companies) > Project.objects.count() / 2


def test_illustrative_figures_are_marked(seeded):
    assert "(illustratief)" in BudgetYear.objects.get(year=2023).notes
    assert "(openbare bron)" in BudgetYear.objects.get(year=2020).notes
    assert not Organisation.objects.exclude(name__contains="(illustratief)").exists()


def test_the_texts_are_dutch(seeded):
    texts = [
        *AnnualReport.objects.values_list("narrative", flat=True),
        *AnnualPlan.objects.values_list("planned_actions", flat=True),
        *Evaluation.objects.values_list("title", flat=True),
        *Evaluation.objects.values_list("summary", flat=True),
        *Finding.objects.values_list("text", flat=True),
        *Lesson.objects.values_list("text", flat=True),
        *Lesson.objects.values_list("follow_up", flat=True),
        *Commitment.objects.values_list("description", flat=True),
        *ClusterPact.objects.values_list("programme_summary", flat=True),
        *Allocation.objects.values_list("description", flat=True),
        *BudgetYear.objects.values_list("notes", flat=True),
        *SupportAgreement.objects.filter(predecessor=None).values_list("notes", flat=True),
        *Cluster.objects.values_list("description", flat=True),
        *Cluster.objects.values_list("domain", flat=True),
        *Project.objects.values_list("title", flat=True),
    ]
    english = ("illustrative", "public record", "report on", "planned actions", "evaluation", "programme")
    assert "" not in texts
    assert [text for text in texts if any(word in text.lower() for word in english)] == []


def test_one_signed_pact_per_cluster_and_users_for_every_role(seeded):
    signed = ClusterPact.objects.filter(status="signed").values("cluster").annotate(n=Count("id"))
    assert [row["n"] for row in signed] == [1] * 7
    users = get_user_model().objects
    assert users.get(username="officer").groups.filter(name="VLAIO officer").exists()
    assert users.get(username="analyst").groups.filter(name="API reader").exists()
    manager = users.get(username="manager-vil")
    assert list(manager.managed_clusters.values_list("cluster__slug", flat=True)) == ["vil"]
    assert "manager-vil" in seeded["output"]


def test_it_refuses_to_run_with_production_settings(settings):
    before = _counts()
    settings.CLUSTERPACTS_ALLOW_DEMO_DATA = False
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())
    assert _counts() == before


def test_the_kpi_target_tallies_equal_what_the_figures_give(seeded):
    """Seeded through the services, every report's stored tally is what its values and targets give."""
    from clusterpacts.models import KpiTargetTally, KpiValue
    from clusterpacts.selectors import kpi_target_tallies

    stored = {t.report_id: (t.measured, t.met) for t in KpiTargetTally.objects.all()}
    counted = {r["report_id"]: (r["measured"], r["met"]) for r in kpi_target_tallies(KpiValue.objects.all())}
    assert len(stored) > 50
    assert stored == counted
