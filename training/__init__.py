"""Training package: datasets, augmentation, training loops and evaluation for RHPNet.

Depends only on ``rhpnet``; never imports ``app``.
"""
