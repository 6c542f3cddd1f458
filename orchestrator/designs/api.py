"""The node-type palette for the editor, the ports of a node with a given config, and the
sample case documents the editor's test bench offers."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

import workflows.nodes  # noqa: F401  (registers the node types)
from orchestrator.designs.workflow_shapes import DetailShape, NodePorts, NodeTypeShape, SampleCase
from workflows.registry import REGISTRY, describe_ports

SAMPLE_CASES_DIR = settings.BASE_DIR / "demo" / "cases"


@extend_schema(responses=NodeTypeShape(many=True))
@api_view(["GET"])
def node_types(request: Request) -> Response:
    """The node-type palette: names, versions, config JSON Schemas and typed ports."""
    return Response(REGISTRY.describe())


@extend_schema(
    request=OpenApiTypes.OBJECT,
    responses={200: NodePorts, 400: DetailShape, 404: DetailShape},
)
@api_view(["POST"])
def node_type_ports(request: Request, name: str, version: int) -> Response:
    """The ports a node of this type has with the posted ``config`` (e.g. one output per
    switch case), and the config's problems; the editor asks when ``ports_from_config``."""
    node_type = REGISTRY.get(name, version)
    if node_type is None:
        return Response(
            {"detail": f"node type '{name}' version {version} is unknown"},
            status=status.HTTP_404_NOT_FOUND,
        )
    config = request.data.get("config") if isinstance(request.data, dict) else None
    if not isinstance(config, dict):
        return Response({"detail": "post {'config': {...}}"}, status=status.HTTP_400_BAD_REQUEST)
    problems = node_type.config_problems(config)
    # Ports of an invalid config are the type's defaults: the config may not be read safely.
    inputs = node_type.inputs if problems else node_type.input_ports(config)
    outputs = node_type.outputs if problems else node_type.output_ports(config)
    return Response(
        {"inputs": describe_ports(inputs), "outputs": describe_ports(outputs), "problems": problems}
    )


@extend_schema(responses=SampleCase(many=True))
@api_view(["GET"])
def sample_cases(request: Request) -> Response:
    """The sample case documents shipped in demo/cases, for a test run of a draft (synthetic
    data: no patient's)."""
    return Response(
        [
            {"name": path.stem, "document": json.loads(path.read_text(encoding="utf-8"))}
            for path in sorted(SAMPLE_CASES_DIR.glob("*.json"))
        ]
    )
