"""Weights download against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from app import cli
from rhpnet import download
from rhpnet.download import DownloadError, PublicWeights, download_file

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)
SHA_PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]


class _Server(http.server.ThreadingHTTPServer):
    mode = "ok"  # ok | cut (send half, then drop) | error (HTTP 500) | no-range (ignore Range)
    requests: list[dict[str, str | None]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.requests.append({"path": self.path, "range": self.headers.get("Range")})
        mode = self.server.mode
        if self.path != "/weights.pth" or mode == "error":
            self.send_error(404 if mode != "error" else 500)
            return
        start = 0
        requested = self.headers.get("Range")
        if requested and mode != "no-range":
            start = int(requested.removeprefix("bytes=").split("-")[0])
            if start >= len(PAYLOAD):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Keep test output clean."""


@pytest.fixture()
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _url(server: _Server, path: str = "/weights.pth") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_full_download_is_verified_and_renamed(server, tmp_path):
    target = tmp_path / "cache" / "weights.pth"
    assert download_file(_url(server), target, SHA_PREFIX, progress=False) == target
    assert target.read_bytes() == PAYLOAD
    assert [p.name for p in target.parent.iterdir()] == ["weights.pth"]
    assert server.requests == [{"path": "/weights.pth", "range": None}]


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    target = tmp_path / "weights.pth"
    server.mode = "cut"
    with pytest.raises(
        DownloadError, match="interrupted after .* bytes; run the same command again"
    ):
        download_file(_url(server), target, SHA_PREFIX, progress=False)
    partial = tmp_path / "weights.pth.part"
    kept = partial.stat().st_size
    assert 0 < kept < len(PAYLOAD) and not target.exists()

    server.mode = "ok"
    download_file(_url(server), target, SHA_PREFIX, progress=False)
    assert server.requests[-1]["range"] == f"bytes={kept}-"
    assert target.read_bytes() == PAYLOAD and not partial.exists()


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    (tmp_path / "weights.pth.part").write_bytes(b"stale bytes from another file")
    server.mode = "no-range"
    target = download_file(_url(server), tmp_path / "weights.pth", SHA_PREFIX, progress=False)
    assert target.read_bytes() == PAYLOAD


def test_partial_longer_than_remote_starts_over(server, tmp_path):
    (tmp_path / "weights.pth.part").write_bytes(PAYLOAD + b"junk")
    target = download_file(_url(server), tmp_path / "weights.pth", SHA_PREFIX, progress=False)
    assert target.read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests] == [f"bytes={len(PAYLOAD) + 4}-", None]


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    with pytest.raises(
        DownloadError,
        match=r"checksum mismatch for weights.pth: expected sha256 00000000\.\.\., got "
        + SHA_PREFIX,
    ):
        download_file(_url(server), tmp_path / "weights.pth", "00000000", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_server_errors_are_one_line(server, tmp_path):
    server.mode = "error"
    with pytest.raises(DownloadError, match="download failed: HTTP 500"):
        download_file(_url(server), tmp_path / "weights.pth", SHA_PREFIX, progress=False)
    server.mode = "ok"
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(_url(server, "/missing.pth"), tmp_path / "m.pth", SHA_PREFIX, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_host(tmp_path):
    with pytest.raises(DownloadError, match="cannot download http://127.0.0.1:9/x.pth"):
        download_file(
            "http://127.0.0.1:9/x.pth", tmp_path / "x.pth", SHA_PREFIX, progress=False, timeout=5
        )


@pytest.fixture()
def local_registry(server, monkeypatch):
    entry = PublicWeights("test_weights", _url(server), SHA_PREFIX, "hrnet_w32", "local test file")
    monkeypatch.setitem(download.WEIGHTS, entry.name, entry)
    return entry


def test_registry_download_into_user_cache_via_cli(local_registry, server, capsys):
    cache = download.cache_dir()
    assert cache == Path(os.environ["XDG_CACHE_HOME"]) / "rhpnet-coach" / "checkpoints"
    assert download.cached_file("test_weights") is None
    assert cli.main(["weights", "download", "test_weights", "--quiet"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == cache / "weights.pth" and path.read_bytes() == PAYLOAD
    assert download.cached_file("test_weights") == path
    # A second request uses the cache (checksum re-checked, no new request).
    count = len(server.requests)
    assert download.download_weights("test_weights", progress=False) == path
    assert len(server.requests) == count
    assert cli.main(["weights", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in listing["weights"]}
    assert rows["test_weights"]["cached"] == str(path)
    assert rows["hrnet_w32_coco_256x192_udp"]["sha256_prefix"] == "aba0be42"
    assert "aba0be42" in rows["hrnet_w32_coco_256x192_udp"]["url"]
    path.unlink()


def test_cli_reports_download_failure_as_one_line(local_registry, server, capsys):
    server.mode = "error"
    assert cli.main(["weights", "download", "test_weights", "--quiet"]) == 2
    assert (
        capsys.readouterr().err.strip().startswith("rhpnet-coach: error: download failed: HTTP 500")
    )


def test_registry_names_match_their_checksums():
    for weights in download.WEIGHTS.values():
        assert f"-{weights.sha256_prefix}_" in weights.filename
        assert weights.url.startswith("https://download.openmmlab.com/mmpose/")
    with pytest.raises(DownloadError, match="unknown weights 'w99'"):
        download.download_weights("w99")
