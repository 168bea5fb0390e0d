"""The cXML DTDs and UBL XSDs, loaded only from the local schema directory.

By default that is ``maps/xml/`` as shipped with the gateway (:func:`gateway.resources.schemas_dir`),
which holds the UBL 2.1 XSDs but not the cXML DTDs (their licence must travel with every
copy, and we have no verbatim copy of it: see ``maps/xml/LICENSES.md``).
``GATEWAY_SCHEMA_DIR`` names an operator's own directory instead (tests use
``../shared/corpus/schemas``, which also has cXML DTDs). Layout:

    cxml/<version>/<cXML.dtd | Fulfill.dtd | InvoiceDetail.dtd | Custom.dtd>
    <anything>/UBL-<Document>-2.1.xsd   (the OASIS release layout: xsd/maindoc + xsd/common)

A cXML document is checked against the DTD file it names, in the version it names or,
when that version is not in the directory, the nearest newer one (cXML versions only
add to the DTD), else the newest there is. DTD references to ``xml.cxml.org`` are
mapped to the same directory; every other external request is refused. XSDs load
with xmlschema (``allow='local'``, ``defuse='always'``) and may only import files from
the schema directory or xmlschema's own bundled schemas: nothing is fetched remotely,
and a document's ``xsi:schemaLocation`` is never used.

Loaded schemas are cached per process; :func:`preload` builds them up front so forked
workers inherit them (building the UBL XSDs takes a few seconds each).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

from gateway.config import ConfigError

log = logging.getLogger("gateway.xml")

ENV = "GATEWAY_SCHEMA_DIR"
_CXML_URL = re.compile(r"^https?://xml\.cxml\.org/schemas/cXML/(?P<version>[\d.]+)/(?P<dtd>[A-Za-z]+\.dtd)$",
                       re.IGNORECASE)


def schema_dir(env: dict[str, str] | None = None) -> Path:
    """``GATEWAY_SCHEMA_DIR`` (ConfigError when it is not a directory), else the shipped
    ``maps/xml/`` (:class:`gateway.resources.MissingDataError` when the install lacks it)."""
    from gateway.resources import schemas_dir

    raw = (os.environ if env is None else env).get(ENV, "").strip()
    if raw and not Path(raw).expanduser().is_dir():
        raise ConfigError(f"{ENV}={raw!r} is not a directory")
    return schemas_dir(env)


def coverage(directory: Path) -> dict[str, str | None]:
    """What ``directory`` can validate: ``{"cxml": why not | None, "ubl": why not | None}``.

    For start-up banners and ``gateway validate``: a missing family is said out loud."""
    has_dtd = (directory / "cxml").is_dir() and any((directory / "cxml").glob("*/*.dtd"))
    has_xsd = find_xsd(directory, "Order") is not None
    return {
        "cxml": None if has_dtd else (f"cXML DTD validation is OFF: no cxml/<version>/*.dtd in {directory} "
                                      f"(the DTDs are not shipped, see maps/xml/LICENSES.md; set {ENV} to a "
                                      "folder that has them)"),
        "ubl": None if has_xsd else f"UBL XSD validation is OFF: no UBL-Order-2.1.xsd in {directory}",
    }


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def find_dtd(directory: Path, dtd: str, version: str | None) -> Path | None:
    """The local DTD file for ``dtd`` in ``version`` (or the nearest newer, else the newest)."""
    found = {p.parent.name: p for p in (directory / "cxml").glob(f"*/{dtd}")} if (directory / "cxml").is_dir() else {}
    found = {v: p for v, p in found.items() if _version_key(v)}
    if not found:
        return None
    if version in found:
        return found[version]
    ordered = sorted(found, key=_version_key)
    newer = [v for v in ordered if version and _version_key(v) >= _version_key(version)]
    return found[newer[0]] if newer else found[ordered[-1]]


class _LocalCxml(etree.Resolver):
    """cXML DTD URLs -> files in the schema directory; anything else is refused."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory

    def resolve(self, url, pubid, context):
        match = _CXML_URL.match(url or "")
        local = find_dtd(self.directory, match["dtd"], match["version"]) if match else None
        if local is None and (url or "").startswith("file:"):
            candidate = Path(unquote(urlparse(url).path)).resolve()
            # both sides resolved: a schema directory reached through a symlink still holds its own files
            local = candidate if candidate.is_relative_to(self.directory.resolve()) else None
        if local is None:
            log.warning("refused to load %r while reading a DTD", (url or "")[:200])
            return self.resolve_string("", context)
        return self.resolve_filename(str(local), context)


@functools.lru_cache(maxsize=32)
def load_dtd(directory: Path, path: Path) -> etree.DTD:
    """The DTD in ``path`` with its references resolved inside ``directory`` (cached)."""
    parser = etree.XMLParser(load_dtd=True, no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalCxml(directory))
    holder = f'<!DOCTYPE cXML SYSTEM "{path.as_uri()}"><cXML/>'.encode()
    dtd = etree.fromstring(holder, parser).getroottree().docinfo.externalDTD
    if dtd is None:
        raise ConfigError(f"{path}: could not be read as a DTD")
    return dtd


def find_xsd(directory: Path, name: str) -> Path | None:
    """``UBL-<name>-2.1.xsd`` (or the newest ``2.x``) anywhere below ``directory``."""
    found = sorted(directory.glob(f"**/UBL-{name}-2.*.xsd"), key=lambda p: _version_key(p.stem.rsplit("-", 1)[1]))
    exact = [p for p in found if p.name == f"UBL-{name}-2.1.xsd"]
    return (exact or found or [None])[-1]


@functools.lru_cache(maxsize=16)
def load_xsd(directory: Path, path: Path):
    """An xmlschema schema for ``path``, confined to ``directory`` (cached)."""
    import xmlschema

    allowed = (str(directory), str(Path(xmlschema.__file__).parent / "schemas"))

    def confined(url: str) -> str:
        if "://" in url or url.startswith("/"):
            local = url[7:] if url.startswith("file://") else url
            if "://" in local or not os.path.realpath(local).startswith(allowed):
                raise ConfigError(f"{path.name}: refuses to load {url!r} (outside {directory})")
        return url

    return xmlschema.XMLSchema(str(path), allow="local", defuse="always", uri_mapper=confined)


def preload(directory: Path | None = None) -> list[str]:
    """Build every schema in the directory now (worker start-up); returns their names."""
    directory = directory or schema_dir()
    loaded = []
    for dtd in sorted((directory / "cxml").glob("*/*.dtd")) if (directory / "cxml").is_dir() else []:
        load_dtd(directory, dtd)
        loaded.append(str(dtd.relative_to(directory)))
    for name in ("Order", "OrderResponse", "OrderResponseSimple", "DespatchAdvice", "Invoice"):
        xsd = find_xsd(directory, name)
        if xsd is not None:
            load_xsd(directory, xsd)
            loaded.append(str(xsd.relative_to(directory)))
    return loaded
