"""Reading systemd unit files the way systemd does, for the parts Pathflow's units use:
sections, repeated keys, backslash continuations, ``Environment=`` (shell-like quoting),
``EnvironmentFile=`` (``-`` for optional; later files win, and files win over
``Environment=``), ``${VAR}`` in ``ExecStart=`` and the ``%%`` specifier."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path


class UnitError(AssertionError):
    """A unit file says something this reader (or systemd) would not accept."""


@dataclass(frozen=True)
class Unit:
    name: str
    entries: dict[str, list[tuple[str, str]]]

    def values(self, section: str, key: str) -> list[str]:
        return [value for k, value in self.entries.get(section, []) if k == key]

    def value(self, section: str, key: str) -> str:
        found = self.values(section, key)
        if len(found) != 1:
            raise UnitError(f"{self.name}: [{section}] {key}= appears {len(found)} times")
        return found[0]


def parse_unit(path: Path) -> Unit:
    entries: dict[str, list[tuple[str, str]]] = {}
    section = ""
    logical: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith(("#", ";"))):
            continue
        if line.endswith("\\"):
            logical.append(line[:-1].strip())
            continue
        line = " ".join([*logical, line]).strip()
        logical = []
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            entries.setdefault(section, [])
            continue
        key, equals, value = line.partition("=")
        if not equals or not section:
            raise UnitError(f"{path.name}: cannot read {raw!r}")
        entries[section].append((key.strip(), value.strip()))
    return Unit(path.name, entries)


def read_environment_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        env[key.strip()] = value.strip().strip('"')
    return env


def unit_environment(unit: Unit, files: dict[str, Path]) -> dict[str, str]:
    """The variables the unit's service starts with; ``files`` maps the unit's
    ``EnvironmentFile=`` paths to the files standing in for them."""
    env: dict[str, str] = {}
    for assignments in unit.values("Service", "Environment"):
        for word in shlex.split(assignments):
            key, equals, value = word.partition("=")
            if not equals:
                raise UnitError(f"{unit.name}: Environment={assignments!r}")
            env[key] = value
    for spec in unit.values("Service", "EnvironmentFile"):
        optional, name = spec.startswith("-"), spec.lstrip("-")
        if name in files:
            env.update(read_environment_file(files[name]))
        elif not optional:
            raise UnitError(f"{unit.name}: no file given for EnvironmentFile={name}")
    return env


def command_line(unit: Unit, env: dict[str, str]) -> list[str]:
    """``ExecStart=`` as the argument vector systemd would run."""

    def expand(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise UnitError(f"{unit.name}: ExecStart uses ${{{match.group(1)}}}, never set")
        return env[match.group(1)]

    words = shlex.split(unit.value("Service", "ExecStart"))
    return [re.sub(r"\$\{(\w+)\}", expand, word).replace("%%", "%") for word in words]
