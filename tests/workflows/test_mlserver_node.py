"""The model_call and map nodes against REAL MLServer (the reference breast-fna classifier and
the ihc-dab Ki-67 analyser) over Open Inference v2."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from orchestrator.cases.tiles import load_tile_png
from tests.conftest import ModelServices
from workflows.context import RunContext
from workflows.errors import EndpointError
from workflows.executor import execute_graph

from .conftest import (
    OIP,
    RUN_ID,
    FakeServices,
    RecordingCheckpoints,
    demo_case,
    edge,
    node_type,
    transform,
    trigger,
    valid_spec,
)

pytestmark = pytest.mark.anyio

FNA_CALL = {
    "endpoint": "breast-fna",
    "protocol": OIP,
    "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 30],
                "value": "case.specimens[0].data.fna_features"}],
    "outputs": ["predict_proba"],
}  # fmt: skip
IHC_CALL = {
    "endpoint": "ihc-dab",
    "protocol": OIP,
    "inputs": [{"name": "tile", "datatype": "BYTES", "tile": "case.specimens[0].tiles[0]"}],
}


class SlideServices(FakeServices):
    """The host's tile loader on the bundled IHC sample; a reference with a ``quadrant``
    (0-3) gets that quarter of the image, so a map has different tiles to score."""

    async def load_tile(self, reference: dict[str, Any]) -> bytes:
        self.tiles.append(reference)
        png = load_tile_png({"uri": reference["uri"]})
        if "quadrant" not in reference:
            return png
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
            row, column = divmod(int(reference["quadrant"]), 2)
            box = (column * width // 2, row * height // 2,
                   (column + 1) * width // 2, (row + 1) * height // 2)  # fmt: skip
            buffer = io.BytesIO()
            image.crop(box).save(buffer, format="PNG")
        return buffer.getvalue()


@pytest.fixture
def mlserver(model_services: ModelServices) -> SlideServices:
    services = SlideServices(model_services.url)
    for slug in ("breast-fna", "ihc-dab"):
        services.add(slug, timeout_s=60.0)
    services.add("no-such-model", timeout_s=60.0)
    return services


@pytest.fixture
def real_context(
    case: dict[str, Any], mlserver: SlideServices, http: httpx.AsyncClient
) -> RunContext:
    return RunContext(run_id=RUN_ID, case=case, services=mlserver, http=http)


@pytest.mark.parametrize(("case_name", "malignant"), [("breast-malignant", True),
                                                      ("breast-benign", False)])  # fmt: skip
async def test_the_fna_classifier_scores_the_case_features(
    mlserver: SlideServices, http: httpx.AsyncClient, case_name: str, malignant: bool
) -> None:
    context = RunContext(run_id=RUN_ID, case=demo_case(case_name), services=mlserver, http=http)
    context.node_id = "fna"

    outputs = await node_type("model_call").run(context, {}, FNA_CALL)

    [[benign_p, malignant_p]] = outputs["result"]["predict_proba"]
    assert benign_p + malignant_p == pytest.approx(1.0)
    assert (malignant_p >= 0.5) is malignant
    assert outputs["model"]["endpoint"] == "breast-fna"
    assert outputs["model"]["model_name"] == "breast-fna"


async def test_the_ihc_analyser_scores_a_real_tile_sent_as_base64_png(
    real_context: RunContext, mlserver: SlideServices
) -> None:
    outputs = await node_type("model_call").run(real_context, {}, IHC_CALL)

    result = outputs["result"]
    assert 0 < result["positive_fraction"] < 1
    assert 0 < result["positive_nuclei"] <= result["total_nuclei"]
    assert result["positive_fraction"] == pytest.approx(
        result["positive_nuclei"] / result["total_nuclei"], abs=1e-6
    )
    assert mlserver.tiles == [real_context.case["specimens"][0]["tiles"][0]]
    assert outputs["model"] == {"endpoint": "ihc-dab", "model_name": "ihc-dab",
                                "model_version": outputs["model"]["model_version"]}  # fmt: skip


async def test_a_tensor_mlserver_cannot_use_fails_the_node_naming_the_endpoint(
    real_context: RunContext, model_services: ModelServices
) -> None:
    call = {**FNA_CALL, "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 3],
                                    "value": "[1.0, 2.0, 3.0]"}]}  # fmt: skip

    with pytest.raises(EndpointError) as raised:
        await node_type("model_call").run(real_context, {}, call)

    # MLServer answers a model's own error (3 features, not 30) with a 500, which the node
    # treats as possibly transient: its retry policy decides.
    url = f"{model_services.url}/v2/models/breast-fna/infer"
    assert str(raised.value) == (f"endpoint 'breast-fna' ({url}): HTTP 500: Internal Server Error")
    assert not raised.value.permanent


async def test_a_model_mlserver_does_not_serve_is_a_permanent_404(
    real_context: RunContext, model_services: ModelServices
) -> None:
    call = {**FNA_CALL, "endpoint": "no-such-model"}

    with pytest.raises(EndpointError) as raised:
        await node_type("model_call").run(real_context, {}, call)

    url = f"{model_services.url}/v2/models/no-such-model/infer"
    assert str(raised.value).startswith(f"endpoint 'no-such-model' ({url}): HTTP 404")
    assert raised.value.permanent


async def test_a_map_scores_each_tile_and_a_join_takes_the_mean_ki67_index(
    real_context: RunContext, mlserver: SlideServices
) -> None:
    sample = "sample:immunohistochemistry"
    real_context.case["specimens"][0]["tiles"] = [{"uri": sample, "quadrant": q} for q in range(4)]
    per_tile = {**IHC_CALL, "inputs": [{"name": "tile", "datatype": "BYTES", "tile": "item"}]}
    spec = valid_spec(
        [trigger(),
         {"id": "tiles", "type": "map",
          "config": {"items": "case.specimens[0].tiles", "call": per_tile, "concurrency": 2}},
         {"id": "mean", "type": "join",
          "config": {"mode": "reduce", "operation": "mean",
                     "expression": "item.positive_fraction"}},
         transform("fields", {"ki67_index": "(nodes.mean.result * 100) | round(1)"})],
        [edge("case", "tiles", source_port="case"), edge("tiles", "mean", source_port="results"),
         edge("mean", "fields")],
    )  # fmt: skip

    outcome = await execute_graph(spec, real_context, RecordingCheckpoints())

    assert outcome.status == "succeeded", outcome.error
    fractions = [r["positive_fraction"] for r in outcome.results["tiles"].outputs["results"]]
    assert len(fractions) == 4
    assert len(set(fractions)) > 1  # four different quarters of the slide
    assert outcome.results["mean"].outputs["result"] == pytest.approx(sum(fractions) / 4)
    ki67 = outcome.results["fields"].outputs["result"]["ki67_index"]
    assert ki67 == round(sum(fractions) / 4 * 100, 1)
    assert sorted(t["quadrant"] for t in mlserver.tiles) == [0, 1, 2, 3]
