"""Device selection: auto preference order and clear errors for unavailable accelerators."""

from __future__ import annotations

import pytest
import torch

from rhpnet import device as device_module
from rhpnet.device import resolve_device
from rhpnet.errors import UserFacingError


def fake_machine(monkeypatch: pytest.MonkeyPatch, *, cuda: int, mps: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(device_module, "_mps_available", lambda: mps)


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(2, True, "cuda"), (0, True, "mps"), (0, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    fake_machine(monkeypatch, cuda=cuda, mps=mps)
    assert resolve_device("auto") == torch.device(expected)


def test_explicit_devices(monkeypatch):
    fake_machine(monkeypatch, cuda=2, mps=True)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("CUDA") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(torch.device("cuda", 0)) == torch.device("cuda", 0)
    assert resolve_device("mps") == torch.device("mps")


def test_unavailable_or_unknown_devices_are_user_errors(monkeypatch):
    fake_machine(monkeypatch, cuda=0, mps=False)
    with pytest.raises(UserFacingError, match="no CUDA GPU is available"):
        resolve_device("cuda")
    with pytest.raises(UserFacingError, match="MPS"):
        resolve_device("mps")
    with pytest.raises(UserFacingError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    fake_machine(monkeypatch, cuda=1, mps=False)
    with pytest.raises(UserFacingError, match="only 1 CUDA GPU"):
        resolve_device("cuda:1")


def test_this_machine_resolves_auto_to_a_usable_device():
    assert torch.zeros(1, device=resolve_device("auto")).numel() == 1
