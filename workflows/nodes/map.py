"""Call a model once per item of a list (a case's specimens, a specimen's tiles), concurrently.

The embedded ``call`` is a model-call config; its expressions read ``item`` and ``index`` next
to ``case`` and ``nodes``. Results come back in item order. With ``on_item_error: skip`` a
failed item leaves ``None`` in ``results`` and an entry in ``errors``; the node still fails
when every item failed, because an all-empty result would look like a case with nothing to
report. Each item's call carries its own idempotency key ``<run>:<node>:<index>``.

``regions`` records, per item, the whole-slide region its pixels came from (the item's ``uri``,
``region`` and ``level`` when it references a slide region, else ``None``), so what a model
said about an item (e.g. the nuclei it counted) can be placed on the slide later from the
run's record alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows.context import RunContext
from workflows.errors import NodeError
from workflows.expressions import evaluate, is_undefined
from workflows.nodes.model_call import call_model, call_problems, call_schema, protocol_schema
from workflows.ports import PortType
from workflows.protocols import PROTOCOLS
from workflows.registry import NodeType, Port, register

DEFAULT_MAX_ITEMS = 50
DEFAULT_CONCURRENCY = 4


@dataclass
class ItemContext(RunContext):
    """A run context whose expressions also see the current ``item`` and its ``index``."""

    item: Any = None
    index: int = 0

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "item": self.item, "index": self.index}


def item_context(context: RunContext, item: Any, index: int) -> ItemContext:
    shared = {f.name: getattr(context, f.name) for f in dataclasses.fields(context) if f.init}
    shared.pop("item", None)
    shared.pop("index", None)
    return ItemContext(**shared, item=item, index=index)


def _region_of(item: Any) -> dict[str, Any] | None:
    """Where a slide-region item's pixels come from (``uri``, ``region``, ``level``)."""
    if not isinstance(item, dict) or not str(item.get("uri", "")).startswith("slide:"):
        return None
    return {"uri": item["uri"], "region": item.get("region"), "level": item.get("level", 0)}


def _schema(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "call"],
        "properties": {
            "items": {
                "type": "string",
                "minLength": 1,
                "title": "Items",
                "description": "expression giving a list, e.g. case.specimens[0].tiles",
            },
            "max_items": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000,
                "default": DEFAULT_MAX_ITEMS,
                "title": "Most items allowed",
                "description": "a case with more items fails the node instead of calling them all",
            },
            "concurrency": {
                "type": "integer",
                "minimum": 1,
                "maximum": 16,
                "default": DEFAULT_CONCURRENCY,
                "title": "Calls at once",
            },
            "on_item_error": {
                "enum": ["fail", "skip"],
                "default": "fail",
                "title": "When an item fails",
                "description": "fail: the node fails; skip: record the item in errors, go on",
            },
            "call": {
                **call,
                "title": "Model call per item",
                "description": "expressions may read item and index, e.g. item.data.features",
            },
        },
        "additionalProperties": False,
    }


@register
class MapItems(NodeType):
    name = "map"
    title = "For each item"
    description = (
        "Calls a model once for each item of a list (e.g. every tile of a specimen), several "
        "at a time, and returns the results in item order."
    )
    config_schema = _schema(call_schema())
    inputs = (Port("in", PortType.ANY, required=True, multiple=True, title="After"),)
    outputs = (
        Port("results", PortType.JSON, title="Result per item"),
        Port("errors", PortType.JSON, title="Items that failed"),
        Port("model", PortType.JSON, title="Endpoint, model and version"),
        Port("items", PortType.JSON, title="When each item ran"),
        Port("regions", PortType.JSON, title="Slide region per item"),
    )

    def schema_for(self, config: dict[str, Any]) -> dict[str, Any]:
        call = config.get("call")
        if isinstance(call, dict) and call.get("protocol") in PROTOCOLS:
            return _schema(protocol_schema(call["protocol"]))
        return self.config_schema

    def config_problems(self, config: dict[str, Any]) -> list[str]:
        return [*super().config_problems(config), *call_problems(config.get("call"), "call.")]

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        call = config.get("call", {})
        protocol = PROTOCOLS.get(call.get("protocol", ""))
        inner = protocol.expressions(call) if protocol else []
        return [("items", config["items"]), *((f"call.{w}", s) for w, s in inner)]

    async def run(
        self, context: RunContext, inputs: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        items = self._items(context, config)
        limit = asyncio.Semaphore(config.get("concurrency", DEFAULT_CONCURRENCY))

        timings: dict[int, dict[str, Any]] = {}

        async def call(index: int, item: Any) -> dict[str, Any]:
            async with limit:
                key = f"{context.run_id}:{context.node_id}:{index}"
                started = datetime.now(UTC)
                try:
                    return await call_model(item_context(context, item, index), config["call"], key)
                finally:
                    finished = datetime.now(UTC)
                    timings[index] = {
                        "index": index,
                        "started_at": started.isoformat(),
                        "finished_at": finished.isoformat(),
                        "duration_ms": round((finished - started).total_seconds() * 1000),
                    }

        tasks = [asyncio.create_task(call(i, item)) for i, item in enumerate(items)]
        try:
            if config.get("on_item_error", "fail") == "fail":
                outcomes = await self._all_or_first_error(tasks)
            else:
                outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()
        outputs = self._outputs(config, outcomes)
        outputs["items"] = [timings[i] for i in sorted(timings)]
        outputs["regions"] = [_region_of(i) for i in items]
        return outputs

    @staticmethod
    def _items(context: RunContext, config: dict[str, Any]) -> list[Any]:
        source = config["items"]
        items = evaluate(source, context.variables())
        if is_undefined(items) or items is None:
            raise NodeError(f"items {source!r} has no value for this case", permanent=True)
        if not isinstance(items, list | tuple):
            raise NodeError(
                f"items {source!r} is a {type(items).__name__}, not a list", permanent=True
            )
        limit = config.get("max_items", DEFAULT_MAX_ITEMS)
        if len(items) > limit:
            raise NodeError(
                f"items {source!r} gives {len(items)} items, more than max_items ({limit})",
                permanent=True,
            )
        return list(items)

    @staticmethod
    async def _all_or_first_error(tasks: list[asyncio.Task[dict[str, Any]]]) -> list[Any]:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in sorted(done, key=tasks.index):
                error = task.exception()
                if isinstance(error, NodeError):
                    raise NodeError(
                        f"item {tasks.index(task)}: {error}", permanent=error.permanent
                    ) from None
                if error is not None:
                    raise error
        return [task.result() for task in tasks]

    @staticmethod
    def _outputs(config: dict[str, Any], outcomes: list[Any]) -> dict[str, Any]:
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        failures: list[NodeError] = []
        model: dict[str, Any] | None = None
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, NodeError):
                results.append(None)
                errors.append({"index": index, "error": str(outcome)})
                failures.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome  # a bug, not an item's failure: the executor reports it
            else:
                results.append(outcome["result"])
                model = model or outcome["model"]
        if failures and len(failures) == len(outcomes):
            raise NodeError(
                f"every item failed ({len(failures)}); item 0: {failures[0]}",
                permanent=all(f.permanent for f in failures),
            )
        if model is None:
            model = {"endpoint": config["call"]["endpoint"], "model_name": "", "model_version": ""}
        return {"results": results, "errors": errors, "model": model}
