"""Typed errors that carry what a person needs to act on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GraphProblem:
    """One thing wrong with a graph, naming the node, edge and/or port it concerns."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    port: str | None = None

    def __str__(self) -> str:
        where = [
            f"{label} '{value}'"
            for label, value in (
                ("node", self.node_id),
                ("edge", self.edge_id),
                ("port", self.port),
            )
            if value
        ]
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "message": self.message,
            "node_id": self.node_id,
            "edge_id": self.edge_id,
            "port": self.port,
        }


class GraphInvalid(ValueError):
    """A graph failed validation; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[GraphProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class NodeError(Exception):
    """A node failed. ``permanent`` errors (bad input, 4xx) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EndpointError(NodeError):
    """A model endpoint could not be reached or answered wrongly; the message names it."""


class ExpressionError(NodeError):
    """An expression failed to compile or evaluate; the message quotes it."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"expression {expression!r}: {reason}", permanent=True)
        self.expression = expression
        self.reason = reason


class AwaitingPerson(Exception):
    """Raised by a node that parks the run until a person acts (a review). Not a failure: the
    executor records the node as ``waiting`` with ``request`` (what the person is asked) and
    schedules nothing downstream of it; the host resumes the run once the decision is stored."""

    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__(str(request.get("title") or "waiting for a person"))
        self.request = request


class AwaitingTask(AwaitingPerson):
    """Raised by a host service that hands a node's work to another process (a render on its
    own queue). The executor records it exactly like a review — the node ``waiting`` with
    ``request`` — and the host stores the node's outputs once the task is done and resumes the
    run; ``request["kind"]`` names the task (e.g. ``"render"``)."""
