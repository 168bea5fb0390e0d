"""Import pyas2lib safely: work around oscrypto's OpenSSL version check, decrypt with
``cryptography``, and bound decompression.

* oscrypto 1.3.0 (pyas2lib's crypto backend) reads the OpenSSL version with the regex
  ``\\d\\.\\d\\.\\d`` and refuses to load when the patch number has two digits
  ("OpenSSL 3.0.19"); the fix is upstream but unreleased. If the normal import fails
  that way, the one module that does the check is loaded from its own source with the
  corrected pattern. Nothing else in oscrypto is changed.
* pyas2lib's decryption is replaced by :func:`as2_envelope.open_envelope` (OAEP with
  SHA-2, every recipient, the cipher reported so the profile can be enforced).
* pyas2lib decompresses ``compressed-data`` with a bare ``zlib.decompress`` before the
  signature is verified (a zip bomb costs us memory before we know who sent it).
  :class:`BoundedMessage` overrides the one method that does it with a capped
  ``decompressobj``.
"""

from __future__ import annotations

import importlib.util
import sys
import zlib

_OLD_PATTERN = "'\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b'"
_NEW_PATTERN = "'\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b'"


def _load_oscrypto() -> None:
    try:
        import oscrypto.asymmetric  # noqa: F401
        return
    except Exception as exc:
        if "version of libcrypto" not in str(exc):
            raise
    for name in ("oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"):
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        source = spec.loader.get_source(name)
        if _OLD_PATTERN not in source:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            exec(compile(source.replace(_OLD_PATTERN, _NEW_PATTERN), spec.origin, "exec"), module.__dict__)
        except Exception:
            del sys.modules[name]  # e.g. cffi missing: the other backend is tried
            continue
    import oscrypto.asymmetric  # noqa: F401,F811 - now succeeds, or raises the real reason


_load_oscrypto()

import pyas2lib.as2 as _pyas2lib_as2  # noqa: E402
from asn1crypto import cms  # noqa: E402
from pyas2lib import Mdn, Message, Organization, Partner  # noqa: E402,F401
from pyas2lib.exceptions import (  # noqa: E402,F401
    AS2Exception,
    DecompressionError,
    ImproperlyConfigured,
    InsufficientSecurityError,
    IntegrityError,
)
from pyas2lib.utils import mime_to_bytes  # noqa: E402,F401

from gateway.transports.as2_envelope import open_envelope  # noqa: E402

# pyas2lib decrypts in Message.parse through this module-level name; ours opens OAEP
# (any SHA-2), every recipient, and reports the cipher (see as2_envelope).
_pyas2lib_as2.decrypt_message = open_envelope

# Set by the receiver before parsing; a class attribute so pyas2lib's flow is untouched.
DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024


def bounded_decompress(compressed: bytes, limit: int) -> bytes:
    """The content of a CMS ``compressed-data`` object, refusing more than ``limit`` bytes."""
    try:
        info = cms.ContentInfo.load(compressed)
        if info["content_type"].native != "compressed_data":
            raise DecompressionError("compressed data not found in the ASN.1 content")
        content = info["content"]
        if content["compression_algorithm"]["algorithm"].native != "zlib":
            raise DecompressionError("only zlib compression is supported")
        raw = content["encap_content_info"]["content"].native
    except DecompressionError:
        raise
    except Exception as exc:
        raise DecompressionError(f"decompression failed: {exc}") from exc
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise DecompressionError(f"decompression failed: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise DecompressionError(f"decompressed content is over the {limit}-byte limit")
    return out


class BoundedMessage(Message):
    """pyas2lib's Message whose decompression stops at ``max_decompressed`` bytes."""

    max_decompressed = DEFAULT_MAX_DECOMPRESSED

    def _decompress_data(self, payload):
        from email import message_from_bytes

        if payload.get_content_type() == "application/pkcs7-mime" and payload.get_param("smime-type") == "compressed-data":
            data = bounded_decompress(payload.get_payload(decode=True), self.max_decompressed)
            return True, message_from_bytes(data)
        return False, payload
