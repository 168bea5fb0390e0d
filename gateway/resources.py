"""Where the gateway's own runtime data lives: maps, X12 tables, partners, routes, schemas.

One function per kind. Each answers, in this order:

1. the setting that names an operator's own copy (an environment variable, listed
   below), which must then exist (else :class:`ConfigError` naming the variable);
2. the package data of an installed wheel (``gateway/_data/``, copied there from the
   repository by ``setup.py`` at build time, same layout as the checkout);
3. the repository checkout this module runs from (development, tests).

=====================  ===========================  ==============================
function               setting                      default below the data root
=====================  ===========================  ==============================
``maps_dir()``         (none: the parts below)      ``maps/``
``x12_maps_dir()``     ``GATEWAY_X12_MAPS``         ``maps/x12/`` (spec + builder)
``x12_spec_dir()``     (follows ``x12_maps_dir``)   ``maps/x12/spec/``
``translate_maps_dir``  ``GATEWAY_MAPS_DIR``         ``maps/translate/``
``schemas_dir()``      ``GATEWAY_SCHEMA_DIR``       ``maps/xml/`` (UBL 2.1 XSDs)
``partners_dir()``     ``GATEWAY_PARTNERS_DIR``     ``partners/``
``routes_file()``      ``GATEWAY_ROUTES_FILE``      ``routes.yaml``
``sample_docs_dir()``  (none)                       ``sample_docs/``
=====================  ===========================  ==============================

When the default is missing it is the installation that is broken, never the file a
user handed us: :class:`MissingDataError` says so in those words. ``check=False``
returns the path without looking (for module-level defaults evaluated at import).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gateway.config import ConfigError

PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
CHECKOUT = Path(__file__).resolve().parent.parent


class MissingDataError(RuntimeError):
    """The gateway's own data is missing: an installation fault, not the user's input."""

    def __init__(self, what: str, path: Path, setting: str | None = None):
        hint = f" (or set {setting} to a copy)" if setting else ""
        super().__init__(f"internal error: the gateway's {what} are missing at {path}; this is not a problem "
                         f"with your file: reinstall the gateway{hint}")
        self.what, self.path, self.setting = what, path, setting


def data_root() -> Path:
    """The folder holding ``maps/``, ``partners/``, ``routes.yaml``: package data, else the checkout."""
    for root in (PACKAGE_DATA, CHECKOUT):
        if (root / "maps").is_dir():
            return root
    return PACKAGE_DATA  # neither: report what is missing where an installed gateway keeps it


def _locate(relative: str, what: str, setting: str | None, env: Mapping[str, str] | None,
            check: bool) -> Path:
    raw = ((os.environ if env is None else env).get(setting) or "").strip() if setting else ""
    if raw:
        path = Path(raw).expanduser().resolve()
        if check and not path.exists():
            raise ConfigError(f"{setting}={raw!r}: no such file or directory")
        return path
    path = data_root() / relative
    if check and not path.exists():
        raise MissingDataError(what, path, setting)
    return path


def maps_dir(*, check: bool = True) -> Path:
    """``maps/``: the X12 tables, translation maps and XML schemas the gateway ships."""
    return _locate("maps", "maps", None, None, check)


def x12_maps_dir(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``maps/x12/``: the X12 tables (``spec/``) and the pyx12 map builder."""
    return _locate("maps/x12", "X12 tables", "GATEWAY_X12_MAPS", env, check)


def x12_spec_dir(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``maps/x12/spec/``: the element, segment, code and set tables."""
    path = x12_maps_dir(env, check=check) / "spec"
    if check and not path.is_dir():
        raise MissingDataError("X12 tables", path, "GATEWAY_X12_MAPS")
    return path


def translate_maps_dir(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``maps/translate/``: the base translation maps."""
    return _locate("maps/translate", "translation maps", "GATEWAY_MAPS_DIR", env, check)


def schemas_dir(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``maps/xml/``: the XML schemas (UBL 2.1 XSDs; cXML DTDs only from an operator's copy)."""
    return _locate("maps/xml", "XML schemas", "GATEWAY_SCHEMA_DIR", env, check)


def partners_dir(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``partners/``: one folder per trading partner."""
    return _locate("partners", "partner profiles", "GATEWAY_PARTNERS_DIR", env, check)


def routes_file(env: Mapping[str, str] | None = None, *, check: bool = True) -> Path:
    """``routes.yaml``: which events go to which adapters."""
    return _locate("routes.yaml", "default routes", "GATEWAY_ROUTES_FILE", env, check)


def sample_docs_dir(*, check: bool = True) -> Path:
    """``sample_docs/``: the demo documents (also used to warm the workers)."""
    return _locate("sample_docs", "sample documents", None, None, check)
