"""Helpers the tests share: real-clip trimming, fakes, synthetic runners and media (docs/layers.md)."""
