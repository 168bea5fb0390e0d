"""The SFTP channel under abuse, with OpenSSH's real `sftp` client: traversal, symlinks,
size and quota limits, incomplete and cut-off uploads, temporary names, failed-login
throttling, disabled algorithms, timeouts and (optional) hashed passwords."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from hashlib import sha1

import paramiko
import pytest
from cryptography.hazmat.primitives import hashes
from paramiko.kex_group14 import KexGroup14SHA256
from paramiko.sftp import CMD_CLOSE
from sftp_kit import SftpRig, write_sftp_partner
from sqlalchemy import select
from support import SAMPLES

from gateway.store.models import Document
from gateway.transports.sftp import SFTPService
from gateway.transports.sftp_auth import hash_password

SAMPLE = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
SIZE = SAMPLE.stat().st_size

pytestmark = pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH sftp client not installed")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sftp")
    partners = tmp / "partners"
    write_sftp_partner(partners, "acme", max_file_bytes=SIZE * 3 // 2)
    write_sftp_partner(partners, "other")
    write_sftp_partner(partners, "pw", password_hash=hash_password("correct horse"))
    r = SftpRig(tmp, f"sqlite:///{tmp / 'gw.db'}", None, partners, address_failures=4, lockout=120,
                banner_timeout=1)
    yield r
    r.stop()


def docs(rt, partner_id):
    with rt.session() as s:
        return s.scalars(select(Document).where(Document.partner_id == partner_id).order_by(Document.received_at)).all()


def test_paths_outside_the_jail_are_refused(rig):
    before = len(docs(rig.rt, "acme"))
    for target in ("../../escaped.edi", "/etc/escaped.edi", "inbound/../../escaped.edi", "..\\..\\escaped.edi",
                   "inbound/%2e%2e/x.edi", "outbound/x.edi"):
        result = rig.sftp(f"put {SAMPLE} {target}\n")
        assert result.returncode != 0, target
    assert not list(rig.tmp.rglob("escaped.edi"))
    assert len(docs(rig.rt, "acme")) == before


def test_symlinks_are_unsupported_and_planted_ones_not_followed(rig, tmp_path):
    root = rig.rt.settings.sftp_root / "acme"
    rig.sftp("ls\n")  # creates the partner folder
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (root / "outbound" / "link.txt").unlink(missing_ok=True)
    os.symlink(secret, root / "outbound" / "link.txt")
    (root / "inbound" / "dir").unlink(missing_ok=True)
    os.symlink(tmp_path, root / "inbound" / "dir")
    made = rig.sftp("symlink inbound/a inbound/b\n")
    assert made.returncode != 0
    got = rig.sftp(f"get outbound/link.txt {tmp_path / 'fetched.txt'}\n")
    assert got.returncode != 0 and not (tmp_path / "fetched.txt").exists()
    listed = rig.sftp("ls inbound/dir/\n")
    assert "secret.txt" not in listed.stdout
    put = rig.sftp(f"put {SAMPLE} inbound/dir/planted.edi\n")
    assert put.returncode != 0 and not (tmp_path / "planted.edi").exists()


def test_an_incomplete_file_is_refused_at_close_with_a_clear_error(rig, tmp_path):
    half = tmp_path / "half.edi"
    half.write_bytes(SAMPLE.read_bytes()[: SIZE // 2])
    before = len(docs(rig.rt, "acme"))
    result = rig.sftp(f"put {half} inbound/\n")
    assert result.returncode != 0 and "close remote: Failure" in result.stderr, result.stderr
    # OpenSSH prints only the status code; the message we sent with it says why
    key = paramiko.Ed25519Key.from_private_key_file(str(rig.key_for("acme")))
    with paramiko.Transport(("127.0.0.1", rig.service.port)) as t:
        t.connect(username="acme", pkey=key)
        client = paramiko.SFTPClient.from_transport(t)
        for name, data, message in [("half.edi", half.read_bytes(), "does not end with its IEA segment"),
                                    ("o.xml", b"<?xml version='1.0'?><Order><ID>1</ID>", "not well-formed")]:
            f = client.open(f"inbound/{name}", "wb")
            f.write(data)
            f.flush()
            with pytest.raises(OSError, match=message):  # SFTPFile.close() would swallow it
                client._request(CMD_CLOSE, f.handle)
            f._closed = True
    assert len(docs(rig.rt, "acme")) == before


def test_a_temporary_name_is_delivered_by_its_rename(rig):
    before = len(docs(rig.rt, "acme"))
    uploaded = rig.sftp(f"put {SAMPLE} inbound/po-77.edi.filepart\n")
    assert uploaded.returncode == 0, uploaded.stderr
    assert len(docs(rig.rt, "acme")) == before  # not yet: still a temporary name
    result = rig.sftp(f"put {SAMPLE} inbound/po-78.edi.filepart\nrename inbound/po-78.edi.filepart inbound/po-78.edi\n")
    assert result.returncode == 0, result.stderr
    new = docs(rig.rt, "acme")[before:]
    assert [d.filename for d in new] == ["po-78.edi"]
    assert not list((rig.rt.settings.home / "sftp-staging" / "acme").iterdir())  # the unrenamed one is gone too


def test_a_file_over_the_size_limit_fails_at_the_write(rig, tmp_path):
    big = tmp_path / "two.edi"
    big.write_bytes(SAMPLE.read_bytes() * 2)  # two whole interchanges: complete, but too big
    before = len(docs(rig.rt, "acme"))
    result = rig.sftp(f"put {big} inbound/\n")
    assert result.returncode != 0
    assert len(docs(rig.rt, "acme")) == before


def test_the_daily_quota_stops_uploads_at_the_limit(tmp_path, database_url):
    partners = tmp_path / "partners"
    write_sftp_partner(partners, "acme", daily_quota_bytes=SIZE * 5 // 2)
    rig = SftpRig(tmp_path, database_url, None, partners)
    try:
        for i in range(2):
            ok = rig.sftp(f"put {SAMPLE} inbound/po-{i}.edi\n")
            assert ok.returncode == 0, ok.stderr
        third = rig.sftp(f"put {SAMPLE} inbound/po-2.edi\n")
        assert third.returncode != 0
        assert "quota" in third.stderr or "Failure" in third.stderr, third.stderr
        assert len(docs(rig.rt, "acme")) == 2
    finally:
        rig.stop()


def test_an_upload_killed_halfway_leaves_nothing_accepted(rig, tmp_path):
    write_sftp_partner(rig.rt.settings.partners_dir, "bulk")  # no per-file limit below the global 50 MiB
    rig.rt.partners = __import__("gateway.domain.partner", fromlist=["x"]).load_partners(rig.rt.settings.partners_dir)
    body = SAMPLE.read_bytes()
    isa, rest = body[:106], body[106:]
    big = tmp_path / "big.edi"
    with big.open("wb") as fh:  # ~40 MB, a single interchange that is complete only when whole
        fh.write(isa)
        line = b"N9*ZZ*" + b"X" * 70 + b"~\n"
        fh.write(line * (40_000_000 // len(line)))
        fh.write(rest)
    staging = rig.rt.settings.home / "sftp-staging" / "bulk"
    proc = subprocess.Popen(rig.command("bulk", rig.key_for("bulk")), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(f"put {big} inbound/big.edi\n".encode())
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    staged_size = 0
    while time.monotonic() < deadline and staged_size < 4_000_000:
        staged_size = sum(p.stat().st_size for p in staging.glob("*.part")) if staging.exists() else 0
        time.sleep(0.02)
    assert staged_size >= 4_000_000, "the upload did not get going"
    proc.send_signal(signal.SIGKILL)  # the client dies mid-transfer: no CLOSE is ever sent
    proc.wait(timeout=10)
    assert staged_size < big.stat().st_size
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and list(staging.glob("*")):
        time.sleep(0.05)
    assert list(staging.glob("*")) == []  # the staged part was discarded
    assert docs(rig.rt, "bulk") == []
    again = rig.sftp(f"put {SAMPLE} inbound/after.edi\n", "bulk")  # and the partner can send again
    assert again.returncode == 0 and [d.filename for d in docs(rig.rt, "bulk")] == ["after.edi"]


@pytest.mark.parametrize("option", ["Ciphers=aes128-cbc", "MACs=hmac-sha1"])
def test_a_client_offering_only_a_disabled_algorithm_is_refused(rig, option):
    result = rig.sftp("ls\n", "acme", None, option)
    assert result.returncode != 0
    assert "no matching" in result.stderr.lower() or "Unable to negotiate" in result.stderr, result.stderr


class KexGroup14SHA1(KexGroup14SHA256):
    """diffie-hellman-group14-sha1 as paramiko 3.x ships it."""

    name = "diffie-hellman-group14-sha1"
    hash_algo = sha1


@pytest.fixture
def paramiko_3_sha1(monkeypatch):
    """Put back the SHA-1 algorithms paramiko 3.x (which pyproject allows) still offers and
    paramiko 5 dropped: the group14-sha1 key exchange and ssh-rsa host-key signatures.
    Without them the two refusals below would be paramiko's, whatever our config says."""
    monkeypatch.setitem(paramiko.Transport._kex_info, KexGroup14SHA1.name, KexGroup14SHA1)
    monkeypatch.setattr(paramiko.Transport, "_preferred_kex", (*paramiko.Transport._preferred_kex, KexGroup14SHA1.name))
    monkeypatch.setitem(paramiko.RSAKey.HASHES, "ssh-rsa", hashes.SHA1)
    monkeypatch.setattr(paramiko.Transport, "_preferred_keys", (*paramiko.Transport._preferred_keys, "ssh-rsa"))


