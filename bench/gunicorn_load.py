"""Benchmark: requests per second under gunicorn (2 workers) on loopback, measured with wrk, for a
token-authenticated API detail and list against a constant JSON view in the same run (issue 16: the
detail at least 20 % of the constant view's requests/s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale3000 .venv/bin/python bench/gunicorn_load.py

Needs `wrk` (Debian: `apt-get install -y wrk`). The portal runs with the production settings
(bench/settings.py: persistent connections, DEBUG off; only the TLS redirect off, as nginx terminates TLS),
so what is measured is what production pays per request. wrk runs on the same 2 cores as the two
workers: every figure, the floor included, pays for it alike. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
        # One user's token loads each URL for 12 s: at a few hundred requests/s that passes the production
        # rate (2,000/minute) and the throttle answers 429, as it should. The same rate per second keeps the
        # throttle in the measured path with a history of the same size (it is bounded by the rate's count).
        "API_THROTTLE_USER": os.environ.get("API_THROTTLE_USER", "2000/second"),
    }


def _token_and_urls(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """An API reader's token (created for the run, deleted after it) and the URLs to load."""
    script = """
import django; django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from knox.models import AuthToken
from core.roles import API_READER
from funding.models import SupportAgreement
user, _ = get_user_model().objects.get_or_create(username="bench-reader")
user.groups.add(Group.objects.get(name=API_READER))
_, token = AuthToken.objects.create(user)
agreement = SupportAgreement.objects.order_by("pk").first()
print(token, agreement.pk, agreement.cluster_id)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    token, agreement, cluster = out[-3:]
    return token, {
        "constant JSON view (floor)": "/bench/constant/",
        "API detail (agreement, token)": f"/api/v1/agreements/{agreement}/",
        "API list (agreements of a cluster, token)": f"/api/v1/agreements/?cluster={cluster}",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, token: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _wrk(url: str, token: str, duration: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-H", f"Authorization: Token {token}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors for {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise SystemExit(f"no Requests/sec in wrk's answer for {url}:\n{out}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database to measure (e.g. the scale data).")
    env = _environment(database_url)
    token, urls = _token_and_urls(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for path in urls.values():
            _wait(base + path, token)
        rates = {}
        for name, path in urls.items():
            _wrk(base + path, token, 2, args.connections)  # warm the workers' connections and caches
            rates[name] = _wrk(base + path, token, args.duration, args.connections)
    finally:
        server.terminate()
        server.wait(timeout=30)
        revoke = "import django; django.setup(); from knox.models import AuthToken; "
        revoke += "AuthToken.objects.filter(user__username='bench-reader').delete()"
        subprocess.run([sys.executable, "-c", revoke], env=env, cwd=ROOT, check=True)
    floor = rates["constant JSON view (floor)"]
    print(
        f"| request (gunicorn, {args.workers} workers, wrk -c{args.connections}, {args.duration} s) "
        "| requests/s | share of the floor | target |"
    )
    print("|---|---:|---:|---|")
    targets = {"API detail (agreement, token)": "≥ 20 %"}
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} | {rate / floor:.0%} | {targets.get(name, '')} |")


if __name__ == "__main__":
    main()
