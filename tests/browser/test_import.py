"""The history import as an officer goes through it, in Dutch, in a real browser: upload a workbook, read the
check's preview, confirm, read the outcome; on a laptop and on a phone. Screenshots: test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clusterpacts.models import Cluster
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE
from tests.workbook.files import ONE_CLUSTER, write_workbook
from workbook.models import ImportRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(("viewport", "prefix"), [(DESKTOP, "import-"), (PHONE, "import-phone-")])
def test_an_officer_uploads_checks_and_confirms_a_workbook(open_page, tmp_path, viewport, prefix):
    factories.officer(username="jan.janssens", first_name="Jan", last_name="Janssens")
    workbook = write_workbook(tmp_path / "voorgeschiedenis.xlsx", ONE_CLUSTER)
    tab = open_page(viewport=viewport, prefix=prefix)
    page = tab.page

    # 1. The officer finds the import in the header and uploads the workbook.
    tab.login("jan.janssens")
    page.locator("header nav").get_by_role("link", name="Importeren").click()
    tab.expect_path("/import/")
    assert page.inner_text("h1") == "De voorgeschiedenis van het programma importeren"
    assert page.get_by_role("link", name="De lege werkmap downloaden (.xlsx)").is_visible()
    page.set_input_files("#id_file", str(workbook))
    assert tab.fits_width()
    tab.shot("01-upload")
    page.get_by_role("button", name="De werkmap nakijken").click()

    # 2. The check's preview: one cluster would be created, nothing is saved yet.
    run = ImportRun.objects.get()
    tab.expect_path(f"/import/{run.pk}/")
    assert page.inner_text("h1") == "voorgeschiedenis.xlsx"
    assert page.inner_text(".heading .badge") == "nagekeken"
    row = page.locator("table.counts tbody tr")
    assert row.count() == 1
    assert [c.strip() for c in row.locator("th, td").all_inner_texts()] == ["clusters", "1", "0", "0", "0"]
    assert page.locator("table.refusals").count() == 0
    assert not Cluster.objects.filter(slug="test-cluster").exists()
    assert tab.fits_width()
    assert tab.off_screen("form button") == []
    tab.shot("02-preview")

    # 3. Confirmed: the cluster is imported and the page says so.
    page.get_by_role("button", name="Import bevestigen").click()
    tab.expect_path(f"/import/{run.pk}/")
    assert "De werkmap werd geïmporteerd." in page.inner_text(".alert")
    assert page.inner_text(".heading .badge") == "geïmporteerd"
    assert page.get_by_role("button", name="Import bevestigen").count() == 0
    assert Cluster.objects.get(slug="test-cluster").name == "Test Cluster"
    assert tab.fits_width()
    tab.shot("03-imported")

    # 4. The run is listed on the import page.
    page.get_by_role("link", name="Importeren", exact=True).first.click()
    tab.expect_path("/import/")
    assert page.get_by_role("link", name="voorgeschiedenis.xlsx").is_visible()
    tab.shot("04-list")
