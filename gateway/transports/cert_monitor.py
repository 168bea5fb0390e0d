"""Certificate expiry monitoring: what ``/metrics`` exports, what a dashboard can list,
and the daily warning in the log (30 days ahead by default).

Read-only: it never creates keys (unlike starting AS2), so scraping ``/metrics`` has no
side effects. An unreadable file is reported, not raised.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.bootstrap import Runtime
from gateway.transports.as2_certs import (
    WARN_DAYS,
    CertificateError,
    certificate_report,
    key_files,
    load_key_pair,
)

log = logging.getLogger("gateway.transports.as2")


def _our_keys(rt: Runtime) -> list:
    """Our key pairs (shared, and per our_as2_id folder), each with its certificate; a
    file that cannot be loaded is logged and left out (``/healthz`` reports it)."""
    from gateway.transports.as2_profiles import as2_config

    try:
        config = as2_config(rt)
    except CertificateError as exc:
        log.warning("AS2 settings: %s", exc)
        return []
    folders = [config.keys_dir, *sorted(p for p in config.keys_dir.iterdir() if p.is_dir())] \
        if config.keys_dir.is_dir() else []
    pairs = []
    for path in (f for folder in folders for f in key_files(folder)):
        try:
            pairs.append(load_key_pair(path, config.key_password))
        except CertificateError as exc:
            log.warning("our AS2 key %s: %s", path, exc)
    return pairs


def expiry_report(rt: Runtime, warn_days: int = WARN_DAYS) -> list[dict]:
    """One row per certificate (ours and every partner's): days left and a state
    (``ok``, ``expiring``, ``expired``, ``not_yet_valid``, ``unreadable``)."""
    return certificate_report(rt.partners, _our_keys(rt), warn_days=warn_days)


def metrics_lines(rt: Runtime) -> list[str]:
    """Prometheus gauges: days to expiry per certificate, and how many need attention."""
    rows = expiry_report(rt)
    lines = ["# HELP gateway_certificate_expiry_days Days until an AS2 certificate expires (negative: expired).",
             "# TYPE gateway_certificate_expiry_days gauge"]
    for r in rows:
        if r["days_left"] is not None:
            lines.append(f'gateway_certificate_expiry_days{{partner="{r["partner_id"]}",kind="{r["kind"]}",'
                         f'file="{Path(r["path"]).name}"}} {r["days_left"]}')
    attention = sum(1 for r in rows if r["state"] != "ok")
    lines += [f"# HELP gateway_certificates_attention AS2 certificates expiring within {WARN_DAYS} days, "
              "expired, not yet valid or unreadable.",
              "# TYPE gateway_certificates_attention gauge", f"gateway_certificates_attention {attention}"]
    return lines


def warn_expiring(rt: Runtime) -> list[dict]:
    """Log a warning per certificate that needs attention; returns those rows."""
    rows = [r for r in expiry_report(rt) if r["state"] != "ok"]
    for r in rows:
        log.warning("AS2 certificate %s (%s, %s) is %s: %s days left", r["path"], r["partner_id"], r["kind"],
                    r["state"], r["days_left"])
    if rows:
        from gateway.alerts.record import record_certificate_alerts

        record_certificate_alerts(rt, rows)  # once per certificate and state
    return rows