def test_a_sha1_key_exchange_is_refused_by_our_config(rig, paramiko_3_sha1):
    sha256 = rig.sftp("ls\n", "acme", None, "KexAlgorithms=diffie-hellman-group14-sha256")
    assert sha256.returncode == 0, sha256.stderr  # the same group with SHA-256 is served
    result = rig.sftp("ls\n", "acme", None, f"KexAlgorithms={KexGroup14SHA1.name}")
    assert result.returncode != 0
    assert "no matching key exchange method" in result.stderr, result.stderr


def test_ssh_rsa_signatures_are_refused_even_with_an_rsa_host_key(rig, paramiko_3_sha1):
    service = SFTPService(rig.rt, host="127.0.0.1", port=0)
    service.host_key = paramiko.RSAKey.generate(3072)  # a legacy RSA host key, which could sign with SHA-1
    saved, rig.service = rig.service, service.start()  # rig.sftp connects to rig.service's port
    try:
        sha2 = rig.sftp("ls\n", "acme", None, "HostKeyAlgorithms=rsa-sha2-256")
        assert sha2.returncode == 0, sha2.stderr  # the RSA key itself is served, signing with SHA-2
        result = rig.sftp("ls\n", "acme", None, "HostKeyAlgorithms=ssh-rsa")
    finally:
        rig.service = saved
        service.stop()
    assert result.returncode != 0
    assert "no matching host key type" in result.stderr, result.stderr


