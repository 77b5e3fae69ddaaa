"""Keypoint sets on disk: the COCO keypoint format parsed once, for evaluation and training alike.

``keypoint_set`` is the data model (images, people, what pycocotools needs), ``files`` reads
annotation and image files with one-line errors, ``skips`` counts the entries a loader leaves
out, and ``coco_format`` turns a COCO keypoint file into a ``KeypointSet``.
"""
