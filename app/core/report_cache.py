"""The costly stages of the last report, kept with the inputs they came from.

After a hand correction the report is recomputed (docs/corrections.md), but most corrections
leave most inputs as they were: an added or moved foot strike changes no keypoint, so the
cleaning and the foot contacts of the whole clip come out the same; a knee dragged back onto
the leg usually leaves the cleaned feet untouched, so the foot contacts do; a moved heel
changes the inputs of the contacts around it, and only those are worked out again
(``foot_contact.ContactMemo``). A stage whose inputs are exactly those of its last run returns
its last result; any difference, however small, runs it again, so a report is always the one a
fresh computation gives.

Kept results are made read-only: a caller that changed one in place would change the next
report too, and numpy refuses the write instead.
"""

from __future__ import annotations

import threading
from dataclasses import fields

import numpy as np

from app.core.cleaning import CleanedTrack, CleaningSettings, clean_track
from app.core.foot_contact import ContactMemo, FootContacts, FootPoints, detect_foot_contacts


class ReportCache:
    """One video's last cleaning and foot contacts; safe to share between report threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cleaning: tuple[tuple, CleanedTrack] | None = None
        self._contacts: tuple[tuple, FootContacts] | None = None
        self._contact_memo = ContactMemo()
        self.hits = {"cleaning": 0, "contacts": 0}

    @property
    def contacts_recalled(self) -> int:
        """How many contacts the last foot-contact detection took unchanged from the one before."""
        return self._contact_memo.recalled

    def clean_track(
        self, keypoints: np.ndarray, real_times_s: np.ndarray, settings: CleaningSettings
    ) -> CleanedTrack:
        """``cleaning.clean_track``, or its last result for the very same inputs."""
        inputs = (_frozen_copy(keypoints), _frozen_copy(real_times_s), settings)
        with self._lock:
            if self._cleaning is not None and _same(self._cleaning[0], inputs):
                self.hits["cleaning"] += 1
                return self._cleaning[1]
            cleaned = clean_track(keypoints, real_times_s, settings)
            _freeze_arrays(cleaned)
            self._cleaning = (inputs, cleaned)
            return cleaned

    def detect_foot_contacts(
        self,
        feet: dict[str, FootPoints],
        real_times_s: np.ndarray,
        facing: np.ndarray,
        image_size: tuple[int, int] | None = None,
    ) -> FootContacts:
        """``foot_contact.detect_foot_contacts``, or its last result for the very same inputs."""
        inputs = (
            {
                side: tuple(_frozen_copy(getattr(foot, f.name)) for f in fields(foot))
                for side, foot in feet.items()
            },
            _frozen_copy(real_times_s),
            _frozen_copy(facing),
            image_size,
        )
        with self._lock:
            if self._contacts is not None and _same(self._contacts[0], inputs):
                self.hits["contacts"] += 1
                kept = self._contacts[1]
                return FootContacts(
                    list(kept.events), list(kept.unfound), kept.ground, kept.foot_length_px
                )
            contacts = detect_foot_contacts(
                feet, real_times_s, facing, image_size, self._contact_memo
            )
            self._contacts = (inputs, contacts)
            return contacts


def _frozen_copy(values) -> np.ndarray:
    copy = np.array(values, copy=True)
    copy.flags.writeable = False
    return copy


def _freeze_arrays(cleaned: CleanedTrack) -> None:
    for field in fields(cleaned):
        value = getattr(cleaned, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        elif isinstance(value, dict):
            for array in value.values():
                array.flags.writeable = False


def _same(a, b) -> bool:
    """Exact equality of nested tuples/dicts of arrays and plain values (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return a == b
