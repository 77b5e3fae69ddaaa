"""The one media layer: video sources (files, cameras, image folders), the H.264 writer and the
video identity, shared by the app and the training code alike (docs/engine.md)."""
