"""Network definitions: HRNet and RHPNet (``build_model``, ``ARCHITECTURES``, ``ModelConfig``)."""

from rhpnet.model.build import ARCHITECTURES, build_from_config, build_model
from rhpnet.model.config import DEFAULT_INPUT_SIZE, ModelConfig

__all__ = ["ARCHITECTURES", "DEFAULT_INPUT_SIZE", "ModelConfig", "build_from_config", "build_model"]
