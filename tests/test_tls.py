"""wsteach.wire.tls: the throwaway certificate is trusted for 127.0.0.1 and nothing else, the
key log gets written, and TLS records are read from a stream as RFC 8446 section 5.1 frames
them. (The capture of a whole wss:// session, decrypted by tshark, is in test_capture.py.)"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from wsteach.wire import tls

TIMEOUT = 10  # seconds for one TLS handshake on loopback (it takes milliseconds)


async def handshake(server: ssl.SSLContext, client: ssl.SSLContext,
                    server_hostname: str = tls.LOOPBACK) -> bytes:
    """One TLS connection on loopback; the client sends b"ping" and returns the echo."""
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(4))
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(echo, tls.LOOPBACK, 0, ssl=server)
    async with listener, asyncio.timeout(TIMEOUT):
        port = listener.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(tls.LOOPBACK, port, ssl=client,
                                                       server_hostname=server_hostname)
        writer.write(b"ping")
        answer = await reader.read(4)
        writer.close()
        return answer


def test_the_client_trusts_the_throwaway_certificate_and_logs_keys(tmp_path: Path) -> None:
    server, client = tls.loopback_contexts(tls.throwaway_certificate(tmp_path))
    keylog = tmp_path / "keys.log"
    client.keylog_filename = str(keylog)
    assert asyncio.run(handshake(server, client)) == b"ping"
    labels = {line.split()[0] for line in keylog.read_text().splitlines()
              if not line.startswith("#")}
    assert {"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} <= labels  # TLS 1.3 secrets


def test_the_client_refuses_another_certificate(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, client = tls.loopback_contexts(tls.throwaway_certificate(tmp_path / "a"))
    other_server, _ = tls.loopback_contexts(tls.throwaway_certificate(tmp_path / "b"))
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed|unable to get"):
        asyncio.run(handshake(other_server, client))


def test_the_certificate_names_127_0_0_1_only(tmp_path: Path) -> None:
    server, client = tls.loopback_contexts(tls.throwaway_certificate(tmp_path))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|doesn't match"):
        asyncio.run(handshake(server, client, server_hostname="localhost"))


def record(content_type: int, body: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(body).to_bytes(2, "big") + body


def test_records_are_cut_by_their_headers() -> None:
    stream = record(22, b"h" * 512) + record(20, b"\x01") + record(23, bytes(300)) + record(99, b"")
    assert tls.records(stream) == [
        tls.Record("handshake", 512), tls.Record("change_cipher_spec", 1),
        tls.Record("application_data", 300), tls.Record("unknown 99", 0)]


def test_a_record_cut_off_by_the_end_of_the_capture_is_left_out() -> None:
    stream = record(22, b"h" * 10) + record(23, bytes(300))[:-1]
    assert tls.records(stream) == [tls.Record("handshake", 10)]
    assert tls.records(b"\x16\x03") == []
