"""The base class every model protocol implements, and the registry of protocols."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from workflows.context import Endpoint, RunContext
from workflows.expressions import is_undefined


@dataclass(frozen=True)
class ModelResult:
    outputs: dict[str, Any]
    model_name: str
    model_version: str


class ModelProtocol(ABC):
    name: ClassVar[str]
    # How the catalog names the kind of endpoint that speaks this protocol.
    title: ClassVar[str] = ""
    # JSON Schema for the protocol-specific part of a model-call node's config.
    request_schema: ClassVar[dict[str, Any]]
    request_required: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    async def infer(
        self,
        context: RunContext,
        endpoint: Endpoint,
        request: dict[str, Any],
        idempotency_key: str,
    ) -> ModelResult:
        """Call the endpoint; raise EndpointError naming it when anything goes wrong."""

    def expressions(self, request: dict[str, Any]) -> list[tuple[str, str]]:
        """(where, source) for every expression in ``request``; validation compiles each."""
        return []

    def request_problems(self, request: dict[str, Any]) -> list[str]:
        """What the schema cannot say is wrong with ``request`` (e.g. a prompt template that
        does not compile, an unsafe path), each naming the field. Called only once the
        request matches ``request_schema``."""
        return []


def has_missing_part(value: Any) -> bool:
    """Whether an evaluated value is, or holds, a missing (undefined) value, e.g. the list
    ``[item.a, item.b]`` for an item without ``b``: such a value cannot be sent as JSON."""
    if is_undefined(value):
        return True
    if isinstance(value, list | tuple):
        return any(has_missing_part(v) for v in value)
    if isinstance(value, dict):
        return any(has_missing_part(v) for v in value.values())
    return False


P = TypeVar("P", bound=type[ModelProtocol])
PROTOCOLS: dict[str, ModelProtocol] = {}


def register_protocol(protocol: P) -> P:
    PROTOCOLS[protocol.name] = protocol()
    return protocol
