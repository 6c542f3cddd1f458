from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

import workflows.nodes  # noqa: F401  (registers the node types)
from workflows.registry import REGISTRY


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def node_types(request: Request) -> Response:
    """The node-type palette: names, versions, config JSON Schemas and typed ports."""
    return Response(REGISTRY.describe())
