"""MLServer runtime for ``ihc-dab``: nuclear DAB-positive fraction of one IHC tile.

Contract (Open Inference Protocol v2):

* input ``tile``: ``BYTES`` shape ``[1]`` holding one base64-encoded PNG/JPEG (send
  ``"parameters": {"content_type": "base64"}``), or ``UINT8`` shape ``[H, W, 3]`` RGB pixels.
* outputs ``positive_fraction`` (FP64 ``[1]``, 0..1), ``positive_nuclei`` (INT64 ``[1]``),
  ``total_nuclei`` (INT64 ``[1]``) and ``nuclei`` (FP32 ``[N, 3]``): one row per counted
  nucleus, ``x``, ``y`` (centroid in tile pixels, x right, y down, to 0.1 px) and ``positive``
  (1 or 0) — the nuclei behind the counts, so a viewer can draw the answer it was given
  (about 8 KB of JSON for a 512² tile). A tile without nuclei yields 0 / 0 / 0 and ``[0, 3]``.

Any unusable input is answered with HTTP 400 and a message naming the problem; an unexpected
failure inside the analysis is answered with HTTP 500 and its message, never with a number.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mlserver import MLModel
from mlserver.errors import InferenceError, MLServerError
from mlserver.types import (
    InferenceRequest,
    InferenceResponse,
    RequestInput,
    ResponseOutput,
)

from model_services.ihc_analysis import IHCParams, IHCResult, analyse_tile
from model_services.tiles import INPUT_NAME, TileError, tile_from_tensor

logger = logging.getLogger(__name__)

_INTERNAL_ERROR_STATUS = 500
# x, y, positive per nucleus in the ``nuclei`` output.
NUCLEUS_COLUMNS = 3


class IHCDabModel(MLModel):  # type: ignore[misc]  # MLModel comes from an untyped package
    """Counts nuclei and DAB-positive nuclei by colour deconvolution; see module docstring."""

    async def load(self) -> bool:
        """Read optional threshold overrides from model-settings ``parameters.extra``."""
        parameters = self.settings.parameters
        extra: dict[str, object] = dict(parameters.extra or {}) if parameters else {}
        self._params = IHCParams.from_mapping(extra)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        """Analyse the request's single ``tile`` input and return the three counts."""
        tile_input = _find_tile_input(payload)
        try:
            datatype = str(getattr(tile_input.datatype, "value", tile_input.datatype))
            rgb = tile_from_tensor(datatype, tile_input.shape, tile_input.data)
            # The analysis is CPU-bound (~0.25 s per 512x512 tile); keeping it off the event
            # loop lets health probes and other models answer meanwhile.
            result = await asyncio.to_thread(analyse_tile, rgb, self._params)
        except TileError as exc:
            raise InferenceError(str(exc)) from exc
        except Exception as exc:
            logger.exception("ihc-dab analysis failed")
            raise MLServerError(
                f"ihc-dab analysis failed: {type(exc).__name__}: {exc}", _INTERNAL_ERROR_STATUS
            ) from exc
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=_encode_outputs(result),
        )


def _find_tile_input(payload: InferenceRequest) -> RequestInput:
    inputs: list[Any] = list(payload.inputs or [])
    names = [request_input.name for request_input in inputs]
    matching = [request_input for request_input in inputs if request_input.name == INPUT_NAME]
    if len(matching) != 1:
        raise InferenceError(
            f"ihc-dab expects exactly one input named '{INPUT_NAME}', got inputs {names}"
        )
    return matching[0]


def _encode_outputs(result: IHCResult) -> list[ResponseOutput]:
    return [
        ResponseOutput(
            name="positive_fraction", datatype="FP64", shape=[1], data=[result.positive_fraction]
        ),
        ResponseOutput(
            name="positive_nuclei", datatype="INT64", shape=[1], data=[result.positive_nuclei]
        ),
        ResponseOutput(
            name="total_nuclei", datatype="INT64", shape=[1], data=[result.total_nuclei]
        ),
        ResponseOutput(
            name="nuclei",
            datatype="FP32",
            shape=[len(result.nuclei), NUCLEUS_COLUMNS],
            data=[
                value
                for n in result.nuclei
                for value in (round(n.x, 1), round(n.y, 1), 1.0 if n.positive else 0.0)
            ],
        ),
    ]
