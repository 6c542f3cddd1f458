"""Review nodes park a run until a person decides; sub-workflow nodes run a published workflow
inside the run. Both against the real local model server, checkpoints recorded as a host would."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.context import RunContext
from workflows.executor import NodeResult, RunOutcome, execute_graph
from workflows.nodes.review import decision_outputs, decision_problems
from workflows.validation import validate_graph

from .conftest import (
    FakeServices,
    ModelServer,
    RecordingCheckpoints,
    Reply,
    edge,
    graph,
    model_call,
    render,
    transform,
    trigger,
    valid_spec,
)

pytestmark = pytest.mark.anyio

REVIEWER = {"id": 7, "username": "pathologist", "name": "Dr Li"}


def review(node_id: str = "review", **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "review",
        "config": {"title": "Check the grade", "fields": ["histologic_grade"], **config},
    }


def sub(node_id: str, workflow: str, outputs: dict[str, str], **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "sub_workflow",
        "config": {"workflow": workflow, "outputs": outputs, **config},
    }


class WorkflowLibrary(FakeServices):
    """The fake host, plus published workflows by slug for sub-workflow nodes."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.workflows: dict[str, dict[str, Any]] = {}
        self.loaded: list[tuple[str, int | None]] = []

    async def load_workflow(self, slug: str, version: int | None) -> dict[str, Any]:
        self.loaded.append((slug, version))
        return self.workflows[slug]


@pytest.fixture
def library(model_server: ModelServer) -> WorkflowLibrary:
    return WorkflowLibrary(model_server.url)


@pytest.fixture
def context(case: dict[str, Any], library: WorkflowLibrary, http: Any) -> RunContext:
    return RunContext(
        run_id="run-1", case=case, services=library, http=http, workflow_path=("main",)
    )


def reviewed(outcome: RunOutcome, node_id: str, decision: dict[str, Any]) -> dict[str, Any]:
    """The checkpoints a host keeps after a person decided: the waiting node succeeded."""
    done = {k: v for k, v in outcome.results.items() if v.status != "waiting"}
    waiting = outcome.results[node_id]
    outputs = decision_outputs(decision, REVIEWER, "2026-11-27T08:00:00+00:00")
    done[node_id] = NodeResult(
        node_id, waiting.node_type, "succeeded", waiting.attempt, {}, outputs
    )
    return done


# --- review ---------------------------------------------------------------------------------


def review_graph() -> dict[str, Any]:
    return graph(
        [trigger(), model_call("grade"), review(), render("approved_report"),
         transform("rework", {"note": "nodes.review.rejected.comment"}), model_call("other")],
        [edge("case", "grade", source_port="case"), edge("grade", "review"),
         edge("review", "approved_report", source_port="approved", target_port="findings"),
         edge("review", "rework", source_port="rejected"),
         edge("case", "other", source_port="case")],
    )  # fmt: skip


async def test_a_review_parks_the_run_while_independent_branches_finish(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    library: WorkflowLibrary,
) -> None:
    model_server.script("other", Reply(delay_s=0.2))

    outcome = await execute_graph(validate_graph(review_graph()), context, checkpoints)

    assert outcome.status == "waiting_review"
    assert outcome.waiting == ("review",)
    statuses = {k: r.status for k, r in outcome.results.items()}
    assert statuses == {
        "case": "succeeded",
        "grade": "succeeded",
        "other": "succeeded",
        "review": "waiting",
    }
    [parked] = checkpoints.finished_for("review")
    assert parked.status == "waiting"
    assert parked.outputs["waiting"] == {
        "kind": "review",
        "title": "Check the grade",
        "instructions": "",
        "fields": ["histologic_grade"],
        "decisions": ["approve", "reject"],
        "proposed": {},
    }
    assert library.rendered == []


async def test_an_approved_review_resumes_into_the_approved_branch_with_the_persons_values(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    library: WorkflowLibrary,
) -> None:
    spec = validate_graph(review_graph())
    parked = await execute_graph(spec, context, RecordingCheckpoints())
    decision = {"decision": "approve", "values": {"histologic_grade": "2"}}

    outcome = await execute_graph(
        spec, context, checkpoints, completed=reviewed(parked, "review", decision)
    )

    assert outcome.status == "succeeded", outcome.error
    assert outcome.results["rework"].status == "skipped"
    [(findings, provenance, _)] = library.rendered
    assert findings == {"histologic_grade": "2"}
    assert provenance["histologic_grade"] == [
        {"kind": "person", "user": 7, "name": "Dr Li", "at": "2026-11-27T08:00:00+00:00"}
    ]
    # Nothing before the review ran again.
    assert {node for node, _ in checkpoints.started} == {"approved_report"}
    assert len(model_server.calls_to("grade")) == 1


