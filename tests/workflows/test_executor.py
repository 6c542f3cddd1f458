"""The executor against a real local model server: concurrency, branches, retries, timeouts,
every on_error mode, checkpoints and resume."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from workflows.context import RunContext
from workflows.executor import NodeResult, RunControl, RunOutcome, execute_graph
from workflows.spec import GraphSpec
from workflows.validation import validate_graph

from .conftest import (
    FakeServices,
    ModelServer,
    RecordingCheckpoints,
    Reply,
    condition,
    demo_graph,
    edge,
    model_call,
    oip_answer,
    shipped_demo_graph,
    transform,
    trigger,
    valid_spec,
)

pytestmark = pytest.mark.anyio

FAILS = Reply(status=422, body={"error": "input rejected"})


async def run(
    spec: GraphSpec,
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    completed: dict[str, NodeResult] | None = None,
) -> RunOutcome:
    return await execute_graph(spec, context, checkpoints, completed=completed)


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {node_id: result.status for node_id, result in outcome.results.items()}


def script_demo_models(server: ModelServer, malignant: float) -> None:
    server.script(
        "breast-fna",
        Reply(
            body=oip_answer(
                {"predict_proba": ([1, 2], [round(1 - malignant, 2), malignant])},
                model_name="breast-fna",
                model_version="3",
            )
        ),
    )
    server.script(
        "ihc-dab",
        Reply(
            body=oip_answer(
                {"positive_fraction": ([1], [0.285])}, model_name="ihc-dab", model_version="1"
            )
        ),
    )


# What both demo graphs fill with the models scripted for malignant=0.93 (procedure comes from
# case.findings), and where the Ki-67 index came from.
DEMO_FINDINGS = {"fna_malignancy_probability": 93.0, "ki67_index": 28.5, "procedure": "lumpectomy"}
KI67_PROVENANCE = [
    {
        "kind": "model",
        "node": "ihc",
        "run": "run-1",
        "endpoint": "ihc-dab",
        "model_name": "ihc-dab",
        "model_version": "1",
    }
]


def fan_out(*nodes: dict[str, Any]) -> GraphSpec:
    """A trigger feeding each of ``nodes``."""
    return valid_spec(
        [trigger(), *nodes], [edge("case", n["id"], source_port="case") for n in nodes]
    )


async def test_ready_nodes_run_concurrently(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    for model in ("a", "b", "c"):
        model_server.script(model, Reply(delay_s=0.3))
    spec = fan_out(model_call("a"), model_call("b"), model_call("c"))

    outcome = await run(spec, context, checkpoints)

    assert statuses(outcome) == dict.fromkeys(["case", "a", "b", "c"], "succeeded")
    calls = model_server.calls
    assert sorted(c.model for c in calls) == ["a", "b", "c"]
    # All three were being served at the same moment.
    assert max(c.started for c in calls) < min(c.finished for c in calls)


async def test_the_demo_graph_runs_from_case_to_draft_report(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    services: FakeServices,
) -> None:
    script_demo_models(model_server, malignant=0.93)

    outcome = await run(validate_graph(demo_graph()), context, checkpoints)

    assert outcome.status == "succeeded", outcome.error
    assert statuses(outcome) == dict.fromkeys(
        ["case", "fna", "malignant", "ihc", "fields", "report"], "succeeded"
    )
    assert outcome.results["malignant"].outputs == {"true": True}
    [(findings, provenance, language)] = services.rendered
    assert language == "zh"
    assert {name: findings[name] for name in DEMO_FINDINGS} == DEMO_FINDINGS
    assert provenance["ki67_index"] == KI67_PROVENANCE
    assert outcome.results["report"].outputs["report"]["report_id"] == 1


async def test_the_shipped_resection_graph_fills_the_ai_ki67_from_a_map_over_tiles(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    services: FakeServices,
) -> None:
    script_demo_models(model_server, malignant=0.93)

    outcome = await run(validate_graph(shipped_demo_graph()), context, checkpoints)

    # The draft is rendered, then the run parks for the pathologist's sign-out.
    assert outcome.status == "waiting_review", outcome.error
    assert outcome.waiting == ("signout",)
    assert statuses(outcome) == {
        **dict.fromkeys(
            ["case", "triage", "ihc", "ki67", "fields", "merge", "report"], "succeeded"
        ),
        "signout": "waiting",
    }
    assert outcome.results["triage"].outputs == {"ki67_slide": True}
    [(findings, provenance, _)] = services.rendered
    # ki67_index is the mean over the case's one tile; the rest are the pathologist's.
    assert (findings["ki67_index"], findings["procedure"]) == (28.5, "lumpectomy")
    assert provenance["ki67_index"] == KI67_PROVENANCE
    assert "fna_malignancy_probability" not in findings  # the FNA belongs to its own report
    keys = {c.model: c.headers["idempotency-key"] for c in model_server.calls}
    assert keys == {"ihc-dab": "run-1:ihc:0"}


async def test_the_shipped_fna_graph_fills_the_ai_estimate_of_the_cytology_report(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    services: FakeServices,
) -> None:
    script_demo_models(model_server, malignant=0.93)
    context.case["case_type"] = "breast-fna"

    outcome = await run(
        validate_graph(shipped_demo_graph("breast-fna-cytology")), context, checkpoints
    )

    assert outcome.status == "waiting_review", outcome.error
    assert statuses(outcome) == {
        **dict.fromkeys(["case", "fna", "fields", "report"], "succeeded"),
        "signout": "waiting",
    }
    [(findings, provenance, _)] = services.rendered
    assert findings["fna_malignancy_probability"] == 93.0
    assert provenance["fna_malignancy_probability"][0]["endpoint"] == "breast-fna"
    assert "ki67_index" not in findings
    assert [c.model for c in model_server.calls] == ["breast-fna"]


async def test_it_sends_an_idempotency_key_per_run_and_node(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    script_demo_models(model_server, malignant=0.93)

    await run(validate_graph(demo_graph()), context, checkpoints)

    keys = {c.model: c.headers["idempotency-key"] for c in model_server.calls}
    assert keys == {"breast-fna": "run-1:fna", "ihc-dab": "run-1:ihc"}
    assert {c.body["id"] for c in model_server.calls} == {"run-1:fna", "run-1:ihc"}


async def test_the_branch_a_condition_did_not_choose_is_skipped_and_checkpointed(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    services: FakeServices,
) -> None:
    script_demo_models(model_server, malignant=0.2)

    outcome = await run(validate_graph(demo_graph()), context, checkpoints)

    assert outcome.status == "succeeded"
    assert outcome.results["malignant"].outputs == {"false": False}
    assert statuses(outcome)["ihc"] == "skipped"
    assert model_server.calls_to("ihc-dab") == []
    # `fields` has one active input (fna) and one skipped (ihc): it still runs.
    assert statuses(outcome)["fields"] == "succeeded"
    assert statuses(outcome)["report"] == "succeeded"
    [(findings, _, _)] = services.rendered
    assert findings["fna_malignancy_probability"] == 20.0
    assert "ki67_index" not in findings
    # The skip is durable: a resumed run must not run ihc either.
    assert checkpoints.attempts("ihc") == []
    [skipped] = checkpoints.finished_for("ihc")
    assert (skipped.status, skipped.attempt, skipped.finished_at is not None) == (
        "skipped",
        0,
        True,
    )


async def test_skipping_carries_down_a_branch(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    context.case["urgent"] = False
    spec = valid_spec(
        [trigger(), condition("urgent", "case.urgent"), model_call("a"), model_call("b"),
         model_call("c")],
        [edge("case", "urgent", source_port="case"), edge("urgent", "a", source_port="true"),
         edge("a", "b"), edge("urgent", "c", source_port="false")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert statuses(outcome) == {
        "case": "succeeded",
        "urgent": "succeeded",
        "a": "skipped",
        "b": "skipped",
        "c": "succeeded",
    }
    assert [c.model for c in model_server.calls] == ["c"]
    assert {r.node_id for r in checkpoints.finished if r.status == "skipped"} == {"a", "b"}


async def test_it_retries_a_server_error_with_exponential_backoff(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("flaky", Reply(status=500), Reply(status=500), Reply())
    spec = fan_out(model_call("flaky", retry={"max_attempts": 3, "backoff_s": 0.1}))

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "succeeded"
    result = outcome.results["flaky"]
    assert (result.status, result.attempt) == ("succeeded", 3)
    assert checkpoints.attempts("flaky") == [1, 2, 3]
    finished = checkpoints.finished_for("flaky")
    assert [(r.status, r.attempt) for r in finished] == [
        ("failed", 1),
        ("failed", 2),
        ("succeeded", 3),
    ]
    assert all("HTTP 500" in r.error for r in finished[:2])
    first, second, third = model_server.calls_to("flaky")
    wait_1, wait_2 = second.started - first.finished, third.started - second.finished
    assert wait_1 >= 0.1
    assert wait_2 >= 0.2  # the backoff doubles
    assert wait_2 > wait_1


async def test_it_does_not_retry_a_client_error(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("picky", FAILS)
    spec = fan_out(model_call("picky", retry={"max_attempts": 3, "backoff_s": 0}))

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "failed"
    url = f"{model_server.url}/v2/models/picky/infer"
    assert outcome.error == (
        f"node 'picky' (picky) failed: endpoint 'picky' ({url}): HTTP 422: "
        '{"error": "input rejected"}'
    )
    assert len(model_server.calls_to("picky")) == 1
    assert checkpoints.attempts("picky") == [1]


async def test_a_node_that_does_not_finish_within_its_timeout_fails(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("stuck", Reply(hang=True))
    spec = fan_out(model_call("stuck", timeout_s=0.2, retry={"max_attempts": 2, "backoff_s": 0}))

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "failed"
    assert outcome.error == (
        "node 'stuck' (stuck) failed: no result within the node's timeout of 0.2 s"
    )
    # A timeout may pass, so it is retried.
    assert checkpoints.attempts("stuck") == [1, 2]
    assert len(model_server.calls_to("stuck")) == 2


async def test_on_error_stop_fails_the_run_and_runs_nothing_downstream(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    model_server.script("slow", Reply(hang=True))
    spec = valid_spec(
        [trigger(), model_call("bad", on_error="stop"), model_call("after"), model_call("slow")],
        [edge("case", "bad", source_port="case"), edge("bad", "after"),
         edge("case", "slow", source_port="case")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "failed"
    assert outcome.error.startswith("node 'bad' (bad) failed: endpoint 'bad'")
    assert "after" not in outcome.results
    assert model_server.calls_to("after") == []
    # A node still running when the run stops is cancelled, and that is checkpointed.
    cancelled = outcome.results["slow"]
    assert (cancelled.status, cancelled.attempt) == ("cancelled", 1)
    assert cancelled.error == "cancelled: the run stopped because node 'bad' failed"
    assert checkpoints.finished_for("slow") == [cancelled]


async def test_on_error_continue_fails_the_node_and_skips_only_its_branch(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    spec = valid_spec(
        [trigger(), model_call("bad", on_error="continue"), model_call("after"),
         model_call("other")],
        [edge("case", "bad", source_port="case"), edge("bad", "after"),
         edge("case", "other", source_port="case")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "succeeded"
    assert statuses(outcome) == {
        "case": "succeeded",
        "bad": "failed",
        "after": "skipped",
        "other": "succeeded",
    }
    assert "HTTP 422" in outcome.results["bad"].error
    assert sorted(c.model for c in model_server.calls) == ["bad", "other"]


async def test_on_error_error_branch_continues_only_on_the_error_port(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    spec = valid_spec(
        [trigger(), model_call("bad", on_error="error_branch"), model_call("after"),
         transform("note", {"comment": "'AI analysis unavailable'"})],
        [edge("case", "bad", source_port="case"), edge("bad", "after"),
         edge("bad", "note", source_port="error")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "succeeded"
    assert statuses(outcome) == {
        "case": "succeeded",
        "bad": "failed",
        "after": "skipped",
        "note": "succeeded",
    }
    bad = outcome.results["bad"]
    assert bad.outputs == {"error": {"node": "bad", "message": bad.error}}
    assert "endpoint 'bad'" in bad.error
    assert outcome.results["note"].inputs == {"in": [{"node": "bad", "message": bad.error}]}
    assert outcome.results["note"].outputs["result"] == {"comment": "AI analysis unavailable"}


async def test_on_error_default_value_succeeds_with_the_defaults_and_keeps_the_error(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    spec = valid_spec(
        [trigger(),
         model_call("bad", on_error="default_value", default_outputs={"result": {"p": 0.0}}),
         transform("fields", {"probability": "nodes.bad.result.p * 100"})],
        [edge("case", "bad", source_port="case"), edge("bad", "fields")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "succeeded"
    bad = outcome.results["bad"]
    assert (bad.status, bad.outputs) == ("succeeded", {"result": {"p": 0.0}})
    assert bad.error.startswith("used default outputs after: endpoint 'bad'")
    assert "HTTP 422" in bad.error
    assert checkpoints.finished_for("bad") == [bad]
    assert outcome.results["fields"].outputs["result"] == {"probability": 0.0}


async def test_a_resumed_run_does_not_repeat_completed_nodes(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    services: FakeServices,
) -> None:
    script_demo_models(model_server, malignant=0.2)  # would choose `false` if fna ran again
    completed = {
        "case": NodeResult("case", "case_trigger", "succeeded", 1, outputs={"case": context.case}),
        "fna": NodeResult(
            "fna",
            "model_call",
            "succeeded",
            1,
            outputs={
                "result": {"predict_proba": [[0.1, 0.9]]},
                "model": {"endpoint": "breast-fna", "model_name": "fna", "model_version": "2"},
            },
        ),
    }

    outcome = await run(validate_graph(demo_graph()), context, checkpoints, dict(completed))

    assert outcome.status == "succeeded"
    assert model_server.calls_to("breast-fna") == []
    assert [c.model for c in model_server.calls] == ["ihc-dab"]
    assert outcome.results["fna"] is completed["fna"]
    assert {node for node, _ in checkpoints.started} == {"malignant", "ihc", "fields", "report"}
    # Downstream expressions read the checkpointed outputs.
    assert outcome.results["malignant"].outputs == {"true": True}
    [(findings, provenance, _)] = services.rendered
    assert findings["fna_malignancy_probability"] == 90.0
    assert provenance["fna_malignancy_probability"][0]["model_version"] == "2"


async def test_a_resumed_run_keeps_earlier_skips(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    spec = fan_out(model_call("a"), model_call("b"))
    completed = {
        "case": NodeResult("case", "case_trigger", "succeeded", 1, outputs={"case": context.case}),
        "a": NodeResult("a", "model_call", "skipped"),
    }

    outcome = await run(spec, context, checkpoints, completed)

    assert statuses(outcome) == {"case": "succeeded", "a": "skipped", "b": "succeeded"}
    assert [c.model for c in model_server.calls] == ["b"]


async def test_a_node_interrupted_mid_attempt_resumes_at_its_next_attempt(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    spec = fan_out(model_call("a", retry={"max_attempts": 3, "backoff_s": 0}))
    completed = {
        "case": NodeResult("case", "case_trigger", "succeeded", 1, outputs={"case": context.case}),
    }

    outcome = await execute_graph(
        spec, context, checkpoints, completed=completed, attempts={"a": 1}
    )

    assert (outcome.results["a"].status, outcome.results["a"].attempt) == ("succeeded", 2)
    assert checkpoints.attempts("a") == [2]
    assert len(model_server.calls_to("a")) == 1


async def test_a_node_interrupted_in_its_last_attempt_fails_without_another_call(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    spec = fan_out(model_call("a", retry={"max_attempts": 2, "backoff_s": 0}))
    completed = {
        "case": NodeResult("case", "case_trigger", "succeeded", 1, outputs={"case": context.case}),
    }

    outcome = await execute_graph(
        spec, context, checkpoints, completed=completed, attempts={"a": 2}
    )

    assert outcome.status == "failed"
    assert outcome.error == (
        "node 'a' (a) failed: interrupted: the worker running it stopped during its attempt 2 "
        "of 2, and no attempt is left"
    )
    assert model_server.calls_to("a") == []
    [failed] = checkpoints.finished_for("a")
    assert (failed.attempt, failed.final) == (2, True)


async def test_a_failure_handled_by_on_error_is_final_and_not_run_again_on_resume(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    spec = valid_spec(
        [trigger(), model_call("bad", on_error="error_branch"),
         transform("note", {"why": "nodes.bad.error.message"})],
        [edge("case", "bad", source_port="case"), edge("bad", "note", source_port="error")],
    )  # fmt: skip
    first = await run(spec, context, checkpoints)
    [bad] = checkpoints.finished_for("bad")
    assert (bad.status, bad.final) == ("failed", True)
    # Downstream expressions read the error of an error_branch node.
    assert first.results["note"].outputs["result"]["why"] == bad.error

    completed = {k: v for k, v in first.results.items() if k != "note"}
    again = await run(spec, context, RecordingCheckpoints(), completed)

    assert again.status == "succeeded"
    assert len(model_server.calls_to("bad")) == 1
    assert again.results["note"].outputs["result"]["why"] == bad.error


async def test_a_field_reading_the_results_of_a_failed_error_branch_node_is_left_unfilled(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("bad", FAILS)
    spec = valid_spec(
        [trigger(), model_call("bad", on_error="error_branch"),
         transform("note", {"score": "nodes.bad.result.score[0] * 100",
                            "why": "nodes.bad.error.message"})],
        [edge("case", "bad", source_port="case"), edge("bad", "note", source_port="error")],
    )  # fmt: skip

    outcome = await run(spec, context, checkpoints)

    assert outcome.status == "succeeded"
    fields = outcome.results["note"].outputs["result"]
    assert "score" not in fields  # no value invented for a model that failed
    assert fields["why"].startswith("endpoint 'bad'")


async def test_a_retried_failure_is_not_final(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("flaky", Reply(status=500), Reply())
    spec = fan_out(model_call("flaky", retry={"max_attempts": 2, "backoff_s": 0}))

    await run(spec, context, checkpoints)

    assert [(r.status, r.final) for r in checkpoints.finished_for("flaky")] == [
        ("failed", False),
        ("succeeded", True),
    ]


async def test_a_stop_request_cancels_running_nodes_at_their_current_attempt(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("slow", Reply(status=500), Reply(hang=True))
    model_server.script("quick", Reply())
    spec = fan_out(
        model_call("slow", retry={"max_attempts": 3, "backoff_s": 0}), model_call("quick")
    )
    control = RunControl()

    async def cancel_soon() -> None:
        while len(model_server.calls_to("slow")) < 2:
            await asyncio.sleep(0.02)
        control.stop("cancelled", "cancelled by pathologist")

    stopper = asyncio.create_task(cancel_soon())
    outcome = await execute_graph(spec, context, checkpoints, control=control)
    await stopper

    assert (outcome.status, outcome.error) == ("cancelled", "cancelled by pathologist")
    slow = outcome.results["slow"]
    assert (slow.status, slow.attempt) == ("cancelled", 2)
    assert slow.error == "cancelled: cancelled by pathologist"
    assert outcome.results["quick"].status == "succeeded"
    assert checkpoints.finished_for("slow")[-1] == slow


async def test_retries_count_against_the_step_limit(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("flaky", Reply(status=500))
    spec = fan_out(model_call("flaky", retry={"max_attempts": 5, "backoff_s": 0}))

    outcome = await execute_graph(spec, context, checkpoints, control=RunControl(max_steps=3))

    assert outcome.status == "failed"
    assert outcome.error == (
        "the run reached its limit of 3 node executions (PATHFLOW_RUN_MAX_STEPS) when node "
        "'flaky' was to run"
    )
    # The trigger and two attempts ran; the third attempt was refused.
    assert len(model_server.calls_to("flaky")) == 2
    assert outcome.results["flaky"].status == "cancelled"


async def test_a_run_over_its_wall_time_fails_and_cancels_what_runs(
    context: RunContext, checkpoints: RecordingCheckpoints, model_server: ModelServer
) -> None:
    model_server.script("stuck", Reply(hang=True))
    spec = fan_out(model_call("stuck"))

    outcome = await execute_graph(spec, context, checkpoints, control=RunControl(max_seconds=0.3))

    assert outcome.status == "failed"
    assert outcome.error == (
        "the run took longer than its limit of 0.3 s (PATHFLOW_RUN_MAX_SECONDS)"
    )
    assert outcome.results["stuck"].status == "cancelled"


class FailingCheckpoints(RecordingCheckpoints):
    """A checkpoint store that cannot record the end of one node (e.g. the database is gone)."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id

    async def node_finished(self, result: NodeResult) -> None:
        if result.node_id == self.node_id:
            raise RuntimeError("database is locked")
        await super().node_finished(result)


async def test_a_checkpoint_that_cannot_be_written_stops_the_run_and_its_nodes(
    context: RunContext, model_server: ModelServer
) -> None:
    model_server.script("stuck", Reply(hang=True))
    spec = fan_out(model_call("quick"), model_call("stuck"))

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="database is locked"):
        await execute_graph(spec, context, FailingCheckpoints("quick"))

    assert time.monotonic() - started < 2  # not once the stuck call ends
    await asyncio.sleep(0.05)
    assert [t.get_name() for t in asyncio.all_tasks() if t.get_name() == "stuck"] == []
