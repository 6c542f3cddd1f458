"""Guarantee: no HL7 message takes the MLLP listener down or goes unexplained. Hypothesis
mutates real-shaped orders (ORM^O01 and OML^O21 of several versions, Chinese names, the FNA
measurements and an IHC sample) — segments dropped, doubled and swapped, fields replaced by any
text (separators and escapes included), bytes inserted, flipped or cut off, segment separators
changed — and sends each over a real socket to a real ``manage.py mllp_listener``. Every message
gets an ACK (AA, AE or AR) or a clean close; every AE and AR carries an ERR naming the problem
(ERR-3 its code, ERR-8 a sentence); every stored rejection says why; and the listener still
acknowledges a valid order afterwards.

Reduced form: 300 mutations, derandomized (the same every run). Full form (PATHFLOW_SOAK=1):
10,000, random."""

from __future__ import annotations

import itertools
import socket
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.demo_data import DemoData
from orchestrator.integrations.models import InboundMessage
from tests.orchestrator.integrations.conftest import (  # noqa: F401 - fixtures
    Running,
    exchange,
    listener,
    listener_factory,
    order,
    routed,
)

soak = pytest.mark.soak  # the full form: `make soak` (deselected otherwise, see tests/conftest.py)
VT, FS_CR = b"\x0b", b"\x1c\r"
_ids = itertools.count()

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
base_orders = st.builds(
    lambda n, **kw: order(f"F{n}", mrn=f"MRN-F{n}", **kw),
    st.just(0),
    version=st.sampled_from(["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"]),
    kind=st.sampled_from(["ORM^O01", "OML^O21"]),
    order_code=st.sampled_from(["BREAST", "BREAST", "LUNG"]),
    family=names,
    given=names,
    clinical=names,
)


def _segments(message: bytes) -> list[bytes]:
    return [s for s in message.split(b"\r") if s]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real-shaped order with one to four mutations applied (no MLLP framing)."""
    message = draw(base_orders)
    for _ in range(draw(st.integers(1, 4))):
        segs = _segments(message)
        kind = draw(st.sampled_from(["drop", "double", "swap", "field", "cut", "insert", "flip"]))
        i = draw(st.integers(0, len(segs) - 1)) if segs else 0
        if kind == "drop" and segs:
            del segs[i]
        elif kind == "double" and segs:
            segs.insert(i, segs[i])
        elif kind == "swap" and len(segs) > 1:
            j = draw(st.integers(0, len(segs) - 1))
            segs[i], segs[j] = segs[j], segs[i]
        elif kind == "field" and segs:
            fields = segs[i].split(b"|")
            j = draw(st.integers(0, len(fields) - 1))
            value = draw(st.text(max_size=40) | st.sampled_from(["", "^~\\&", "|", "\\F\\"]))
            fields[j] = value.encode("utf-8", "surrogatepass")
            segs[i] = b"|".join(fields)
        if kind in ("drop", "double", "swap", "field"):
            separator = draw(st.sampled_from([b"\r", b"\r", b"\n", b"\r\n"]))
            message = separator.join(segs) + separator
        elif kind == "cut":
            message = message[: draw(st.integers(0, len(message)))]
        elif kind == "insert":
            at = draw(st.integers(0, len(message)))
            message = message[:at] + draw(st.binary(min_size=1, max_size=16)) + message[at:]
        elif kind == "flip" and message:
            at = draw(st.integers(0, len(message) - 1))
            message = message[:at] + bytes([draw(st.integers(0, 255))]) + message[at + 1 :]
    # The end block inside a message would end its frame early (framing is fuzzed elsewhere:
    # tests/orchestrator/integrations/test_mllp_malformed.py).
    return message.replace(b"\x1c", b"?")


def send(port: int, message: bytes, timeout: float = 15) -> bytes:
    """Send one framed message on a new connection; what came back before a whole frame or a
    close (b"": closed without a word). A listener that neither answers nor closes fails."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(VT + message + FS_CR)
        received = b""
        while not received.endswith(FS_CR):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def check_answer(received: bytes) -> str:
    """The ACK code, after checking an AE or AR explains itself; "close" for a clean close."""
    if received == b"":
        return "close"
    assert received.startswith(VT), received[:200]
    assert received.endswith(FS_CR), received[-200:]
    text = received[1:-2].decode("utf-8", "replace")
    assert text.startswith("MSH"), text[:200]
    fs = text[3]
    lines = [line.split(fs) for line in text.split("\r") if line]
    msa = next(line for line in lines if line[0] == "MSA")
    code = msa[1]
    assert code in ("AA", "AE", "AR"), text
    if code != "AA":
        errs = [line for line in lines if line[0] == "ERR"]
        assert errs, f"{code} without an ERR: {text!r}"
        assert all(len(e) > 8 and e[3] and e[8].strip() for e in errs), text
    return code


def fuzz(running: Running, examples: int, derandomize: bool) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated())
    def one(message: bytes) -> None:
        # Each its own control id (F0 in every base order), or a resend would get the first
        # answer again; set here, not in the strategy, which must not depend on outside state.
        message = message.replace(b"F0", f"F{next(_ids)}".encode())
        outcomes[check_answer(send(running.port, message))] += 1
        assert running.process.alive, "the listener died"

    one()
    return outcomes


def check_after(running: Running, outcomes: Counter[str], examples: int) -> None:
    for code in ("AA", "AE", "AR", "close"):
        print(f"hl7_fuzz_{code.lower()}={outcomes[code]}")
    print(f"hl7_fuzz_messages={sum(outcomes.values())}")
    assert sum(outcomes.values()) >= examples
    assert running.process.alive
    # Every stored rejection says why.
    unexplained = (
        InboundMessage.objects.exclude(status__in=("received", "processed"))
        .filter(problems=[], error="")
        .count()
    )
    print(f"hl7_fuzz_unexplained_rejections={unexplained}")
    assert unexplained == 0
    ack = exchange(running.port, order("FUZZ-AFTER"))[0]
    assert ack is not None
    assert b"MSA|AA|FUZZ-AFTER" in ack


def test_300_mutated_orders_each_get_an_explained_answer_and_the_listener_lives_on(
    listener: Running,  # noqa: F811
) -> None:
    outcomes = fuzz(listener, 300, derandomize=True)
    check_after(listener, outcomes, 300)


@soak
@pytest.mark.timeout(3600)
def test_soak_10000_mutated_orders_each_get_an_explained_answer(
    routed: DemoData,  # noqa: F811
    listener_factory: Callable[..., Running],  # noqa: F811
) -> None:
    running = listener_factory()
    outcomes = fuzz(running, 10_000, derandomize=False)
    check_after(running, outcomes, 10_000)
