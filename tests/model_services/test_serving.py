# scikit-image ships py.typed but leaves these functions unannotated.
# mypy: disallow-untyped-calls=False
"""Behaviour of both models through the real MLServer process over the v2 REST protocol."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from skimage import data

import model_services
from tests.conftest import ModelServices

MALIGNANT_CASE = 0
BENIGN_CASE = 19


def fna_request(case: int) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": "features",
                "datatype": "FP64",
                "shape": [1, 30],
                "data": model_services.sample_features(case),
            }
        ],
        "outputs": [{"name": "predict_proba"}],
    }


def encode_image(rgb: NDArray[np.uint8], image_format: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=image_format)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def tile_request(payload: str) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": "tile",
                "datatype": "BYTES",
                "shape": [1],
                "data": [payload],
                "parameters": {"content_type": "base64"},
            }
        ]
    }


def outputs_by_name(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == httpx.codes.OK, response.text
    return {output["name"]: output for output in response.json()["outputs"]}


def malignant_probability(client: httpx.Client, case: int) -> float:
    response = client.post("/v2/models/breast-fna/infer", json=fna_request(case))
    proba = outputs_by_name(response)["predict_proba"]
    assert proba["shape"] == [1, 2]
    assert proba["datatype"] == "FP64"
    assert sum(proba["data"]) == pytest.approx(1.0)
    return float(proba["data"][1])


def ihc_counts(response: httpx.Response) -> tuple[float, int, int]:
    outputs = outputs_by_name(response)
    assert {name: out["datatype"] for name, out in outputs.items()} == {
        "positive_fraction": "FP64",
        "positive_nuclei": "INT64",
        "total_nuclei": "INT64",
        "nuclei": "FP32",
    }
    nuclei = outputs.pop("nuclei")
    assert all(out["shape"] == [1] for out in outputs.values())
    # The nuclei behind the counts: one (x, y, positive) row each.
    total, positive = int(outputs["total_nuclei"]["data"][0]), nuclei["data"][2::3]
    assert nuclei["shape"] == [total, 3]
    assert len(nuclei["data"]) == 3 * total
    assert set(positive) <= {0.0, 1.0}
    assert sum(positive) == outputs["positive_nuclei"]["data"][0]
    return (
        float(outputs["positive_fraction"]["data"][0]),
        int(outputs["positive_nuclei"]["data"][0]),
        int(outputs["total_nuclei"]["data"][0]),
    )


def test_it_returns_malignant_probability_for_a_malignant_sample(client: httpx.Client) -> None:
    assert model_services.sample_is_malignant(MALIGNANT_CASE)
    assert malignant_probability(client, MALIGNANT_CASE) > 0.5


def test_it_returns_low_malignant_probability_for_a_benign_sample(client: httpx.Client) -> None:
    assert not model_services.sample_is_malignant(BENIGN_CASE)
    assert malignant_probability(client, BENIGN_CASE) < 0.5


def test_it_rejects_a_feature_vector_of_the_wrong_length(client: httpx.Client) -> None:
    request = fna_request(MALIGNANT_CASE)
    request["inputs"][0]["shape"] = [1, 29]
    request["inputs"][0]["data"] = request["inputs"][0]["data"][:29]

    response = client.post("/v2/models/breast-fna/infer", json=request)

    assert response.status_code >= httpx.codes.BAD_REQUEST


def test_it_reports_a_plausible_proliferation_index_for_the_demo_image(
    client: httpx.Client,
) -> None:
    request = tile_request(encode_image(data.immunohistochemistry()))

    fraction, positive, total = ihc_counts(client.post("/v2/models/ihc-dab/infer", json=request))

    assert 100 <= total <= 1500
    assert 0 < positive < total
    assert 0.0 < fraction < 1.0
    assert fraction == pytest.approx(positive / total)


def test_it_gives_similar_results_for_jpeg_and_png_tiles(client: httpx.Client) -> None:
    demo = data.immunohistochemistry()
    png = ihc_counts(client.post("/v2/models/ihc-dab/infer", json=tile_request(encode_image(demo))))
    jpeg_request = tile_request(encode_image(demo, "JPEG"))

    jpeg = ihc_counts(client.post("/v2/models/ihc-dab/infer", json=jpeg_request))

    assert jpeg[0] == pytest.approx(png[0], abs=0.1)
    assert jpeg[2] == pytest.approx(png[2], rel=0.2)


def test_it_finds_no_nuclei_in_a_blank_tile(client: httpx.Client) -> None:
    blank = np.full((128, 128, 3), 255, dtype=np.uint8)

    response = client.post("/v2/models/ihc-dab/infer", json=tile_request(encode_image(blank)))

    assert ihc_counts(response) == (0.0, 0, 0)


def test_it_accepts_a_uint8_pixel_tensor(client: httpx.Client) -> None:
    blank = np.full((16, 16, 3), 255, dtype=np.uint8)
    request = {
        "inputs": [
            {"name": "tile", "datatype": "UINT8", "shape": [16, 16, 3], "data": blank.tolist()}
        ]
    }

    assert ihc_counts(client.post("/v2/models/ihc-dab/infer", json=request)) == (0.0, 0, 0)


@pytest.mark.parametrize(
    ("request_body", "expected_message"),
    [
        (tile_request(base64.b64encode(b"not an image at all").decode()), "not a PNG or JPEG"),
        (tile_request("%%% not base64 %%%"), "valid base64"),
        (
            {"inputs": [{"name": "tile", "datatype": "UINT8", "shape": [4, 4], "data": [0] * 16}]},
            "shape",
        ),
        ({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}, "tile"),
    ],
    ids=["non-image", "non-base64", "wrong-shape", "wrong-input-name"],
)
def test_it_answers_a_malformed_tile_with_an_error_naming_the_problem(
    client: httpx.Client,
    model_services: ModelServices,
    request_body: dict[str, Any],
    expected_message: str,
) -> None:
    response = client.post("/v2/models/ihc-dab/infer", json=request_body)

    assert response.status_code == httpx.codes.BAD_REQUEST
    assert expected_message in response.json()["error"]
    assert model_services.process.alive
    assert client.get("/v2/models/ihc-dab/ready").status_code == httpx.codes.OK


@pytest.mark.parametrize("name", model_services.MODEL_NAMES)
def test_it_reports_model_version_one_in_metadata(client: httpx.Client, name: str) -> None:
    metadata = client.get(f"/v2/models/{name}")

    assert metadata.status_code == httpx.codes.OK
    assert metadata.json()["versions"] == [model_services.MODEL_VERSION]
    versioned = client.get(f"/v2/models/{name}/versions/{model_services.MODEL_VERSION}/ready")
    assert versioned.status_code == httpx.codes.OK


def test_it_labels_inference_responses_with_the_model_version(client: httpx.Client) -> None:
    response = client.post("/v2/models/breast-fna/infer", json=fna_request(BENIGN_CASE))

    assert response.json()["model_version"] == model_services.MODEL_VERSION
