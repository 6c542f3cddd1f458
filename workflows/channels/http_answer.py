"""Shared by the channels that speak HTTP: one POST under the safety rules (explicit timeout,
no redirects, a capped answer) and the verdict on its answer."""

from __future__ import annotations

import httpx

from workflows.channels.base import Answer, Destination, Verdict, shown
from workflows.errors import EndpointError
from workflows.http import post


async def post_once(
    http: httpx.AsyncClient, destination: Destination, body: bytes, headers: dict[str, str]
) -> Answer:
    """POST ``body`` to the destination's URL and judge the answer: 2xx accepted; 4xx (but
    408 and 429) and redirects rejected — sending the same message again cannot help; anything
    else (5xx, refused, timeout) retried later."""
    try:
        response, raw = await post(
            http,
            destination.address,
            body,
            {**destination.headers, **headers},
            where=destination.where,
            timeout_s=destination.timeout_s,
            cap=destination.max_answer_bytes,
            truncate=True,
        )
    except EndpointError as exc:
        verdict = Verdict.REJECTED if exc.permanent else Verdict.RETRY
        return Answer(verdict, str(exc))
    code = response.status_code
    summary = f"HTTP {code}"
    if 200 <= code < 300:
        return Answer(Verdict.ACCEPTED, summary, shown(raw))
    if 400 <= code < 500 and code not in (408, 429):
        return Answer(Verdict.REJECTED, summary, shown(raw))
    return Answer(Verdict.RETRY, summary, shown(raw))
