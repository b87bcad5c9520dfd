"""Benchmark: the API lists against a floor of hand-written SQL for the same rows, in the same run (issue 16:
agreements and KPI values at most 1.75x the floor, every other list at most 2.5x; at most 3 queries per
list request including the token check, whatever the number of tokens the user holds).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale3000 .venv/bin/python bench/api_lists.py

On the database in DATABASE_URL as it is (the scale data of `make bench`). For each list, 100 rows with a
filter, N requests (default 50) of an API reader with a token go through Django's test client, each
followed by one to the floor: a plain view registered here only, running one COUNT and one page query of
hand-written SQL with the same filter, order and LIMIT, and answering the same fields with a JsonResponse
(the same middleware runs in front of both). Interleaved, so that both meet the same load on a shared
machine. The time is the server's: the test client's call, no network. The floor's count and ids are
checked against the API's first. Then one list for the reader holding 1 token and 1,000 (`--held-tokens`):
the token check must not grow with them. The reader and its tokens are created for the run and deleted
after it. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
os.environ.setdefault("DEBUG", "0")  # no query log in the measured path, as in production

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import clear_url_caches, include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from clusterpacts.models import AnnualReport  # noqa: E402
from core.roles import API_READER  # noqa: E402
from funding.models import SupportAgreement  # noqa: E402

PAGE = 100
READER = "bench-api-lists-reader"

# --- the floor: one COUNT and one page query per list, the same rows and fields as the API's -------------

CLUSTER = "JOIN clusterpacts_cluster c ON c.id = t.cluster_id"  # the lists are ordered by the cluster's name

FLOORS: dict[str, tuple[str, str, str, str, str]] = {
    # name: (table, WHERE (with %(param)s), the page's joins, its columns, its ORDER BY)
    "agreements": (
        "funding_supportagreement t",
        "t.cluster_id = %(cluster)s",
        CLUSTER,
        "t.id, t.cluster_id AS cluster, t.reference, t.start_date, t.end_date, t.amount, t.signed_on, "
        "t.predecessor_id AS predecessor, t.chain_start, "
        "(t.chain_start + interval '10 years' - interval '1 day')::date AS cap_date, "
        "t.end_date >= (t.chain_start + interval '10 years' - interval '1 day')::date AS final_term, t.notes",
        "c.name, t.start_date",
    ),
    "clusters": (
        "clusterpacts_cluster t",
        "TRUE",
        "",
        "t.id, t.name, t.slug, t.kind, t.domain, t.legal_entity, t.enterprise_number, t.website, "
        "t.recognised_on, t.started_on, t.active, t.description",
        "t.name",
    ),
    "annual-reports": (
        "clusterpacts_annualreport t",
        "t.year = %(year)s",
        CLUSTER,
        "t.id, t.cluster_id AS cluster, t.year, t.status, t.narrative, t.due_on, "
        "(t.status IN ('draft', 'returned') AND t.due_on < CURRENT_DATE) AS overdue, "
        "t.submitted_at, t.reviewed_at, t.review_comment",
        "c.name, t.year DESC",
    ),
    "flags": (
        "funding_flag t",
        "t.resolved_on IS NULL",
        "",
        "t.id, t.kind, t.cluster_id AS cluster, t.agreement_id AS agreement, t.report_id AS report, t.year, "
        "COALESCE(NULLIF(t.message_en, ''), t.message) AS message, t.raised_on, t.due_on, t.resolved_on, "
        "t.notified_at",
        "t.resolved_on, t.due_on, t.id",
    ),
    "kpi-values": (
        "clusterpacts_kpivalue t",
        "t.year = %(year)s",
        f"{CLUSTER} JOIN clusterpacts_kpidefinition k ON k.id = t.kpi_id "
        "JOIN clusterpacts_annualreport r ON r.id = t.report_id",
        "t.id, t.report_id AS report, t.cluster_id AS cluster, t.kpi_id AS kpi, t.year, t.value, "
        "r.status = 'accepted' AS official",
        "c.name, t.year, k.position, k.code",
    ),
}


def floor(request: HttpRequest, name: str) -> JsonResponse:
    """One COUNT and one page query of hand-written SQL: what any list must at least cost."""
    table, where, joins, columns, order = FLOORS[name]
    params = {key: int(value) for key, value in request.GET.items() if key in ("cluster", "year")}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)  # noqa: S608 - fixed SQL, int params
        count = cursor.fetchone()[0]
        page = f"SELECT {columns} FROM {table} {joins} WHERE {where} ORDER BY {order} LIMIT {PAGE}"  # noqa: S608
        cursor.execute(page, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return JsonResponse({"count": count, "next": None, "previous": None, "results": rows})


def _with_floor_urls() -> None:
    """The portal's URLs plus the floor view, for this process only."""
    module = types.ModuleType("bench_api_lists_urls")
    module.urlpatterns = [path("bench/floor/<str:name>/", floor), path("", include(settings.ROOT_URLCONF))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clear_url_caches()


# --- the measurement ---------------------------------------------------------------------------------


def _lists() -> list[tuple[str, str, dict[str, int]]]:
    """(label, endpoint, filter) of each list measured, on values the data holds."""
    chain = SupportAgreement.objects.values("cluster").annotate(n=Count("id")).order_by("-n", "cluster").first() or {}
    year = (AnnualReport.objects.aggregate(last=Max("year"))["last"] or timezone.localdate().year) - 1
    return [
        ("agreements?cluster=", "agreements", {"cluster": chain.get("cluster", 0)}),
        ("clusters", "clusters", {}),
        ("annual-reports?year=", "annual-reports", {"year": year}),
        ("flags?open=true", "flags", {"open": 1}),
        ("kpi-values?year=", "kpi-values", {"year": year}),
    ]


def _query(params: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {"page_size": PAGE, **{key: ("true" if key == "open" else value) for key, value in params.items()}, **extra}


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return elapsed, response


def _queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def measure(requests: int, held_tokens: int) -> list[str]:
    user, _ = get_user_model().objects.get_or_create(username=READER)
    user.groups.add(Group.objects.get(name=API_READER))
    _, token = AuthToken.objects.create(user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")
    plain = Client(HTTP_ACCEPT_LANGUAGE="en")
    lines = [
        f"{requests} requests each, 100 rows a page, an API reader's token; the floor: one COUNT and one page "
        "query of hand-written SQL for the same rows and fields, `JsonResponse`, behind the same middleware.",
        "",
        "| list | rows | median ms | floor median ms | ratio | queries (floor) |",
        "|---|---|---|---|---|---|",
    ]
    try:
        for label, name, params in _lists():
            cache.clear()  # the throttle's counts: N requests a list stay far below its rate
            url, floor_url = f"/api/v1/{name}/", f"/bench/floor/{name}/"
            listed = api.get(url, _query(params)).json()
            floored = plain.get(floor_url, params).json()
            same_ids = [row["id"] for row in listed["results"]] == [row["id"] for row in floored["results"]]
            if listed["count"] != floored["count"] or not same_ids:
                raise RuntimeError(f"{name}: the floor does not answer the API's rows")
            for _warm_up in range(3):
                api.get(url, _query(params))
                plain.get(floor_url, params)
            times, floor_times = [], []
            for _ in range(requests):
                times.append(_timed(lambda url=url, params=params: api.get(url, _query(params)))[0])
                floor_times.append(_timed(lambda floor_url=floor_url, params=params: plain.get(floor_url, params))[0])
            queries = _queries(lambda url=url, params=params: api.get(url, _query(params)))
            floor_queries = _queries(lambda floor_url=floor_url, params=params: plain.get(floor_url, params))
            median, floor_median = statistics.median(times), statistics.median(floor_times)
            shown = label if label.endswith("true") else label + "".join(str(value) for value in params.values())
            lines.append(
                f"| `{shown}` | {listed['count']:,} | {median:.1f} | {floor_median:.1f} | "
                f"{median / floor_median:.2f}x | {queries} ({floor_queries}) |"
            )
        if held_tokens:
            lines += ["", *_many_tokens(user, api, held_tokens, requests)]
    finally:
        AuthToken.objects.filter(user=user).delete()
        user.delete()
    return lines


def _many_tokens(user: Any, api: Client, held: int, requests: int) -> list[str]:
    """The token check's cost with one token held, then `held`: the same list, the same queries."""
    url, params = "/api/v1/clusters/", {"page_size": 1}

    def median() -> float:
        cache.clear()
        for _warm_up in range(3):
            api.get(url, params)
        return statistics.median(_timed(lambda: api.get(url, params))[0] for _ in range(requests))

    one, one_queries = median(), _queries(lambda: api.get(url, params))
    for _ in range(held - 1):
        AuthToken.objects.create(user)
    many, many_queries = median(), _queries(lambda: api.get(url, params))
    return [
        f"A user holding 1 token: `clusters?page_size=1` {one:.1f} ms, {one_queries} queries; "
        f"holding {held:,} tokens: {many:.1f} ms, {many_queries} queries."
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per list (default 50)")
    parser.add_argument(
        "--held-tokens", type=int, default=1000, help="also time a list for a user holding this many tokens (0: not)"
    )
    args = parser.parse_args()
    _with_floor_urls()
    vendor = connection.vendor
    if vendor != "postgresql":
        print(f"(measured on {vendor}, not PostgreSQL: the floor's SQL is PostgreSQL's)", file=sys.stderr)
    print("\n".join(measure(args.requests, args.held_tokens)))


if __name__ == "__main__":
    main()
