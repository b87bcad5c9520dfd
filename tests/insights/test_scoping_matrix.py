"""Every insights page, JSON answer and export, asked by every role, on the demo data.

A cluster manager's answers name no other cluster and no amount that is not theirs (another cluster's
reservation, what the envelope has left after everyone's allocations, the other initiatives); officers
and API readers see every cluster, which proves the check can fail; anonymous users see nothing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from clusterpacts.models import Cluster
from funding.models import Allocation, Project
from funding.selectors import budget_years
from funding.services import allocation_save
from insights.exports import DATASETS
from tests import factories
from tests.conftest import reload_migrated_data
from tests.pages import has_word

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
OWN = "catalisti"
# Another cluster's reservation and a project decided against it, made distinctive so that they can be
# recognised in any format.
FOREIGN_RESERVATION = Decimal("7654321.00")
FOREIGN_PROJECT = Decimal("6543219.00")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO())
        sim = Allocation.objects.get(cluster__slug="sim", budget_year__year=AS_OF.year)
        allocation_save(allocation=sim, amount=FOREIGN_RESERVATION)
        # A project of each: the manager's own cluster's, and the other's that they must not see.
        for slug, amount in ((OWN, Decimal("1250000.00")), ("sim", FOREIGN_PROJECT)):
            factories.ProjectFactory(
                reference=f"MATRIX-{slug}",
                lead_cluster=Cluster.objects.get(slug=slug),
                decided_on=date(AS_OF.year, 3, 1),
                amount=amount,
            )
        yield
        call_command("flush", interactive=False, verbosity=0)
        reload_migrated_data()


def _urls() -> list[tuple[str, str]]:
    day = AS_OF.isoformat()
    urls = [
        ("dashboard", reverse("insights:dashboard")),
        ("cluster list", reverse("insights:clusters")),
        ("own cluster page", reverse("insights:cluster", args=[OWN])),
        ("other cluster page", reverse("insights:cluster", args=["sim"])),
        ("comparison", reverse("insights:compare") + f"?kpi=CPI1&year={AS_OF.year - 1}"),
        ("briefing page", reverse("insights:briefing") + f"?as_of={day}"),
        ("briefing document", reverse("insights:briefing-docx") + f"?as_of={day}"),
        ("briefing JSON", f"/api/v1/briefing/?as_of={day}"),
        ("funding overview", reverse("insights:funding")),
    ]
    for dataset in DATASETS:
        for fmt in ("csv", "xlsx"):
            urls.append((f"{dataset} export ({fmt})", reverse("insights:export", args=[dataset, fmt])))
    return urls


URLS = _urls()
# The answers that list the projects a manager's cluster takes part in, with the other clusters of each.
PROJECT_LISTS = {"own cluster page", "projects export (csv)", "projects export (xlsx)"}


def co_participants(manager) -> set[str]:
    """The other clusters of the inter-cluster projects the manager's cluster takes part in."""
    names: set[str] = set()
    for project in Project.objects.for_user(manager).filter(type=Project.Type.INTER_CLUSTER):
        names |= {project.lead_cluster.name, *project.clusters.values_list("name", flat=True)}
    return names - {"Catalisti"}


ROLES = ["officer", "analyst", "manager-catalisti", "anonymous"]


def text_of(response) -> str:
    """What a person reads in the response, whatever its format."""
    kind = response["Content-Type"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "wordprocessingml" in kind:
        document = Document(io.BytesIO(body))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if "spreadsheetml" in kind:
        sheets = load_workbook(io.BytesIO(body), read_only=True).worksheets
        return "\n".join(
            " ".join(str(v) for v in row if v is not None) for s in sheets for row in s.iter_rows(values_only=True)
        )
    if "csv" in kind:
        return "\n".join(" ".join(row) for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    if "json" in kind:
        return json.dumps(json.loads(body), ensure_ascii=False)
    return html.unescape(body.decode())


NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+|\d+)(?:[.,]\d{1,2})?(?![\d])")


def whole_numbers(text: str) -> set[str]:
    """Every number's whole part, grouping removed: 7.654.321, 7,654,321.00 and 7654321.0 all read 7654321."""
    return {re.sub(r"\D", "", match.group(1)) for match in NUMBER.finditer(text)}


def _amount_digits(amount: Decimal) -> str:
    return str(int(amount))


def _not_theirs(officer, manager) -> list[str]:
    """The amounts of the as-of year a manager of OWN may not see, as digit strings (less any amount of
    theirs that happens to be equal)."""
    year = next(y for y in budget_years(user=officer) if y.year == AS_OF.year)
    theirs = next(y for y in budget_years(user=manager) if y.year == AS_OF.year)
    own = {_amount_digits(amount) for amount in (theirs.reserved, theirs.inter_cluster)}
    # What is theirs in any year: their projects (and the inter-cluster ones they take part in), and what
    # was decided against their reservations and their inter-cluster allocations.
    own |= {_amount_digits(amount) for amount in Project.objects.for_user(manager).values_list("amount", flat=True)}
    for figures in budget_years(user=manager):
        own |= {_amount_digits(figures.inter_cluster_decided), _amount_digits(figures.projects_decided)}
        for reservation in figures.reservations:
            own |= {_amount_digits(reservation.decided), _amount_digits(reservation.remaining)}
    foreign = {_amount_digits(FOREIGN_RESERVATION), _amount_digits(FOREIGN_PROJECT)}
    candidates = foreign | {_amount_digits(year.remaining), _amount_digits(year.other)}
    assert not foreign & own
    return sorted(candidates - own)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "url"), URLS, ids=[name for name, _ in URLS])
def test_every_insights_answer_is_scoped_to_the_asker(demo, client, role, page, url):
    users = get_user_model().objects
    if role != "anonymous":
        client.force_login(users.get(username=role))
    response = client.get(url)

    if role == "anonymous":
        assert response.status_code == (401 if url.startswith("/api/") else 302)
        return
    others = list(Cluster.objects.exclude(slug=OWN).values_list("name", flat=True))
    if role != "manager-catalisti":
        assert response.status_code == 200
        if page not in ("own cluster page", "other cluster page"):
            text = text_of(response)  # once: a streamed export is read to its end
            assert any(has_word(text, name) for name in others), "a reader sees every cluster"
        return
    if page == "dashboard":
        assert response.status_code == 403
        return
    if page == "other cluster page":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    text = text_of(response)
    assert has_word(text, "Catalisti") or page in ("kpi-values export (csv)",), "the manager's own cluster is there"
    named = [name for name in others if has_word(text, name)]
    if page in PROJECT_LISTS:
        # An inter-cluster project names the clusters it joins: those are part of the manager's project.
        joined = co_participants(users.get(username=role))
        assert set(named) <= joined, f"{page} names clusters Catalisti takes no part with: {set(named) - joined}"
    else:
        assert named == [], f"{page} names other clusters to Catalisti's manager: {named}"
    assert "MATRIX-sim" not in text, f"{page} shows another cluster's project"
    hidden = _not_theirs(users.get(username="officer"), users.get(username=role))
    leaked = [amount for amount in hidden if amount in whole_numbers(text)]
    assert leaked == [], f"{page} shows amounts that are not Catalisti's: {leaked}"
