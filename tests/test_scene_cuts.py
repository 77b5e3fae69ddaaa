"""Scene cuts are found in edited footage and nowhere else; no track crosses one.

The handheld clip is a compilation of paces (docs/test_data.md: cuts at about 2.1 s and 11.5 s, maybe
more). Frame by frame around every candidate, the pace caption and the shot change at frames 62
(6:30 -> 5:15 /km), 205 (5:15 -> 3:45), 345 (3:45 -> 3:00) and 524 (3:00 -> 2:10); around frames
242 and 627, whose colours change almost as much as the runner grows in the frame, the shot
goes on. The outdoor clip's last frame (251) is a screenshot of a web page, another picture.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from app.core.scene_cuts import SceneCutDetector
from app.core.tracking import TrackSet
from rhpnet.media.video import open_video
from rhpnet.poses import FramePoses

pytestmark = pytest.mark.slow

CUTS = {
    "handheld_barefoot_portrait.mp4": [62, 205, 345, 524],
    "outdoor_side_running.mp4": [251],
    "race_3runners_pan.mp4": [],
    "tracking_shot_road.mp4": [],
    "treadmill_side_IMG_5396.mp4": [],
}


@pytest.mark.parametrize("name", list(CUTS))
def test_cuts_are_found_where_the_shot_changes_and_nowhere_else(videos_dir, tmp_path, name):
    clip = tmp_path / name
    shutil.copy(videos_dir / name, clip)
    detector = SceneCutDetector()
    found = []
    with open_video(clip) as video:
        for index in range(video.info.frame_count):
            if detector.is_cut(video.read_frame(index).image):
                found.append(index)
    assert found == CUTS[name]


def test_the_handheld_clips_tracks_stop_at_every_cut(analysed_clip):
    analysis = analysed_clip("handheld_barefoot_portrait.mp4")
    assert analysis.scene_cuts == CUTS["handheld_barefoot_portrait.mp4"]
    for track in analysis.tracks.values():
        present = np.flatnonzero(track.present)
        for cut in analysis.scene_cuts:
            assert not (present.min() < cut <= present.max()), (track.track_id, cut)
    assert len(analysis.tracks) >= len(analysis.scene_cuts) + 1


def test_fragments_are_not_relinked_across_a_cut():
    """The same box before and after a cut stays two tracks; without the cut, one."""
    keypoints = np.full((1, 21, 3), np.nan, np.float32)
    boxes = np.array([[100, 100, 50, 120]], np.float32)
    poses = FramePoses(keypoints, boxes, np.ones(1, np.float32))
    times = np.arange(10) / 30.0
    for cuts, expected in (((5,), 2), ((), 1)):
        tracks = TrackSet()
        for frame in range(10):
            tracks.add(frame, np.array([0 if frame < 5 else 1]), poses)
        assert len(tracks.finish(10, times, scene_cuts=cuts)) == expected
