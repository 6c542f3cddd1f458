"""Model protocols: one small class per wire protocol, found through ``PROTOCOLS``."""

from workflows.protocols.base import PROTOCOLS, ModelProtocol, ModelResult
from workflows.protocols.open_inference import OpenInferenceV2

__all__ = ["PROTOCOLS", "ModelProtocol", "ModelResult", "OpenInferenceV2"]
