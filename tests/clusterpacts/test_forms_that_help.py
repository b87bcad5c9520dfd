"""Forms that help (issue 14, item 3), on the plan and report pages: every error in one round with a
summary linking to each field and the focus on the first; numbers in the user's language; a draft kept
when its submission is refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clusterpacts import services
from clusterpacts.models import AnnualPlan, AnnualReport, KpiDefinition, KpiTarget, KpiValue, Workflow
from core.versions import VERSION_FIELD
from tests.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_year():
    return timezone.localdate().year


def plan_url(cluster, year):
    return reverse("clusterpacts:plan", args=[cluster.slug, year])


def report_url(cluster, year):
    return reverse("clusterpacts:report", args=[cluster.slug, year])


def codes():
    return list(KpiDefinition.objects.filter(active=True).values_list("code", flat=True))


def all_targets(value="10", **overrides):
    data = {f"kpi_{code}": value for code in codes()}
    data.update({f"kpi_{code}": v for code, v in overrides.items()})
    return data


def targets_of(cluster, year):
    return dict(KpiTarget.objects.filter(cluster=cluster, year=year).values_list("kpi__code", "value"))


def summary_links(html):
    """The (href, text) of each link in the error summary at the top of the form."""
    start = html.index("error-summary")
    summary = html[start : html.index("</div>", start)]
    return re.findall(r'<a href="(#[^"]+)">([^<]*)</a>', summary)


def autofocused(html):
    """The names of the fields that carry autofocus."""
    return re.findall(r'<(?:input|textarea|select)[^>]*\bautofocus\b[^>]*name="([^"]+)"', html) + re.findall(
        r'<(?:input|textarea|select)[^>]*name="([^"]+)"[^>]*\bautofocus\b', html
    )


# --- one round, with a summary and the focus on the first error ---------------------------------------


def test_a_plan_without_actions_with_an_unreadable_and_a_refused_figure_gets_every_error_at_once(
    client, manager, cluster, plan_year
):
    data = all_targets(C2="many", C6="150", CPI1="")  # unreadable, out of its unit, missing
    response = login(client, manager).post(
        plan_url(cluster, plan_year), {"planned_actions": "", **data, "submit": "1"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["kpi_C2"] == ["Enter a number."]
    assert errors["kpi_C6"] == ["C6 is a percentage: enter a value from 0 to 100, not 150."]
    assert errors["planned_actions"] == ["Describe the planned actions before you submit the plan."]
    assert errors["kpi_CPI1"] == ["Give a target for this KPI before you submit."]
    assert set(errors) == {"kpi_C2", "kpi_C6", "kpi_CPI1", "planned_actions", "__all__"}
    links = summary_links(response.text)
    marked = [f"#id_kpi_{code}" for code in codes() if code in {"CPI1", "C6", "C2"}]  # in the form's order
    assert [href for href, _text in links] == ["#id_planned_actions", *marked]
    assert links[0][1].endswith("Describe the planned actions before you submit the plan.")
    assert autofocused(response.text) == ["planned_actions"]
    assert "Nothing was saved." in response.text
    assert not AnnualPlan.objects.exists(), "a value that cannot be read or is refused saves nothing"
    assert not KpiTarget.objects.exists()
    # What was typed stays in the form.
    assert 'value="many"' in response.text and 'value="150"' in response.text


def test_the_focus_goes_to_the_first_figure_when_the_text_is_fine(client, manager, cluster, plan_year):
    data = all_targets(CPI2="2.5")  # a count: whole numbers only
    response = login(client, manager).post(
        plan_url(cluster, plan_year), {"planned_actions": "Calls.", **data, "save": "1"}
    )
    assert autofocused(response.text) == ["kpi_CPI2"]
    assert 'aria-invalid="true"' in response.text


def test_a_report_gets_the_narrative_and_each_missing_value_in_one_round(client, manager, cluster):
    year = timezone.localdate().year - 1
    response = login(client, manager).post(report_url(cluster, year), {"narrative": " ", "kpi_C2": "3", "submit": "1"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["narrative"] == ["Write the narrative before you submit the report."]
    assert errors["kpi_CPI1"] == ["Give a value for this KPI before you submit."]
    assert "kpi_C2" not in errors and "kpi_MEM1" not in errors  # MEM1 is derived from the memberships
    assert summary_links(response.text)[0][0] == "#id_narrative"
    assert autofocused(response.text) == ["narrative"]


# --- a draft is never lost --------------------------------------------------------------------------


def test_a_refused_submission_keeps_the_draft_as_typed_and_the_next_submit_goes_through(
    client, manager, officer, cluster, plan_year, mailoutbox, django_capture_on_commit_callbacks
):
    url = plan_url(cluster, plan_year)
    manager_client = login(client, manager)

    response = manager_client.post(url, {"planned_actions": "", **all_targets(C6="12.5"), "submit": "1"})

    assert response.status_code == 200
    assert "Your draft was saved, but it was not submitted." in response.text
    plan = AnnualPlan.objects.get(cluster=cluster, year=plan_year)
    assert plan.status == Workflow.DRAFT
    assert targets_of(cluster, plan_year)["C6"] == Decimal("12.5"), "the targets typed are saved"
    assert response.context["plan"] == plan, "the page shows the draft"
    # The form carries the saved draft's version: the next submit is not taken for a stale page.
    version = response.context["form"][VERSION_FIELD].value()
    assert version and version != ""

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url, {"planned_actions": "Two calls.", **all_targets(C6="12.5"), VERSION_FIELD: version, "submit": "1"}
        )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == Workflow.SUBMITTED
    assert [m.to for m in mailoutbox] == [[officer.email]]


def test_a_stale_page_is_still_refused_after_a_kept_draft(client, manager, cluster, plan_year):
    url = plan_url(cluster, plan_year)
    manager_client = login(client, manager)
    manager_client.post(url, {"planned_actions": "First.", "save": "1"})
    services.document_update(document=AnnualPlan.objects.get(), planned_actions="Changed by a colleague.")

    response = manager_client.post(url, {"planned_actions": "Mine.", VERSION_FIELD: "outdated", "submit": "1"})

    assert response.status_code == 200
    assert "since you opened it" in " ".join(response.context["form"].non_field_errors())
    assert AnnualPlan.objects.get().planned_actions == "Changed by a colleague."


# --- numbers in the user's language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "typed", "read"),
    [
        ("nl", "12,5", Decimal("12.5")),
        ("nl", "12.5", Decimal("12.5")),
        ("nl", "1.234,5", Decimal("1234.5")),
        ("en", "12.5", Decimal("12.5")),
        ("en", "1,234.5", Decimal("1234.5")),
    ],
)
def test_a_decimal_is_read_as_the_language_writes_it(client, manager, cluster, plan_year, language, typed, read):
    with translation.override(language):
        response = login(client, manager, language=language).post(
            plan_url(cluster, plan_year), {"planned_actions": "Calls.", "kpi_PRJ1": typed, "save": "1"}
        )
    assert response.status_code == 302
    assert targets_of(cluster, plan_year) == {"PRJ1": read}


@pytest.mark.parametrize(("language", "typed"), [("nl", "1.250"), ("en", "1,250")])
def test_an_ambiguous_number_is_refused_naming_both_readings(client, manager, cluster, plan_year, language, typed):
    with translation.override(language):
        response = login(client, manager, language=language).post(
            plan_url(cluster, plan_year), {"planned_actions": "Calls.", "kpi_PRJ1": typed, "save": "1"}
        )
    assert response.status_code == 200
    (message,) = response.context["form"].errors["kpi_PRJ1"]
    assert "1250" in message and typed in message
    assert not KpiTarget.objects.exists()


def test_a_figure_is_shown_back_in_the_languages_notation(client, manager, cluster, plan_year):
    url = plan_url(cluster, plan_year)
    login(client, manager, language="nl").post(url, {"planned_actions": "Calls.", "kpi_C6": "12,5", "save": "1"})

    with translation.override("nl"):
        dutch = login(client, manager, language="nl").get(url).text
    english = login(client, manager, language="en").get(url).text

    assert re.search(r'name="kpi_C6" value="12,5"|value="12,5"[^>]*name="kpi_C6"', dutch)
    assert re.search(r'name="kpi_C6" value="12.5"|value="12.5"[^>]*name="kpi_C6"', english)


def test_a_dutch_decimal_in_a_report_is_kept_on_a_refused_submission(client, manager, cluster):
    year = timezone.localdate().year - 1
    with translation.override("nl"):
        response = login(client, manager, language="nl").post(
            report_url(cluster, year), {"narrative": "Tekst.", "kpi_CPI10": "2,5", "submit": "1"}
        )
    assert response.status_code == 200
    report = AnnualReport.objects.get()
    assert dict(KpiValue.objects.filter(report=report).values_list("kpi__code", "value"))["CPI10"] == Decimal("2.5")
    assert 'value="2,5"' in response.text
