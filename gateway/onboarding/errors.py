"""What an onboarding request can be refused for, with the HTTP status that says so."""

from __future__ import annotations


class OnboardingError(ValueError):
    """Refused; nothing was changed. ``problems`` lists details (file, line, field, message)."""

    status = 400

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.problems = problems or []


class Invalid(OnboardingError):
    """What was sent is not acceptable (a bad map, certificate, key or profile)."""

    status = 422


class NotFound(OnboardingError):
    status = 404


class Conflict(OnboardingError):
    """Acceptable in itself, but not now: a stale dry-run, an id already taken."""

    status = 409
