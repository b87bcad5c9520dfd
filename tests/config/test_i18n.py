"""Dutch (the default) and English: messages of the rules, the admin, and the shipped catalogue."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from funding.services import agreement_create
from tests.factories import ClusterFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")


def term_too_long_message() -> str:
    """Create an agreement of 3 years and 1 day through the service; return the message on end_date."""
    cluster = ClusterFactory()
    with pytest.raises(ValidationError) as caught:
        agreement_create(
            cluster=cluster,
            reference="SO-TOO-LONG",
            start_date=date(2017, 1, 1),
            end_date=date(2020, 1, 1),
            amount=Decimal("500000"),
        )
    return " ".join(caught.value.message_dict["end_date"])


# --- rules speak the active language ------------------------------------------------------------


@pytest.mark.django_db
def test_a_broken_rule_is_explained_in_dutch():
    with translation.override("nl"):
        message = term_too_long_message()
    assert "Een steunovereenkomst loopt maximaal 3 jaar" in message
    assert "uiterste toegelaten einddatum" in message
    assert "at most 3 years" not in message


@pytest.mark.django_db
def test_the_same_rule_is_explained_in_english():
    with translation.override("en"):
        message = term_too_long_message()
    assert "A support agreement runs for at most 3 years" in message
    assert "maximaal" not in message


# --- the admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_index_is_dutch_by_default(client, officer):
    client.force_login(officer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Steunovereenkomsten" in response.text
    assert "Financiering" in response.text
    assert "Clusterpactportaal — VLAIO" in response.text
    assert "Support agreements" not in response.text


@pytest.mark.django_db
def test_admin_index_follows_the_language_cookie(client, officer):
    client.force_login(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Support agreements" in response.text
    assert "Funding" in response.text
    assert "Steunovereenkomsten" not in response.text


# --- the catalogue itself ---------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: flags, msgid, msgid_plural, msgstr and msgstr[n], multi-line strings.
    Obsolete entries (#~) are skipped; msgctxt is not used by this project."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: a continuation line without a keyword"
            keyword, rest = target[0], line
        else:
            rest = rest.strip()
            if keyword == "msgid":
                current = Entry(line=number, flags=pending_flags)
                entries.append(current)
                pending_flags = set()
        value = ast.literal_eval(rest)
        assert current is not None, f"{path}:{number}: {keyword} before any msgid"
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword == "msgid":
            current.msgid += value
            target = ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
            target = ("msgid_plural", 0)
        elif keyword == "msgstr" or match:
            index = int(match.group(1)) if match else 0
            current.msgstr[index] = current.msgstr.get(index, "") + value
            target = (keyword, index)
        else:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(PO_FILE)


def test_the_header_declares_dutch_utf8_and_two_plural_forms(po_entries):
    header = po_entries[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: nl\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries):
    messages = po_entries[1:]
    assert len(messages) > 200
    untranslated = [e.msgid for e in messages if not e.msgstr or any(not s for s in e.msgstr.values())]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    plurals_incomplete = [e.msgid for e in messages if e.msgid_plural is not None and set(e.msgstr) != {0, 1}]
    assert untranslated == []
    assert fuzzy == []
    assert plurals_incomplete == []


def test_every_translation_keeps_the_placeholders_of_its_source(po_entries):
    broken = [
        (e.msgid, s)
        for e in po_entries[1:]
        for s in e.msgstr.values()
        if sorted(PLACEHOLDER.findall(e.msgid_plural or e.msgid)) != sorted(PLACEHOLDER.findall(s))
    ]
    assert broken == []


def test_the_compiled_catalogue_matches_the_po_file(po_entries):
    assert MO_FILE.exists(), "run: python manage.py compilemessages -l nl"
    with MO_FILE.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.info()["language"] == "nl"
    assert catalogue.gettext("support agreements") == "steunovereenkomsten"
    stale = [
        e.msgid
        for e in po_entries[1:]
        if e.msgid_plural is None and "fuzzy" not in e.flags and catalogue.gettext(e.msgid) != e.msgstr[0]
    ]
    assert stale == [], "the .mo file is older than the .po file: run compilemessages -l nl"
