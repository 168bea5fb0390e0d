"""The CLI knows partners onboarded in the console: ``gateway partners list`` shows them,
and ``gateway users create --role partner --partner ID`` and ``gateway tokens create``
accept them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from onboarding_support import BUYER, NEW_PARTNER

from gateway.onboarding import partners


def _gateway(rt, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "GATEWAY_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.database_url,
           "REDIS_URL": rt.settings.redis_url}
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_the_cli_sees_partners_created_in_the_console(rt):
    partners.create(rt, BUYER, NEW_PARTNER, "new supplier")
    listed = _gateway(rt, "partners", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {p["id"] for p in json.loads(listed.stdout)} == {"demo", "globex"}
    user = _gateway(rt, "users", "create", "globex-portal", "--role", "partner", "--partner", "globex",
                    "--password-stdin", stdin="a long enough password\n")
    assert user.returncode == 0, user.stderr
    token = _gateway(rt, "tokens", "create", "globex-api", "--role", "partner", "--partner", "globex")
    assert token.returncode == 0, token.stderr
