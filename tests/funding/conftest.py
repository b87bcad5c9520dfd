"""Shared set-up for the funding tests: agreement chains built through the services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.test import Client
from django.utils import translation

from clusterpacts.models import Cluster
from funding.models import SupportAgreement
from funding.services import agreement_create
from tests.api_helpers import ApiClient
from tests.funding.helpers import YEARLY, make_chain

# Three full terms from 1 January 2017: the cap (2026-12-31) leaves one more year for a fourth.
TERMS_2017 = [
    (date(2017, 1, 1), date(2019, 12, 31)),
    (date(2020, 1, 1), date(2022, 12, 31)),
    (date(2023, 1, 1), date(2025, 12, 31)),
]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Compare messages with their source text (English); dates and amounts follow the active language.

    The tests that check the default language (Dutch) say so with `translation.override`.
    """
    with translation.override("en"):
        yield


@pytest.fixture
def client() -> Client:
    # The admin picks its language from the request (LocaleMiddleware); ask for the source text.
    return ApiClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def dutch_client() -> Client:
    return ApiClient(HTTP_ACCEPT_LANGUAGE="nl")


@pytest.fixture
def chain_2017(cluster: Cluster) -> list[SupportAgreement]:
    return make_chain(cluster, TERMS_2017)


@pytest.fixture
def first_term(cluster: Cluster) -> SupportAgreement:
    return agreement_create(
        cluster=cluster, reference="SO-1", start_date=date(2017, 1, 1), end_date=date(2019, 12, 31), amount=YEARLY
    )