async def test_a_rejected_review_continues_on_the_rejected_port_only(
    context: RunContext, checkpoints: RecordingCheckpoints, library: WorkflowLibrary
) -> None:
    spec = validate_graph(review_graph())
    parked = await execute_graph(spec, context, RecordingCheckpoints())
    decision = {"decision": "reject", "comment": "recut the block"}

    outcome = await execute_graph(
        spec, context, checkpoints, completed=reviewed(parked, "review", decision)
    )

    assert outcome.status == "succeeded"
    assert outcome.results["approved_report"].status == "skipped"
    assert outcome.results["rework"].outputs["result"] == {"note": "recut the block"}
    assert library.rendered == []


def test_a_decision_is_checked_against_the_review_listing_every_problem() -> None:
    request = {"kind": "review", "fields": ["histologic_grade"], "decisions": ["approve"]}

    problems = decision_problems(
        request, {"decision": "maybe", "values": {"ki67_index": 5}, "comment": 3, "x": 1}
    )

    assert problems == [
        "'decision' must be one of approve (got 'maybe')",
        "values: element 'ki67_index' is not one this review asks for (histologic_grade)",
        "'comment' must be text",
        "unknown keys x",
    ]
    assert decision_problems(request, {"decision": "approve"}) == []


def test_a_reviewer_may_keep_a_value_of_a_derived_field_with_a_reason() -> None:
    request = {"kind": "review", "fields": ["histologic_grade"], "decisions": ["approve"]}
    reason = {"reason": "mitoses counted in a second block"}
    values = {"histologic_grade": "grade_3", "_overrides": {"histologic_grade": reason}}

    assert decision_problems(request, {"decision": "approve", "values": values}) == []
    assert decision_problems(
        request, {"decision": "approve", "values": {"_overrides": {"ki67_index": reason}}}
    ) == ["values: _overrides: element 'ki67_index' is not one this review asks for"]
    outputs = decision_outputs({"decision": "approve", "values": values}, REVIEWER, "now")
    assert outputs["findings"]["values"]["_overrides"] == {"histologic_grade": reason}
    assert set(outputs["findings"]["provenance"]) == {"histologic_grade"}


def test_the_fields_a_review_asks_for_count_as_filled_for_the_template() -> None:
    from workflows.registry import REGISTRY

    node_type = REGISTRY.get("review", 1)
    assert node_type is not None
    assert node_type.fills({"title": "t", "fields": ["a", "b"]}) == {"a", "b"}


# --- sub-workflows ----------------------------------------------------------------------------


def child_graph() -> dict[str, Any]:
    return graph(
        [trigger(), model_call("score"),
         transform("fields", {"ki67_index": "nodes.score.result.p * 100"})],
        [edge("case", "score", source_port="case"), edge("score", "fields")],
    )  # fmt: skip


def parent_graph() -> dict[str, Any]:
    return graph(
        [trigger(), sub("ki67", "ki67-scoring", {"findings": "fields.findings"}), render()],
        [edge("case", "ki67", source_port="case"),
         edge("ki67", "report", source_port="findings", target_port="findings")],
    )  # fmt: skip


async def test_a_sub_workflow_runs_the_child_graph_and_passes_on_its_chosen_outputs(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    library: WorkflowLibrary,
) -> None:
    library.workflows["ki67-scoring"] = child_graph()

    outcome = await execute_graph(validate_graph(parent_graph()), context, checkpoints)

    assert outcome.status == "succeeded", outcome.error
    assert library.loaded == [("ki67-scoring", None)]
    [(findings, _, _)] = library.rendered
    assert findings == {"ki67_index": 50.0}
    # Child nodes are checkpointed under the sub-workflow node, with their own idempotency key.
    recorded = {r.node_id: r.status for r in checkpoints.finished}
    assert recorded["ki67/score"] == "succeeded"
    assert recorded["ki67/fields"] == "succeeded"
    [call] = model_server.calls_to("score")
    assert call.headers["idempotency-key"] == "run-1:ki67/score"


