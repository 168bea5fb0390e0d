"""Open a CMS EnvelopedData (an encrypted AS2 message) with ``cryptography``, beneath
pyas2lib.

pyas2lib 1.4.4 decrypts with oscrypto, which (a) knows RSAES-OAEP only with SHA-1, so the
OAEP-SHA-256 key transport other AS2 products send ended as ``decryption-failed``;
(b) reads only the first RecipientInfo, so a message also encrypted to its sender's own
certificate could not be opened; and (c) names the cipher only for 3DES, so the
algorithm a partner used could not be checked against its profile. :func:`open_envelope`
has pyas2lib's ``decrypt_message`` contract and fixes all three; :mod:`as2_compat`
installs it in pyas2lib's place.

Sans-IO: bytes and keys in, (cipher name, content) out.
"""

from __future__ import annotations

from asn1crypto import cms
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# asn1crypto's content-encryption name -> the profile's name (pyas2lib's), and the cipher.
CIPHERS = {
    "aes128_cbc": ("aes_128_cbc", algorithms.AES),
    "aes192_cbc": ("aes_192_cbc", algorithms.AES),
    "aes256_cbc": ("aes_256_cbc", algorithms.AES),
    "tripledes_3key": ("tripledes_192_cbc", TripleDES),
}
HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
          "sha512": hashes.SHA512}


def open_envelope(encrypted_data: bytes, decryption_key) -> tuple[str, bytes]:
    """(the profile name of the content cipher, the decrypted content) of a CMS
    EnvelopedData, opened with our key. ``decryption_key`` is what pyas2lib loaded from our
    Organization: (oscrypto private key, oscrypto certificate). Any failure is pyas2lib's
    :class:`DecryptionError` (``decryption-failed``), so another of our keys is tried."""
    try:
        info = cms.ContentInfo.load(encrypted_data)
        envelope = info["content"] if info["content_type"].native == "enveloped_data" else None
        if envelope is not None:
            content_info = envelope["encrypted_content_info"]
            algorithm = content_info["content_encryption_algorithm"]
            name = algorithm["algorithm"].native
            ciphertext = content_info["encrypted_content"].native
    except Exception as exc:
        raise _failed(f"not a CMS EnvelopedData: {exc}") from exc
    if envelope is None:
        raise _failed("encrypted data not found in the ASN.1 content")
    if name not in CIPHERS:
        raise _failed(f"content encryption {name!r} is not supported (AES-CBC or 3DES only)")
    if ciphertext is None:
        raise _failed("the EnvelopedData has no encrypted content")
    key, cert = _our_key(decryption_key)
    profile_name, cipher = CIPHERS[name]
    for recipient in _recipients_for(envelope, cert):
        try:
            content_key = _unwrap(recipient, key)
            return profile_name, _decrypt(cipher, content_key, algorithm.encryption_iv, ciphertext)
        except (ValueError, TypeError, KeyError):
            continue  # not for this key (another recipient, or another of our keys in a rollover)
    raise _failed("Failed to decrypt the payload: no recipient of the message opens with our key")


def _failed(why: str) -> Exception:
    """pyas2lib's DecryptionError (``decryption-failed``); imported here, not at the top,
    because pyas2lib may only be imported through :mod:`as2_compat`."""
    from pyas2lib.exceptions import DecryptionError

    return DecryptionError(why)


def _our_key(decryption_key):
    private, certificate = decryption_key
    key = serialization.load_der_private_key(private.asn1.dump(), None)
    return key, certificate.asn1


def _recipients_for(envelope, cert) -> list:
    """Key-transport recipients addressed to ``cert`` first, then the other ones (a sender
    may name us by a key identifier we do not match, or name us wrongly)."""
    ours, others = [], []
    for choice in envelope["recipient_infos"]:
        if choice.name != "ktri":
            continue
        recipient = choice.chosen
        rid = recipient["rid"]
        if rid.name == "issuer_and_serial_number":
            named_us = (rid.chosen["issuer"] == cert.issuer
                        and rid.chosen["serial_number"].native == cert.serial_number)
        else:
            named_us = rid.chosen.native == cert.key_identifier
        (ours if named_us else others).append(recipient)
    return ours + others


def _unwrap(recipient, key) -> bytes:
    """The content-encryption key, with PKCS#1 v1.5 or RSAES-OAEP (any SHA-2 or SHA-1)."""
    algorithm = recipient["key_encryption_algorithm"]
    encrypted_key = recipient["encrypted_key"].native
    name = algorithm["algorithm"].native
    if name in ("rsaes_pkcs1v15", "rsa"):
        return key.decrypt(encrypted_key, rsa_padding.PKCS1v15())
    if name == "rsaes_oaep":
        params = algorithm["parameters"]
        digest = HASHES[params["hash_algorithm"]["algorithm"].native]()
        mgf_hash = HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]()
        label = params["p_source_algorithm"]["parameters"].native or None
        return key.decrypt(encrypted_key, rsa_padding.OAEP(mgf=rsa_padding.MGF1(mgf_hash), algorithm=digest,
                                                           label=label))
    raise ValueError(f"key transport {name!r} is not supported")


def _decrypt(cipher, content_key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(cipher(content_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(cipher.block_size).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
