"""Alerts: tell people (and the alert webhook) that something needs them.

- :mod:`kinds`: what can happen, and which console roles hear of what by default.
- :mod:`messages`: the plain-language subject and text of each (no IO).
- :mod:`record`: write an alert and its recipients in the caller's transaction.
- :mod:`send`: the sender the sweep runs: each recipient row once (e-mail or webhook).
- :mod:`settings`: ``GATEWAY_SMTP_URL``, ``GATEWAY_ALERT_FROM``, ``GATEWAY_CONSOLE_URL``.
"""
