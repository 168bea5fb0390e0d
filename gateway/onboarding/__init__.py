"""Onboarding: partners, their credentials and their map versions, kept in the database.

- :mod:`~gateway.onboarding.partners`: create a partner, add its AS2 certificate or SFTP key.
- :mod:`~gateway.onboarding.map_versions`: upload (validated), list, activate, roll back.
- :mod:`~gateway.onboarding.dry_run`: run a version on samples and recent documents, diff
  it against the active one; nothing is stored as events, nothing is delivered.
- :mod:`~gateway.onboarding.directory`: what a running process uses: the partners in
  ``partners/`` plus the ones in the database, with the active map versions, reloaded
  when the database's onboarding generation moves (a cheap read per job).

Every change takes the acting principal and a reason, and writes its audit row in the
same transaction.
"""

from gateway.onboarding.errors import Conflict, Invalid, NotFound, OnboardingError

__all__ = ["Conflict", "Invalid", "NotFound", "OnboardingError"]
