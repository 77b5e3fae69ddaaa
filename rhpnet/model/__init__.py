"""Network definitions: HRNet and RHPNet (``build_model``, ``ARCHITECTURES``, ``ModelConfig``)."""

from rhpnet.model.build import ARCHITECTURES, build_from_config, build_model
from rhpnet.model.config import ModelConfig

__all__ = ["ARCHITECTURES", "ModelConfig", "build_from_config", "build_model"]
