"""Schemathesis against a live server: every operation of /api/schema/, as a VLAIO officer with a token.

It generates requests from the schema (valid and invalid ones) and checks each response: no 5xx, a
documented status code and content type, and a body that matches the documented schema.

It runs the schemathesis CLI (requirements-dev.txt) in a subprocess against pytest-django's live
server, over a small world seeded first (one demo cluster, its budget years and flags). In CI
(CI=true) it must run: a missing prerequisite fails the test. Elsewhere it is skipped only when
schemathesis is not installed.

Tuning, through the environment: SCHEMATHESIS_MAX_EXAMPLES (per operation, default 8) and
SCHEMATHESIS_SEED (to replay a run; the seed of every run is in its output).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import get_token_model

from funding.demo import CLUSTERS, DemoSeeder
from funding.services import flags_scan
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
CHECKS = ",".join(
    [
        "not_a_server_error",  # no 5xx
        "status_code_conformance",  # every status code is documented for its operation
        "content_type_conformance",  # every response is of a documented content type
        "response_schema_conformance",  # every body matches its documented schema
    ]
)
# The coverage phase is left out: it generates every boundary and invalid case the schema allows, with no
# way to cap it (~8,600 requests, about 10 minutes on a 2-core CI machine). The fuzzing phase sends both
# valid and invalid data to every operation within the time budget; examples and stateful run too.
PHASES = "examples,fuzzing,stateful"
# Revoking the token the run authenticates with would turn every later request into a 401: the two
# revoke operations get a run of their own, with a token to spare, after the rest.
REVOKE = r"/auth/token/revoke"


def schemathesis_command() -> str:
    beside_python = Path(sys.executable).with_name("schemathesis")
    command = str(beside_python) if beside_python.exists() else shutil.which("schemathesis")
    if command is None:
        message = "the schemathesis CLI is not installed (pip install -r requirements-dev.txt)"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return command


@pytest.fixture
def officer_tokens(db) -> list[str]:
    seeder = DemoSeeder(password="demo-pass-123", log=lambda _line: None)
    medvia = seeder.seed_cluster(CLUSTERS[-1])
    seeder.seed_budget([medvia])
    seeder.seed_users([medvia])
    flags_scan(as_of=timezone.localdate())
    officer = factories.officer(username="schemathesis-officer")
    return [get_token_model().objects.create(user=officer, expiry=None)[1] for _ in range(2)]


def run_schemathesis(command: str, schema_url: str, token: str, report: Path, *selection: str) -> dict[str, Any]:
    arguments = [
        command,
        "run",
        schema_url,
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *selection,
    ]
    if os.environ.get("SCHEMATHESIS_SEED"):
        arguments += ["--seed", os.environ["SCHEMATHESIS_SEED"]]
    # Its own folder, so no schemathesis.toml or hypothesis database from elsewhere changes the run.
    finished = subprocess.run(  # noqa: S603 - our own command line
        arguments, cwd=report.parent, capture_output=True, text=True, timeout=600, check=False
    )
    output = finished.stdout + finished.stderr
    assert report.exists(), output[-5000:]
    result = json.loads(report.read_text())
    assert finished.returncode == 0, output[-20000:]
    assert result["failures"] == [] and result["errors"] == [], output[-20000:]
    return result


def test_schemathesis_finds_no_server_error_and_no_response_contradicting_the_schema(
    live_server, officer_tokens, tmp_path
):
    command = schemathesis_command()
    cache.clear()  # throttle counts of earlier tests (the live server shares this process's cache)
    schema_url = f"{live_server.url}/api/schema/?format=json"
    main, revoke = tmp_path / "main", tmp_path / "revoke"
    main.mkdir()
    revoke.mkdir()

    everything_else = run_schemathesis(
        command, schema_url, officer_tokens[0], main / "report.json", "--exclude-path-regex", REVOKE
    )
    revoking = run_schemathesis(
        command, schema_url, officer_tokens[1], revoke / "report.json", "--include-path-regex", REVOKE
    )

    operations, revoke_operations = everything_else["operations"], revoking["operations"]
    # Every operation of the schema was tested, none skipped or errored.
    assert operations["selected"] + revoke_operations["selected"] == operations["total"]
    assert revoke_operations["selected"] == 2
    for counts in (operations, revoke_operations):
        assert counts["tested"] == counts["selected"]
        assert counts["errored"] == 0
    assert everything_else["test_cases"]["generated"] >= operations["selected"]
    # The officer's token worked: schemathesis saw operations answer, not only 401s.
    assert everything_else["warnings"]["missing_auth"] == []
