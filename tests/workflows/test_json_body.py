"""Model request bodies with a tile's base64 spliced in (workflows.http.json_body)."""

from __future__ import annotations

import base64
import json

import pytest

from workflows.http import blob_token, json_body


def test_a_spliced_blob_reads_back_as_the_string_json_would_have_written() -> None:
    tile = base64.b64encode(bytes(range(256)) * 40)
    token = blob_token()
    payload = {"id": "k", "inputs": [{"name": "tile", "data": [token]}, {"name": "x", "data": [1]}]}

    body = json_body(payload, {token: tile})

    expected = {
        **payload,
        "inputs": [{"name": "tile", "data": [tile.decode()]}, payload["inputs"][1]],
    }
    assert json.loads(body) == expected
    assert json_body(payload) == json.dumps(payload).encode()


def test_tokens_differ_and_a_missing_one_is_an_error() -> None:
    assert blob_token() != blob_token()
    with pytest.raises(ValueError, match="not in the payload"):
        json_body({"data": ["other"]}, {blob_token(): b"QUJD"})
