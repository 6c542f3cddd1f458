"""Differences between two versions of a report dataset: sections, elements and rules added or
removed, per element which properties changed (label, type, required, unit, range, precision,
visible_if, help, source, measures, section, answers added/removed/relabelled), and per rule
which of its fields changed (kind, elements, check, value, answers, when, message)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workflows.datasets import Dataset, Element, Rule

_COMPARED = (
    "type",
    "label",
    "required",
    "unit",
    "minimum",
    "maximum",
    "precision",
    "visible_if",
    "help",
    "when_hidden",
    "source",
    "measures",
)
_RULE_FIELDS = ("kind", "element", "elements", "check", "value", "answers", "when", "message")
_FIELD_NAMES = {"minimum": "min", "maximum": "max"}


@dataclass(frozen=True)
class Change:
    """One changed property: ``kind`` is ``element``, ``section``, ``rule`` or ``dataset``."""

    kind: str
    id: str
    field: str
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.field in ("answers added", "answers removed"):
            codes = ", ".join(repr(code) for code in (self.after or self.before))
            return f"{self.kind} {self.id!r}: {self.field}: {codes}"
        return (
            f"{self.kind} {self.id!r}: {self.field} changed from {self.before!r} to {self.after!r}"
        )


@dataclass(frozen=True)
class DatasetDiff:
    sections_added: tuple[str, ...] = ()
    sections_removed: tuple[str, ...] = ()
    elements_added: tuple[str, ...] = ()
    elements_removed: tuple[str, ...] = ()
    rules_added: tuple[str, ...] = ()
    rules_removed: tuple[str, ...] = ()
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not (
            self.sections_added
            or self.sections_removed
            or self.elements_added
            or self.elements_removed
            or self.rules_added
            or self.rules_removed
            or self.changes
        )

    def summary(self) -> list[str]:
        """One readable line per change, for an admin deciding whether to publish."""
        lines = [f"section {s!r} added" for s in self.sections_added]
        lines += [f"section {s!r} removed" for s in self.sections_removed]
        lines += [f"element {e!r} added" for e in self.elements_added]
        lines += [f"element {e!r} removed" for e in self.elements_removed]
        lines += [f"rule {r!r} added" for r in self.rules_added]
        lines += [f"rule {r!r} removed" for r in self.rules_removed]
        return lines + [str(change) for change in self.changes] or ["no changes"]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary()}


def _answer_changes(element_id: str, old: Element, new: Element) -> list[Change]:
    before = {a.code: a for a in old.answers}
    after = {a.code: a for a in new.answers}
    changes = []
    if added := [code for code in after if code not in before]:
        changes.append(Change("element", element_id, "answers added", [], added))
    if removed := [code for code in before if code not in after]:
        changes.append(Change("element", element_id, "answers removed", removed, []))
    for code in (c for c in after if c in before):
        for attribute in ("label", "system"):
            was, now = getattr(before[code], attribute), getattr(after[code], attribute)
            if was != now:
                changes.append(
                    Change("element", element_id, f"answer {code!r} {attribute}", was, now)
                )
    return changes


def _element_changes(
    old: Element, new: Element, old_section: str, new_section: str
) -> list[Change]:
    changes = []
    if old_section != new_section:
        changes.append(Change("element", new.id, "section", old_section, new_section))
    for attribute in _COMPARED:
        was, now = getattr(old, attribute), getattr(new, attribute)
        if was != now:
            changes.append(
                Change("element", new.id, _FIELD_NAMES.get(attribute, attribute), was, now)
            )
    return changes + _answer_changes(new.id, old, new)


def _rule_changes(old: Rule, new: Rule) -> list[Change]:
    return [
        Change("rule", new.id, name, getattr(old, name), getattr(new, name))
        for name in _RULE_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]


def diff_datasets(old: Dataset, new: Dataset) -> DatasetDiff:
    """What changed from ``old`` to ``new``: sections and elements added or removed (by id), and
    every changed property of the elements and sections both have."""
    old_sections = {s.id: s for s in old.sections}
    new_sections = {s.id: s for s in new.sections}
    old_elements = {e.id: (e, s.id) for s in old.sections for e in s.elements}
    new_elements = {e.id: (e, s.id) for s in new.sections for e in s.elements}
    changes: list[Change] = []
    if old.title != new.title:
        changes.append(Change("dataset", new.slug or old.slug, "title", old.title, new.title))
    for section_id, section in new_sections.items():
        if section_id in old_sections and old_sections[section_id].title != section.title:
            changes.append(
                Change(
                    "section", section_id, "title", old_sections[section_id].title, section.title
                )
            )
    for element_id, (element, section_id) in new_elements.items():
        if element_id in old_elements:
            was, old_section = old_elements[element_id]
            changes.extend(_element_changes(was, element, old_section, section_id))
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id, rule in new_rules.items():
        if rule_id in old_rules:
            changes.extend(_rule_changes(old_rules[rule_id], rule))
    return DatasetDiff(
        sections_added=tuple(s for s in new_sections if s not in old_sections),
        sections_removed=tuple(s for s in old_sections if s not in new_sections),
        elements_added=tuple(e for e in new_elements if e not in old_elements),
        elements_removed=tuple(e for e in old_elements if e not in new_elements),
        rules_added=tuple(r for r in new_rules if r not in old_rules),
        rules_removed=tuple(r for r in old_rules if r not in new_rules),
        changes=tuple(changes),
    )