def test_idle_tcp_before_the_banner_is_dropped(rig):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", rig.service.port), timeout=10) as sock:
        sock.recv(256)  # our banner
        while sock.recv(256):
            pass  # until the server closes
    assert time.monotonic() - started < 5


def test_password_only_where_configured_and_stored_hashed(rig):
    def allowed(user):
        t = paramiko.Transport(("127.0.0.1", rig.service.port))
        try:
            t.start_client(timeout=10)
            try:
                t.auth_none(user)
            except paramiko.BadAuthenticationType as exc:
                return sorted(exc.allowed_types)
        finally:
            t.close()

    assert allowed("acme") == ["publickey"]
    assert allowed("pw") == ["password", "publickey"]
    assert "correct horse" not in (rig.rt.settings.partners_dir / "pw" / "partner.yaml").read_text()
    with paramiko.Transport(("127.0.0.1", rig.service.port)) as t:
        t.connect(username="pw", password="correct horse")
        sftp = paramiko.SFTPClient.from_transport(t)
        assert sorted(sftp.listdir("/")) == ["inbound", "outbound"]


def test_repeated_failures_lock_the_address_out_and_leave_others_alone(rig, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    good = rig.key_for("other")
    other_address = "BindAddress=127.0.0.2"
    assert rig.sftp("ls\n", "other", good, other_address).returncode == 0
    for _ in range(4):
        assert rig.sftp("ls\n", "other", stranger, other_address).returncode != 0
    locked = rig.sftp("ls\n", "other", good, other_address)
    assert locked.returncode != 0, "the right key from a locked-out address must be refused too"
    assert rig.sftp("ls\n", "other", good, "BindAddress=127.0.0.3").returncode == 0  # another address is fine


def _closing(client, f):
    """CLOSE a file and return the server's error text ('' for OK): SFTPFile.close() swallows it."""
    try:
        client._request(CMD_CLOSE, f.handle)
        return ""
    except OSError as exc:
        return str(exc)
    finally:
        f._closed = True


def test_parallel_handles_cannot_together_pass_the_daily_quota(tmp_path, database_url):
    partners = tmp_path / "partners"
    write_sftp_partner(partners, "acme", daily_quota_bytes=SIZE * 5 // 2)
    rig = SftpRig(tmp_path, database_url, None, partners)
    try:
        key = paramiko.Ed25519Key.from_private_key_file(str(rig.key_for("acme")))
        with paramiko.Transport(("127.0.0.1", rig.service.port)) as t:
            t.connect(username="acme", pkey=key)
            client = paramiko.SFTPClient.from_transport(t)
            handles = [client.open(f"inbound/po-{i}.edi", "wb") for i in range(4)]  # all open, quota untouched
            for f in handles:
                f.write(SAMPLE.read_bytes())
                f.flush()
            outcomes = [_closing(client, f) for f in handles]
        assert outcomes[:2] == ["", ""]
        assert all("quota" in o for o in outcomes[2:]), outcomes
        assert len(docs(rig.rt, "acme")) == 2
    finally:
        rig.stop()


def test_a_temporary_name_is_charged_and_checked_when_its_rename_delivers_it(tmp_path, database_url):
    partners = tmp_path / "partners"
    write_sftp_partner(partners, "acme", daily_quota_bytes=SIZE * 5 // 2)
    rig = SftpRig(tmp_path, database_url, None, partners)
    try:
        # Three parts staged while nothing is charged yet, then delivered one by one by rename.
        puts = "".join(f"put {SAMPLE} inbound/po-{i}.edi.filepart\n" for i in range(3))
        renames = "".join(f"rename inbound/po-{i}.edi.filepart inbound/po-{i}.edi\n" for i in range(3))
        result = rig.sftp(puts + renames)
        assert result.returncode != 0, result.stderr
        assert 'rename "/inbound/po-2.edi.filepart"' in result.stderr or "po-2" in result.stderr, result.stderr
        assert [d.filename for d in docs(rig.rt, "acme")] == ["po-0.edi", "po-1.edi"]
        assert not list((rig.rt.settings.home / "sftp-staging" / "acme").iterdir())  # nothing left behind
    finally:
        rig.stop()


def test_simultaneous_charges_never_pass_the_quota_together(tmp_path, database_url):
    from concurrent.futures import ThreadPoolExecutor

    from gateway.transports.sftp_limits import bytes_today, charge

    partners = tmp_path / "partners"
    write_sftp_partner(partners, "acme")
    rig = SftpRig(tmp_path, database_url, None, partners)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: charge(rig.rt, "acme", 1000, 5000), range(24)))
        assert results.count(True) == 5 and bytes_today(rig.rt, "acme") == 5000
    finally:
        rig.stop()


def _login(port: int, source: str, user: str, **credentials) -> bool:
    """One paramiko login from ``source`` (any 127.x address is loopback): True if accepted."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(source, 0))
    with paramiko.Transport(sock) as t:
        try:
            t.connect(username=user, **credentials)
        except paramiko.AuthenticationException:
            return False
        return t.is_authenticated()


def test_guesses_from_rotating_addresses_never_lock_out_the_partner(tmp_path):
    partners = tmp_path / "partners"
    write_sftp_partner(partners, "pw", password_hash=hash_password("correct horse"))
    rig = SftpRig(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", None, partners, address_failures=4,
                  lockout=120, slowdown=0.01, slowdown_max=0.05)
    try:
        key = paramiko.Ed25519Key.from_private_key_file(str(rig.key_for("pw")))
        for i in range(1, 31):  # 30 wrong passwords for the partner id, each from a new address
            assert not _login(rig.service.port, f"127.0.9.{i}", "pw", password=f"guess {i}")
        assert _login(rig.service.port, "127.0.8.1", "pw", password="correct horse")
        assert _login(rig.service.port, "127.0.8.2", "pw", pkey=key)
        # the guessing addresses themselves are only locked out once they reach their own limit
        for _ in range(4):
            assert not _login(rig.service.port, "127.0.7.1", "pw", password="guess")
        assert not _login(rig.service.port, "127.0.7.1", "pw", password="correct horse")
        assert _login(rig.service.port, "127.0.8.3", "pw", password="correct horse")
    finally:
        rig.stop()


def test_failures_are_answered_ever_later_and_a_user_name_is_never_locked():
    from gateway.transports.sftp_limits import AuthThrottle, SftpLimits

    now = [1000.0]
    throttle = AuthThrottle(SftpLimits(address_failures=5, slowdown=0.5, slowdown_max=4.0), clock=lambda: now[0])
    delays = [throttle.failed(f"10.0.0.{i}", "acme", password=True) for i in range(12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0] and set(delays[4:]) == {4.0}  # slowed per user, capped
    assert not any(throttle.blocked(f"10.0.0.{i}") for i in range(12)) and not throttle.blocked("10.0.1.1")
    assert throttle.failed("10.0.2.1", "acme", password=False) == 0.5  # a refused key: per address only
    for _ in range(4):
        throttle.failed("10.0.3.3", "bob", password=False)
    assert not throttle.blocked("10.0.3.3")
    throttle.failed("10.0.3.3", "bob", password=False)
    assert throttle.blocked("10.0.3.3")  # the fifth failure from one address locks that address
    now[0] += 600.1 + 900  # past the window and the lockout
    assert not throttle.blocked("10.0.3.3") and throttle.failed("10.0.4.4", "acme", password=True) == 0.5


def _transport(port: int, source: str, key) -> paramiko.Transport:
    t = paramiko.Transport(socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(source, 0)))
    t.connect(username="acme", pkey=key)
    return t


def test_connections_in_all_and_sessions_per_connection_are_capped(tmp_path):
    partners = tmp_path / "partners"
    write_sftp_partner(partners, "acme")
    rig = SftpRig(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", None, partners, max_connections=2,
                  channels_per_connection=2)
    try:
        key = paramiko.Ed25519Key.from_private_key_file(str(rig.key_for("acme")))
        first, second = (_transport(rig.service.port, f"127.0.6.{i}", key) for i in (1, 2))
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):  # a third address: the server is full
            _transport(rig.service.port, "127.0.6.3", key).close()
        sessions = [paramiko.SFTPClient.from_transport(first) for _ in range(2)]
        assert all(s.listdir("/") for s in sessions)
        with pytest.raises(paramiko.ChannelException):
            first.open_session()
        sessions[0].close()  # a closed session makes room for the next one
        deadline = time.monotonic() + 20
        while len(first._channels) >= 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert paramiko.SFTPClient.from_transport(first).listdir("/")
        second.close()  # and a closed connection for the next connection
        deadline, third = time.monotonic() + 20, None
        while third is None and time.monotonic() < deadline:
            try:
                third = _transport(rig.service.port, "127.0.6.3", key)
            except (paramiko.SSHException, EOFError, OSError):
                time.sleep(0.1)
        assert third is not None and paramiko.SFTPClient.from_transport(third).listdir("/")
        third.close()
        first.close()
    finally:
        rig.stop()


def test_a_write_beyond_the_end_is_refused_not_zero_filled(rig):
    write_sftp_partner(rig.rt.settings.partners_dir, "holes")  # no per-file limit below the global 50 MiB
    rig.rt.partners = __import__("gateway.domain.partner", fromlist=["x"]).load_partners(rig.rt.settings.partners_dir)
    body = SAMPLE.read_bytes()
    key = paramiko.Ed25519Key.from_private_key_file(str(rig.key_for("holes")))
    with paramiko.Transport(("127.0.0.1", rig.service.port)) as t:
        t.connect(username="holes", pkey=key)
        client = paramiko.SFTPClient.from_transport(t)
        f = client.open("inbound/holey.edi", "wb")
        f.write(body[:200])
        f.seek(20_000_000 + 200)  # leaves 20 MB of nothing between the two writes
        with pytest.raises(OSError):
            f.write(body[200:])
            f.flush()
        assert "hole" in _closing(client, f)
        g = client.open("inbound/whole.edi", "wb")  # an honest upload on the same connection still works
        g.write(body)
        g.flush()
        assert _closing(client, g) == ""
    assert [d.filename for d in docs(rig.rt, "holes")] == ["whole.edi"]
