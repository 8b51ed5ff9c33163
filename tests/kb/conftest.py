"""Fixtures of the knowledge-base tests: placeholder values for snippets, a fixture KB."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from trailguard.kb import loader

FIXTURE_KB = Path(__file__).parent / "fixtures" / "knowledge"
ACCOUNT_ID = "123456789012"  # moto's default fake account
REGION = "us-east-1"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA key for the session (generation costs tens of milliseconds)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def placeholders(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """Values for ``{placeholders}`` in moto blocks: a real SSH public key, a real X.509
    certificate, the fake account id and region, and a strong throwaway password."""
    ssh_public_key = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailguard-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(rsa_key, hashes.SHA256())
    )
    return {
        "ssh_public_key": ssh_public_key,
        "x509_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "password": "Tg-" + secrets.token_urlsafe(18) + "-9a",
    }


@pytest.fixture()
def fixture_kb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the loader at tests/kb/fixtures/knowledge (two small entries) for one test."""
    monkeypatch.setattr(loader, "knowledge_root", lambda: FIXTURE_KB)
    loader.clear_cache()
    yield FIXTURE_KB
    loader.clear_cache()
