"""TLS on loopback, for captures of ``wss://``: a throwaway certificate, the two contexts, the
key log that lets Wireshark decrypt, and the TLS records a capture shows instead of frames.

- ``throwaway_certificate(directory)``: a self-signed certificate for 127.0.0.1, valid for a
  day, and its private key, written as PEM files (made with the ``cryptography`` package).
- ``loopback_contexts(certificate)``: the server's ``SSLContext``, and a client's that trusts
  only that certificate. Set the client's ``keylog_filename`` to have it write the session keys
  (the NSS key log format, which Wireshark reads as ``tls.keylog_file``) and decrypt a capture.
- ``records(data)``: the TLS records of one direction of a TCP stream (RFC 8446 section 5.1):
  what is left to see on the wire once TLS is on.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
# RFC 8446 section 5.1 (ContentType); TLS 1.3 sends everything after the ServerHello,
# encrypted handshake messages included, as application_data.
CONTENT_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
RECORD_HEADER = 5  # content type (1 byte), legacy version (2), length (2)


@dataclass(frozen=True)
class Certificate:
    """PEM files of a certificate and its private key."""

    certificate: Path
    key: Path


def throwaway_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (as an IP address in subjectAltName, which is
    what a client checks), valid for one day, with a fresh P-256 key: good for loopback
    only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wsteach loopback")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(directory / "loopback.crt", directory / "loopback.key")
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


def loopback_contexts(certificate: Certificate) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """The server's context (presenting ``certificate``) and the client's (trusting only it,
    and checking that it names 127.0.0.1)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certificate.certificate, certificate.key)
    return server, ssl.create_default_context(cafile=certificate.certificate)


@dataclass(frozen=True)
class Record:
    """One TLS record: its content type and the length of what follows its 5-byte header."""

    content_type: str
    length: int


def records(data: bytes) -> list[Record]:
    """The TLS records in one direction's bytes, in order (a record cut off at the end of the
    capture is left out)."""
    found, offset = [], 0
    while offset + RECORD_HEADER <= len(data):
        kind, length = data[offset], int.from_bytes(data[offset + 3:offset + 5], "big")
        if offset + RECORD_HEADER + length > len(data):
            break
        found.append(Record(CONTENT_TYPES.get(kind, f"unknown {kind}"), length))
        offset += RECORD_HEADER + length
    return found