async def test_a_resumed_sub_workflow_does_not_repeat_finished_child_nodes(
    context: RunContext,
    checkpoints: RecordingCheckpoints,
    model_server: ModelServer,
    library: WorkflowLibrary,
) -> None:
    library.workflows["ki67-scoring"] = child_graph()
    first = RecordingCheckpoints()
    await execute_graph(validate_graph(parent_graph()), context, first)
    # The worker died after the child's model call: keep the checkpoints up to it.
    completed = {
        r.node_id: r for r in first.finished if r.node_id in ("case", "ki67/case", "ki67/score")
    }

    outcome = await execute_graph(
        validate_graph(parent_graph()), context, checkpoints, completed=completed
    )

    assert outcome.status == "succeeded", outcome.error
    assert len(model_server.calls_to("score")) == 1
    assert {node for node, _ in checkpoints.started} == {"ki67", "ki67/fields", "report"}


async def test_a_workflow_that_includes_itself_fails_naming_the_chain(
    context: RunContext, checkpoints: RecordingCheckpoints, library: WorkflowLibrary
) -> None:
    library.workflows["a"] = graph(
        [trigger(), sub("b", "b", {})], [edge("case", "b", source_port="case")]
    )
    library.workflows["b"] = graph(
        [trigger(), sub("a", "main", {})], [edge("case", "a", source_port="case")]
    )
    spec = valid_spec([trigger(), sub("a", "a", {})], [edge("case", "a", source_port="case")])

    outcome = await execute_graph(spec, context, checkpoints)

    assert outcome.status == "failed"
    assert outcome.error.endswith("workflow 'main' includes itself (main → a → b → main)")
    assert library.loaded == [("a", None), ("b", None)]


async def test_a_review_inside_a_sub_workflow_parks_the_whole_run(
    context: RunContext, checkpoints: RecordingCheckpoints, library: WorkflowLibrary
) -> None:
    library.workflows["checked"] = graph(
        [trigger(), review()], [edge("case", "review", source_port="case")]
    )
    spec = valid_spec(
        [trigger(), sub("check", "checked", {"grade": "review.findings"})],
        [edge("case", "check", source_port="case")],
    )

    outcome = await execute_graph(spec, context, checkpoints)

    assert outcome.status == "waiting_review"
    waiting = {
        r.node_id: r.outputs["waiting"] for r in checkpoints.finished if r.status == "waiting"
    }
    assert waiting["check/review"]["kind"] == "review"
    assert waiting["check"] == {
        "kind": "sub_workflow",
        "title": "waiting for a review in workflow 'checked'",
        "nodes": ["check/review"],
    }

    decided = {r.node_id: r for r in checkpoints.finished if r.status != "waiting"}
    decided["check/review"] = NodeResult(
        "check/review",
        "review",
        "succeeded",
        1,
        outputs=decision_outputs(
            {"decision": "approve", "values": {"histologic_grade": "3"}}, REVIEWER, "now"
        ),
    )
    resumed = await execute_graph(spec, context, RecordingCheckpoints(), completed=decided)

    assert resumed.status == "succeeded", resumed.error
    assert resumed.results["check"].outputs["grade"]["values"] == {"histologic_grade": "3"}


async def test_sub_workflows_nested_too_deeply_fail_naming_the_chain(
    context: RunContext, checkpoints: RecordingCheckpoints, library: WorkflowLibrary
) -> None:
    for level in range(1, 8):
        library.workflows[f"w{level}"] = graph(
            [trigger(), sub("next", f"w{level + 1}", {})],
            [edge("case", "next", source_port="case")],
        )
    spec = valid_spec(
        [trigger(), sub("next", "w1", {})], [edge("case", "next", source_port="case")]
    )

    outcome = await execute_graph(spec, context, checkpoints)

    assert outcome.status == "failed"
    assert outcome.error.endswith(
        "sub-workflows nest deeper than 5 levels (main → w1 → w2 → w3 → w4 → w5)"
    )
    assert [slug for slug, _ in library.loaded] == ["w1", "w2", "w3", "w4"]
