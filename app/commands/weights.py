"""``rhpnet-coach weights``: list and download the public HRNet-W32 COCO checkpoints.

Downloads go to the user cache (``$XDG_CACHE_HOME/rhpnet-coach/checkpoints``); afterwards the
name works wherever a checkpoint path does, e.g. ``rhpnet-coach model-info --checkpoint NAME``.
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str], prog: str) -> int:
    from rhpnet import download

    parser = argparse.ArgumentParser(
        prog=prog, description="List and download public HRNet-W32 COCO weights."
    )
    commands = parser.add_subparsers(dest="action", required=True)
    listing = commands.add_parser("list", help="show the available weights and which are cached")
    listing.add_argument("--json", action="store_true", help="print JSON")
    fetch = commands.add_parser("download", help="download weights into the user cache")
    fetch.add_argument("name", choices=list(download.WEIGHTS))
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if args.action == "download":
        path = download.download_weights(args.name, progress=not args.quiet)
        print(path)
        return 0
    rows = [
        {
            "name": weights.name,
            "arch": weights.arch,
            "description": weights.description,
            "url": weights.url,
            "sha256_prefix": weights.sha256_prefix,
            "cached": str(download.cached_file(weights.name) or ""),
        }
        for weights in download.WEIGHTS.values()
    ]
    if args.json:
        print(json.dumps({"cache_dir": str(download.cache_dir()), "weights": rows}, indent=2))
        return 0
    for row in rows:
        status = row["cached"] or "not downloaded"
        print(f"{row['name']}  [{row['arch']}]\n    {row['description']}\n    {status}")
    print(f"cache: {download.cache_dir()}")
    return 0
