"""Model protocols: one small class per wire protocol, found through ``PROTOCOLS``."""

from workflows.protocols.base import PROTOCOLS, ModelProtocol, ModelResult
from workflows.protocols.http_json import HttpJson
from workflows.protocols.open_inference import OpenInferenceV2
from workflows.protocols.openai_chat import OpenAIChat

__all__ = ["PROTOCOLS", "HttpJson", "ModelProtocol", "ModelResult", "OpenAIChat", "OpenInferenceV2"]
