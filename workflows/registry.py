"""Node types: one class per type, registered by name and version.

A node type declares a JSON Schema for its config (the editor renders its inspector from it),
typed input and output ports, and ``async run(context, inputs, config) -> outputs``. The keys
of the returned outputs are the *active* output ports: a condition returns only ``true`` or
``false``, so only the edges leaving that port carry on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import jsonschema

from workflows.context import RunContext
from workflows.expressions import check_expression
from workflows.ports import PortType


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType
    required: bool = False
    # Whether several edges may feed this input (a join); values then arrive as a list.
    multiple: bool = False
    title: str = ""


def describe_ports(ports: tuple[Port, ...]) -> list[dict[str, Any]]:
    """Ports as the editor reads them (palette entries and the ports of a configured node)."""
    return [
        {
            "name": p.name,
            "type": p.type.value,
            "required": p.required,
            "multiple": p.multiple,
            "title": p.title or p.name,
        }
        for p in ports
    ]


class NodeType(ABC):
    name: ClassVar[str]
    version: ClassVar[int] = 1
    title: ClassVar[str]
    description: ClassVar[str] = ""
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    # Trigger nodes start a run; every other node must be reachable from one.
    is_trigger: ClassVar[bool] = False
    # True for node types whose run touches nothing outside the run (no model call, render,
    # delivery, person or child graph): their outputs depend only on their inputs, the case
    # and earlier nodes' outputs, and running one again after a crash changes nothing. The
    # host may then skip the start checkpoint of such a node (docs/architecture.md).
    side_effect_free: ClassVar[bool] = False

    @abstractmethod
    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        """Return outputs by port name; raise NodeError with a message a person can act on."""

    def schema_for(self, config: dict[str, Any]) -> dict[str, Any]:
        """The schema ``config`` is checked against; types whose schema varies override."""
        return self.config_schema

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        """Every way ``config`` is wrong: schema violations, then expressions that don't compile."""
        validator = jsonschema.Draft202012Validator(self.schema_for(config))
        problems = [
            f"config{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
            for error in sorted(validator.iter_errors(config), key=lambda e: list(e.path))
        ]
        if problems:
            return problems
        for where, source in self.expressions(config):
            reason = check_expression(source)
            if reason:
                problems.append(f"{where}: expression {source!r} does not compile: {reason}")
        return problems

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """(where, source) for every expression in ``config``; types with expressions override."""
        return []

    def fills(self, config: dict[str, Any]) -> frozenset[str]:
        """Report element ids this node puts into its ``findings`` output, as far as its config
        tells. Validation uses it for the template-first contract: every unconditionally
        required element of the template version must be filled on some path to a render."""
        return frozenset()

    def guarded(self, config: dict[str, Any]) -> frozenset[str]:
        """Of the elements this node fills, those it fills only when they apply to the case (a
        person who sees the form, a value the lab entered, or what the admin declares guarded by
        a condition upstream). Validation warns about every other filled element that has a
        ``visible_if``: on a case where it does not apply, the report would refuse it."""
        return frozenset()

    def input_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        """The input ports a node with ``config`` has; types whose ports depend on their
        config override (the class attribute is what the palette shows)."""
        return self.inputs

    def output_ports(self, config: dict[str, Any]) -> tuple[Port, ...]:
        """The output ports a node with ``config`` has, e.g. one port per switch case;
        types whose ports depend on their config override."""
        return self.outputs

    def input_port(self, name: str, config: dict[str, Any] | None = None) -> Port | None:
        """The input port ``name``: of a node with ``config`` when given, else of the type."""
        ports = self.inputs if config is None else self.input_ports(config)
        return next((p for p in ports if p.name == name), None)

    def output_port(self, name: str, config: dict[str, Any] | None = None) -> Port | None:
        """The output port ``name``: of a node with ``config`` when given, else of the type."""
        ports = self.outputs if config is None else self.output_ports(config)
        return next((p for p in ports if p.name == name), None)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The palette entry served to the editor."""
        return {
            "name": cls.name,
            "version": cls.version,
            "title": cls.title,
            "description": cls.description,
            "config_schema": cls.config_schema,
            "inputs": describe_ports(cls.inputs),
            "outputs": describe_ports(cls.outputs),
            "is_trigger": cls.is_trigger,
            # The ports above are the type's defaults; these types declare theirs from config
            # (e.g. one output per switch case), so the editor recomputes them on each change.
            "ports_from_config": (
                cls.input_ports is not NodeType.input_ports
                or cls.output_ports is not NodeType.output_ports
            ),
        }


N = TypeVar("N", bound=type[NodeType])


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[tuple[str, int], type[NodeType]] = {}

    def register(self, node_type: N) -> N:
        key = (node_type.name, node_type.version)
        if key in self._types:
            raise ValueError(f"node type {key[0]} v{key[1]} is registered twice")
        self._types[key] = node_type
        return node_type

    def get(self, name: str, version: int) -> NodeType | None:
        node_type = self._types.get((name, version))
        return node_type() if node_type else None

    def versions(self, name: str) -> list[int]:
        return sorted(v for (n, v) in self._types if n == name)

    def describe(self) -> list[dict[str, Any]]:
        return [t.describe() for _, t in sorted(self._types.items())]


REGISTRY = NodeRegistry()
register: Callable[[N], N] = REGISTRY.register
