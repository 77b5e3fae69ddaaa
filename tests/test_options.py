"""The input limits: one object the command line, the engine and the settings dialog share."""

from __future__ import annotations

import dataclasses
import math

import pytest

from app.core.options import LIMITS, AnalysisOptions
from rhpnet.errors import UserFacingError


def test_limits_accept_what_the_engine_accepts_and_nothing_else():
    assert LIMITS.slowmo.accepts(0.5) and not LIMITS.slowmo.accepts(0.0)
    assert LIMITS.max_people.accepts(1) and not LIMITS.max_people.accepts(0)
    assert LIMITS.runner_height_cm.accepts(50) and LIMITS.runner_height_cm.accepts(250)
    assert not LIMITS.runner_height_cm.accepts(1.8)  # metres typed for centimetres
    for field in dataclasses.fields(LIMITS):
        limit = getattr(LIMITS, field.name)
        assert not limit.accepts(math.nan), field.name
        if limit.offered is not None:
            low, high = limit.offered
            assert limit.accepts(low) and limit.accepts(high), f"{field.name}: offered but invalid"
    assert LIMITS.runner_height_cm.requirement == "a human height in cm (50-250)"


def test_settings_from_an_old_file_are_moved_into_the_offered_range():
    assert LIMITS.max_people.clamp_offered(40) == 10
    assert LIMITS.cutoff_hz.clamp_offered(0.2) == 1.0


def test_options_are_checked_against_the_same_limits():
    with pytest.raises(UserFacingError, match="--slowmo must be a positive factor, got -1"):
        AnalysisOptions(slowmo=-1).validate()
