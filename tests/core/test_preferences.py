"""Issue 14, item 7: the small things. A language per user (settings page, admin, login, e-mail), e-mail links
from the configured site address, the admin titled as the portal, the renewal list by end of term, CSV on the
comparison page, and the manager's link to the report due next."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from clusterpacts import services as cp
from clusterpacts.models import KpiValue
from clusterpacts.notifications import transition_mail_send
from core.models import UserPreference
from core.preferences import emails_by_language, site_link, user_language
from core.services import user_language_set
from funding.models import SupportAgreement
from funding.services import agreement_create
from tests import factories
from tests.pages import assert_login_redirect, login

pytestmark = pytest.mark.django_db
SETTINGS_URL = "/accounts/settings/"


# --- (a) a language per user ------------------------------------------------------------------------


def test_without_a_preference_a_user_has_the_site_language(manager):
    assert user_language(manager) == django_settings.LANGUAGE_CODE == "nl"
    assert user_language(None) == "nl"


def test_the_settings_page_saves_the_users_language_and_switches_to_it(client, manager):
    page = login(client, manager, "nl").get(SETTINGS_URL)
    assert page.status_code == 200
    assert f'href="{reverse("account_settings")}"' in page.text, "linked from the header"
    assert 'name="language"' in page.text

    response = client.post(SETTINGS_URL, {"language": "en"})

    assert response.status_code == 302
    assert UserPreference.objects.get(user=manager).language == "en"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Your settings were saved." in client.get(SETTINGS_URL).text


def test_the_settings_page_refuses_a_language_the_portal_does_not_speak(client, manager):
    response = login(client, manager).post(SETTINGS_URL, {"language": "fr"})
    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    assert not UserPreference.objects.exists()


def test_the_settings_page_is_for_logged_in_users_only(client):
    assert_login_redirect(client.get(SETTINGS_URL), SETTINGS_URL)


def test_a_user_changes_only_their_own_language(client, manager, other_manager):
    login(client, manager).post(SETTINGS_URL, {"language": "en", "user": other_manager.pk})
    assert user_language(manager) == "en"
    assert user_language(other_manager) == "nl"


def test_after_login_the_portal_speaks_the_users_language(client, manager):
    user_language_set(user=manager, language="en")
    response = client.post(
        reverse("login"), {"username": manager.username, "password": "secret-pass-1"}, HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 302
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(response.url, follow=True, HTTP_ACCEPT_LANGUAGE="nl")
    assert '<html lang="en">' in page.text


def test_the_admin_shows_and_saves_a_users_language(client, manager):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    url = reverse("admin:auth_user_change", args=[manager.pk])
    page = login(client, admin_user).get(url)
    assert page.status_code == 200
    assert 'name="preference-0-language"' in page.text

    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "date_joined_0": manager.date_joined.date().isoformat(),
            "date_joined_1": "00:00:00",
            "preference-TOTAL_FORMS": "1",
            "preference-INITIAL_FORMS": "0",
            "preference-0-language": "en",
            "preference-0-user": str(manager.pk),
        }
    )
    data["groups"] = [g.pk for g in manager.groups.all()]
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert user_language(manager) == "en"


def test_emails_are_grouped_by_each_recipients_language(officer, manager, other_manager):
    user_language_set(user=manager, language="en")
    from django.contrib.auth import get_user_model

    grouped = emails_by_language(get_user_model().objects.filter(pk__in=[officer.pk, manager.pk, other_manager.pk]))
    assert grouped == {"en": [manager.email], "nl": sorted([officer.email, other_manager.email])}


def test_each_manager_gets_the_workflow_mail_in_their_language(cluster, manager, officer, mailoutbox):
    second = factories.manager_of(cluster, username="manager-two")
    user_language_set(user=manager, language="en")
    report = factories.complete_report(cp.annual_report_create(cluster=cluster, year=timezone.localdate().year - 1))
    cp.document_submit(document=report, by=manager)
    mailoutbox.clear()
    accepted = cp.annual_report_accept(report=report, by=officer)
    event = accepted.events.order_by("-at").first()

    assert transition_mail_send(event=event) == 2
    by_recipient = {mail.to[0]: mail for mail in mailoutbox if len(mail.to) == 1}
    assert by_recipient[manager.email].subject.startswith("Accepted:")
    assert not by_recipient[second.email].subject.startswith("Accepted:")
    assert "was accepted by VLAIO" in by_recipient[manager.email].body
    assert "was accepted by VLAIO" not in by_recipient[second.email].body


def test_the_password_reset_mail_is_in_the_users_language_and_links_to_the_site(client, manager, mailoutbox, settings):
    settings.CLUSTERPACTS_SITE_URL = "https://clusterpacts.vlaio.example"
    user_language_set(user=manager, language="en")

    client.post(reverse("password_reset"), {"email": manager.email}, HTTP_ACCEPT_LANGUAGE="nl")

    mail = mailoutbox[0]
    assert "Someone asked to reset the password" in mail.body, "English, as the user chose, not the page's Dutch"
    assert "https://clusterpacts.vlaio.example/accounts/reset/" in mail.body
    assert "testserver" not in mail.body, "not the host the request named"


# --- (b) links from the configured site address ----------------------------------------------------


def test_the_default_site_address_is_the_one_make_run_serves():
    makefile = (Path(django_settings.BASE_DIR) / "Makefile").read_text()
    host = re.search(r"^HOST \?= (\S+)$", makefile, re.M).group(1)
    port = re.search(r"^PORT \?= (\S+)$", makefile, re.M).group(1)
    assert f"http://{host}:{port}" == "http://127.0.0.1:8000"
    import os

    if "CLUSTERPACTS_SITE_URL" not in os.environ:
        assert f"http://{host}:{port}" == django_settings.CLUSTERPACTS_SITE_URL


def test_workflow_mail_links_to_the_configured_site_address(cluster, manager, officer, mailoutbox, settings):
    settings.CLUSTERPACTS_SITE_URL = "https://clusterpacts.vlaio.example/"
    report = factories.complete_report(cp.annual_report_create(cluster=cluster, year=timezone.localdate().year - 1))
    cp.document_submit(document=report, by=manager)
    event = report.events.get()
    mailoutbox.clear()

    transition_mail_send(event=event)

    link = f"https://clusterpacts.vlaio.example{reverse('clusterpacts:review-report', args=[report.pk])}"
    assert link in mailoutbox[0].body
    assert site_link("/x/") == "https://clusterpacts.vlaio.example/x/"


def test_no_e_mail_template_or_notification_names_a_host():
    root = Path(django_settings.BASE_DIR)
    sources = [
        *root.glob("*/templates/*/email/*.txt"),
        root / "templates/registration/password_reset_email.html",
        root / "clusterpacts/notifications.py",
        root / "funding/notifications.py",
    ]
    for source in sources:
        text = source.read_text()
        assert not re.search(r"https?://", text), source
        assert "{{ domain }}" not in text, source


# --- (c) the admin titled as the portal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "header", "title", "index"),
    [
        ("en", "Clusterpact portal — VLAIO", "Clusterpact portal", "Administration"),
        ("nl", "Clusterpactportaal — VLAIO", "Clusterpactportaal", "Beheer"),
    ],
)
def test_the_admin_is_titled_as_the_portal(client, officer, language, header, title, index):
    page = login(client, officer, language).get(reverse("admin:index"))
    assert page.status_code == 200
    assert f"<title>{index} | {title}</title>" in page.text
    assert header in page.text
    assert "Django" not in page.text.split("<body")[1].split("</header>")[0]


# --- (d) the renewal list, by end of term ------------------------------------------------------------


def test_the_renewal_list_shows_agreements_ending_within_18_months_by_end_of_term(officer_client):
    today = timezone.localdate()
    first, second, third = (factories.ClusterFactory(started_on=date(2017, 1, 1)) for _ in range(3))

    def agreement(cluster, reference, months):
        end = today + timedelta(days=30 * months)
        return agreement_create(
            cluster=cluster, reference=reference, start_date=end - timedelta(days=700), end_date=end, amount=1000
        )

    # Created in another order than they end, in clusters named in yet another order.
    agreement(first, "ENDS-LATE", 17)
    agreement(second, "ENDS-FIRST", 2)
    agreement(third, "ENDS-NEXT", 9)
    agreement(factories.ClusterFactory(started_on=date(2017, 1, 1)), "BEYOND", 20)

    page = officer_client.get(reverse("admin:funding_supportagreement_changelist"), {"renewal": "18"})

    assert page.status_code == 200
    shown = [a.reference for a in page.context["cl"].result_list]
    assert shown == ["ENDS-FIRST", "ENDS-NEXT", "ENDS-LATE"]
    assert SupportAgreement.objects.count() == 4


# --- (e) the comparison exports CSV as well as Excel ---------------------------------------------------


def _value(cluster, year, code, value):
    report = cp.annual_report_create(cluster=cluster, year=year)
    cp.kpi_value_set(report=report, kpi=factories.kpi(code), value=Decimal(value))
    return report


def test_the_comparison_offers_csv_and_excel_of_the_same_rows(officer_client, cluster, other_cluster):
    year = timezone.localdate().year - 1
    for c in (cluster, other_cluster):
        c.started_on = date(2017, 1, 1)
        c.save()
    _value(cluster, year, "C2", 7)
    _value(other_cluster, year, "C2", 9)

    page = officer_client.get(reverse("insights:compare"), {"kpi": "C2", "year": year})
    csv_url = f"{reverse('insights:export', args=['kpi-values', 'csv'])}?kpi_code=C2"
    xlsx_url = f"{reverse('insights:export', args=['kpi-values', 'xlsx'])}?kpi_code=C2"
    assert csv_url in page.text and xlsx_url in page.text

    rows = list(csv.reader(io.StringIO(b"".join(officer_client.get(csv_url).streaming_content).decode("utf-8-sig"))))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(officer_client.get(xlsx_url).streaming_content))).active
    cells = [[("" if c is None else str(c)) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [r[:3] for r in rows] == [r[:3] for r in cells]
    assert {r[0] for r in rows[1:]} == {"Catalisti", "SIM"}


def test_a_manager_exports_only_their_own_cluster_from_the_comparison(client, manager, cluster, other_cluster):
    year = timezone.localdate().year - 1
    _value(cluster, year, "C2", 7)
    _value(other_cluster, year, "C2", 9)
    url = f"{reverse('insights:export', args=['kpi-values', 'csv'])}?kpi_code=C2"

    text = b"".join(login(client, manager).get(url).streaming_content).decode("utf-8-sig")

    assert "Catalisti" in text and "SIM" not in text
    assert KpiValue.objects.count() == 2


# --- (f) the manager's link to the report due next -----------------------------------------------------


def test_the_managers_home_links_to_the_report_due_next_and_opens_a_new_one(client, manager, cluster):
    cluster.started_on = date(2017, 1, 1)
    cluster.save()
    today = timezone.localdate()
    # The report due next is the first whose due day (31 March of the next year) is today or later.
    year = today.year - 1 if today <= date(today.year, 3, 31) else today.year
    home = login(client, manager).get(reverse("home"), follow=True)
    link = reverse("clusterpacts:report", args=[cluster.slug, year])

    assert home.context["due_next"].year == year
    assert f'href="{link}"' in home.text
    assert f"Annual report {year}" in home.text
    page = client.get(link)
    assert page.status_code == 200 and page.context["report"] is None, "opens the new report's page"


def test_a_manager_never_reaches_another_clusters_report_link(client, manager, other_cluster):
    other_cluster.started_on = date(2017, 1, 1)
    other_cluster.save()
    year = timezone.localdate().year
    client = login(client, manager)
    assert client.get(reverse("insights:cluster", args=[other_cluster.slug])).status_code == 404
    assert client.get(reverse("clusterpacts:report", args=[other_cluster.slug, year])).status_code == 404
    home = client.get(reverse("home"), follow=True)
    assert other_cluster.slug not in home.context["due_next"].cluster_slug


def test_a_user_who_never_chose_a_language_keeps_the_browsers_after_login(client, manager):
    response = client.post(
        reverse("login"), {"username": manager.username, "password": "secret-pass-1"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    page = client.get(response.url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in page.text
