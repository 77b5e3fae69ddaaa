"""Download public HRNet-W32 COCO weights into the user cache, resumably and verified.

Files land in ``checkpoints/`` of the user cache (``rhpnet.cache``: ``$XDG_CACHE_HOME/rhpnet-coach``
or ``~/.cache/rhpnet-coach`` on Linux, the platform's cache folder elsewhere). While downloading,
bytes go to ``<name>.part`` beside the target: an interrupted transfer keeps it and the next
attempt continues with an HTTP ``Range`` request. The finished file is checked against the
SHA-256 prefix that OpenMMLab embeds in its file names (first 8 hex digits) and only then
renamed onto its final name, so a file under the final name is always complete. The prefix
guards against corrupt or truncated transfers, not against deliberate tampering (32 bits).
Only the standard library's ``urllib`` is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rhpnet.atomic import durable_replace
from rhpnet.cache import user_cache_dir
from rhpnet.errors import UserFacingError

CHUNK_BYTES = 1 << 20


class DownloadError(UserFacingError):
    """A download failed (network, server, checksum or disk); the message says how and what next."""


@dataclass(frozen=True)
class PublicWeights:
    name: str
    url: str
    sha256_prefix: str
    arch: str
    description: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


_MMPOSE = "https://download.openmmlab.com/mmpose"
WEIGHTS: dict[str, PublicWeights] = {
    weights.name: weights
    for weights in (
        PublicWeights(
            "hrnet_w32_coco_256x192_udp",
            f"{_MMPOSE}/top_down/udp/hrnet_w32_coco_256x192_udp-aba0be42_20210220.pth",
            "aba0be42",
            "hrnet_w32",
            "HRNet-W32 + UDP, COCO 256x192 (mmpose 0.x); RHPNet's initialisation (spec 3.9)",
        ),
        PublicWeights(
            "hrnet_w32_coco_256x192_udp_mmpose1",
            f"{_MMPOSE}/v1/body_2d_keypoint/topdown_heatmap/coco/"
            "td-hm_hrnet-w32_udp-8xb64-210e_coco-256x192-73ede547_20220914.pth",
            "73ede547",
            "hrnet_w32",
            "HRNet-W32 + UDP, COCO 256x192 (mmpose 1.x release)",
        ),
        PublicWeights(
            "hrnet_w32_coco_256x192",
            f"{_MMPOSE}/top_down/hrnet/hrnet_w32_coco_256x192-c78dce93_20200708.pth",
            "c78dce93",
            "hrnet_w32",
            "HRNet-W32, COCO 256x192, legacy (non-UDP) heatmaps (mmpose 0.x)",
        ),
    )
}


def cache_dir() -> Path:
    return user_cache_dir() / "checkpoints"


def _lookup(name: str) -> PublicWeights:
    if name not in WEIGHTS:
        raise DownloadError(f"unknown weights {name!r}; available: {', '.join(WEIGHTS)}")
    return WEIGHTS[name]


def cached_file(name: str) -> Path | None:
    """The downloaded file for ``name`` if it is in the cache, else None."""
    path = cache_dir() / _lookup(name).filename
    return path if path.is_file() else None


def download_weights(name: str, *, progress: bool = True) -> Path:
    """Fetch public weights by name (see ``WEIGHTS``) unless already cached; return the path."""
    weights = _lookup(name)
    target = cache_dir() / weights.filename
    if target.is_file():
        if sha256_of(target).startswith(weights.sha256_prefix):
            return target
        target.unlink()
    return download_file(weights.url, target, weights.sha256_prefix, progress=progress)


def download_file(
    url: str, target: Path, sha256_prefix: str, *, progress: bool = True, timeout: float = 30.0
) -> Path:
    """Download ``url`` to ``target`` (resuming ``target.part``), verify, rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    _transfer(url, partial, progress, timeout)
    digest = sha256_of(partial)
    if not digest.startswith(sha256_prefix.lower()):
        partial.unlink()
        raise DownloadError(
            f"checksum mismatch for {target.name}: expected sha256 {sha256_prefix}..., got "
            f"{digest[:8]}...; the download was deleted, try again later"
        )
    durable_replace(partial, target)
    return target


def _transfer(url: str, partial: Path, progress: bool, timeout: float) -> None:
    from tqdm import tqdm

    from rhpnet import __version__

    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": f"rhpnet-coach/{__version__}"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # The partial file is as long as (or longer than) the remote one: start over.
            partial.unlink()
            return _transfer(url, partial, progress, timeout)
        raise DownloadError(
            f"download failed: HTTP {error.code} {error.reason} for {url}"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"cannot download {url}: {reason}") from error
    with response:
        resumed = offset > 0 and response.status == 206 and _range_start(response) == offset
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        written = offset
        with (
            open(partial, "ab" if resumed else "wb") as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=partial.name.removesuffix(".part"),
                disable=not progress,
            ) as bar,
        ):
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (OSError, http.client.HTTPException) as error:
                    raise _interrupted(url, written, total) from error
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as error:
                    raise DownloadError(f"cannot write {partial}: {error.strerror}") from error
                written += len(chunk)
                bar.update(len(chunk))
    if total is not None and written < total:
        raise _interrupted(url, written, total)


def _range_start(response: http.client.HTTPResponse) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    with contextlib.suppress(ValueError, IndexError):
        return int(content_range.split()[1].split("-")[0])
    return None


def _interrupted(url: str, written: int, total: int | None) -> DownloadError:
    of_total = f" of {total}" if total is not None else ""
    return DownloadError(
        f"download of {url} was interrupted after {written}{of_total} bytes; "
        "run the same command again to resume"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
