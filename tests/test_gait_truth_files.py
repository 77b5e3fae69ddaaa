"""The hand-counted foot events in tests/data/gait_events/ are well formed and consistent.

They are the reference the gait-event detection is scored against (docs/gait_events.md), so
a typo in them would silently move the goalposts: each file must follow the schema, keep one
foot's events alternating IC, TO, IC..., stay inside the clip, and give plausible stance and
stride durations for running. Fast: reads JSON only (no video, no model), apart from one check
of the frame count and rate against the real clip.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

TRUTH_DIR = Path(__file__).parent / "data" / "gait_events"
TRUTH_FILES = sorted(TRUTH_DIR.glob("*.json"))
REQUIRED = {
    "clip",
    "fps",
    "slowmo",
    "rule",
    "frame_index",
    "sides",
    "frame_count",
    "counted_frames",
    "events",
}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def real_frame_s(doc: dict) -> float:
    return 1.0 / (float(doc["fps"]) * float(doc["slowmo"]))


def test_the_three_clips_are_counted():
    clips = {load(p)["clip"] for p in TRUTH_FILES}
    assert "treadmill_side_IMG_5396.mp4" in clips


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_schema(path: Path):
    doc = load(path)
    assert REQUIRED <= doc.keys()
    assert path.stem == Path(doc["clip"]).stem
    assert doc["frame_index"] == "0-based, as app's read_frame"
    assert doc["fps"] > 0 and doc["slowmo"] >= 1
    assert doc["rule"].strip() and doc["sides"].strip()
    assert doc["events"], "no events"
    for event in doc["events"]:
        assert set(event) == {"foot", "kind", "frame", "confidence"}, event
        assert event["foot"] in ("left", "right")
        assert event["kind"] in ("IC", "TO")
        assert isinstance(event["frame"], int)
        first, last = doc["counted_frames"]
        assert 0 <= first <= event["frame"] <= last < doc["frame_count"]
        assert event["confidence"] in ("sure", "unsure")


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_events_are_sorted_and_unique(path: Path):
    events = load(path)["events"]
    frames = [e["frame"] for e in events]
    assert frames == sorted(frames)
    keys = [(e["foot"], e["kind"], e["frame"]) for e in events]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_each_foot_alternates_contact_and_toe_off(path: Path):
    doc = load(path)
    for foot in ("left", "right"):
        kinds = [e["kind"] for e in doc["events"] if e["foot"] == foot]
        assert all(a != b for a, b in itertools.pairwise(kinds)), (foot, kinds)


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_durations_are_those_of_running(path: Path):
    """Stance 0.1-0.5 s and stride 0.5-1.0 s of real time: a shifted digit would break these."""
    doc = load(path)
    frame_s = real_frame_s(doc)
    for foot in ("left", "right"):
        own = [e for e in doc["events"] if e["foot"] == foot]
        for a, b in itertools.pairwise(own):
            if a["kind"] == "IC":
                assert 0.1 <= (b["frame"] - a["frame"]) * frame_s <= 0.5, (foot, a, b)
        ics = [e["frame"] for e in own if e["kind"] == "IC"]
        strides = np.diff(ics) * frame_s
        assert np.all((strides >= 0.5) & (strides <= 1.0)), (foot, strides)


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_feet_take_turns(path: Path):
    """Running: the feet's initial contacts alternate left, right, left..."""
    ics = [e["foot"] for e in load(path)["events"] if e["kind"] == "IC"]
    assert all(a != b for a, b in itertools.pairwise(ics)), ics


@pytest.mark.parametrize("path", TRUTH_FILES, ids=lambda p: p.stem)
def test_frame_count_matches_the_clip(path: Path, videos_dir: Path):
    """Frame numbers only mean something for the clip as the app reads it (no decoding: the
    frame count comes from the packet scan)."""
    from rhpnet.media.video import open_video

    doc = load(path)
    with open_video(videos_dir / doc["clip"]) as video:
        assert video.info.frame_count == doc["frame_count"]
        assert video.info.fps == pytest.approx(doc["fps"], rel=1e-3)
