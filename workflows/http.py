"""Outbound HTTP to model endpoints: explicit timeouts, no redirects, capped response size."""

from __future__ import annotations

import importlib
import json
import secrets
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from workflows.context import Endpoint
from workflows.errors import EndpointError


def _remember_missing(module: str) -> None:
    """Make a failed import of ``module`` fail at once the next time.

    httpcore asks ``import sniffio`` on every request (up to four times: pool, connection and
    their locks) to tell asyncio from trio; when sniffio is not installed each attempt searches
    the whole ``sys.path`` again (~0.1 ms each, ~0.5 ms per model call, all on the event loop).
    A ``None`` in ``sys.modules`` makes the import raise ImportError straight away, as it would.
    """
    if module in sys.modules:
        return
    try:
        importlib.import_module(module)
    except ImportError:
        sys.modules[module] = None  # type: ignore[assignment]


_remember_missing("sniffio")


def new_client() -> httpx.AsyncClient:
    """The client a worker shares across calls; per-call limits come from each Endpoint."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(30.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        trust_env=False,
    )


async def post(
    client: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: dict[str, str],
    *,
    where: str,
    timeout_s: float,
    cap: int,
    truncate: bool = False,
) -> tuple[httpx.Response, bytes]:
    """POST ``content`` and return the response with its body read up to ``cap`` bytes: a
    longer body is an error, or with ``truncate`` only its first bytes are kept. A timeout, a
    refused connection, any transport error and a redirect become an EndpointError naming
    ``where``; the status code is the caller's to judge."""
    try:
        async with client.stream(
            "POST", url, content=content, headers=headers, timeout=timeout_s
        ) as response:
            body = await _read_capped(response, cap, where, truncate=truncate)
    except httpx.TimeoutException:
        raise EndpointError(f"{where}: no answer within {timeout_s:g} s") from None
    except httpx.ConnectError as exc:
        raise EndpointError(f"{where}: cannot connect ({exc})") from None
    except httpx.HTTPError as exc:
        raise EndpointError(f"{where}: {type(exc).__name__}: {exc}") from None
    if response.is_redirect:
        raise EndpointError(
            f"{where}: answered with a redirect ({response.status_code}); redirects are not "
            "followed — register the final URL in the catalog",
            permanent=True,
        )
    return response, body


def json_body(payload: Any, blobs: Mapping[str, bytes] | None = None) -> bytes:
    """``payload`` as JSON, where each string equal to a key of ``blobs`` stands for that blob:
    ASCII text that needs no escaping in a JSON string (base64), spliced into the body as is.
    A 512² tile is ~0.7 MB of base64, which ``json.dumps`` would scan and copy again on every
    model call (docs/performance.md). Keys must be unguessable (``blob_token``)."""
    body = json.dumps(payload).encode()
    for token, blob in (blobs or {}).items():
        before, found, after = body.partition(b'"' + token.encode("ascii") + b'"')
        if not found:
            raise ValueError(f"blob {token!r} is not in the payload")
        body = b"".join((before, b'"', blob, b'"', after))
    return body


def blob_token() -> str:
    """A placeholder for ``json_body``: random, so that no value of a case can equal it."""
    return f"blob-{secrets.token_hex(16)}"


async def post_json(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    path: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str,
    blobs: Mapping[str, bytes] | None = None,
) -> Any:
    """POST JSON and return the decoded body; every failure is an EndpointError naming
    the endpoint and what went wrong. 4xx answers are permanent (retrying cannot help).
    ``blobs``: see ``json_body``."""
    url = endpoint.base_url.rstrip("/") + path
    where = f"endpoint '{endpoint.slug}' ({url})"
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        **endpoint.headers,
    }
    response, body = await post(
        client,
        url,
        json_body(payload, blobs),
        headers,
        where=where,
        timeout_s=endpoint.timeout_s,
        cap=endpoint.max_response_bytes,
    )
    if response.status_code >= 400:
        detail = body[:500].decode("utf-8", "replace")
        raise EndpointError(
            f"{where}: HTTP {response.status_code}: {detail}",
            permanent=400 <= response.status_code < 500 and response.status_code != 429,
        )
    try:
        return json.loads(body)
    except ValueError:
        raise EndpointError(f"{where}: the answer is not valid JSON") from None


async def _read_capped(
    response: httpx.Response, cap: int, where: str, *, truncate: bool = False
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            if truncate:
                chunks.append(chunk[: cap - size + len(chunk)])
                break
            raise EndpointError(f"{where}: answer larger than {cap} bytes", permanent=True)
        chunks.append(chunk)
    return b"".join(chunks)
