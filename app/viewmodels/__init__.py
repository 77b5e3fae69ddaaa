"""What the views draw, computed without Qt (docs/layers.md).

The widgets in ``app/ui`` only lay these out; everything that decides *what* is shown (which
people, which labels, which markers, how a metric is worded) lives here, so it is tested and
reused without a display.
"""
