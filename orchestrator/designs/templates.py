"""Report template versions: one draft per template, publish, new drafts, diffs, import/export.

A template's versions are numbered 1, 2, ...; at most one is a *draft* (editable, always the
highest number) and the others are *published* (frozen: ``FrozenWhenPublished`` refuses edits,
runs and reports pin them). Every change is validated first, refusing a broken dataset or layout
with every problem listed (``TemplateInvalid``), and recorded as an ``AuditEvent``.

A version on disk is a folder: ``dataset.json``, optional ``layout.html.j2`` and ``layout.css``
(an expert's custom layout) or ``layout.json`` (the designer's declarative layout), and a
``template.json`` manifest (``schema_version``, ``slug``, ``name``, ``version``, ``status``)
written by ``export_version``. The library folders in ``templates/`` have no
manifest; the slug then comes from ``dataset.json`` or the folder name. Importing a folder:
- identical to the latest version → that version is reused (a draft is published when asked);
- otherwise → a new version, or, when importing as a draft while a draft exists, the draft's
  content is replaced; importing to publish while a different draft exists is refused, so an
  admin's unpublished work is never overwritten silently;
- a manifest ``schema_version`` newer or older than this code reads → a warning in the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from orchestrator.accounts.models import Department, User
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.designs.models import ReportTemplate, TemplateVersion, VersionStatus
from orchestrator.reports.layout_spec import layout_spec_problems
from workflows.dataset_diff import DatasetDiff, diff_datasets
from workflows.datasets import (
    SLUG_PATTERN,
    Dataset,
    DatasetInvalid,
    FieldProblem,
    findings_problems,
    parse_dataset,
)
from workflows.expressions import TOO_DEEP

TEMPLATE_MANIFEST_VERSION = 1
MANIFEST_FILE = "template.json"
DATASET_FILE = "dataset.json"
LAYOUT_FILE = "layout.html.j2"
CSS_FILE = "layout.css"
LAYOUT_SPEC_FILE = "layout.json"
# A layout is a page of HTML and CSS; anything far larger is a mistake (or an attack on the
# renderer), and is refused when saved rather than when a report is due.
MAX_LAYOUT_CHARS = 200_000
_SYNTAX = ImmutableSandboxedEnvironment(autoescape=True)


class TemplateInvalid(ValueError):
    """A template change refused; ``problems`` lists every reason, each naming what to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class TemplateContent:
    """What a version holds: the dataset definition, an optional custom layout (HTML + CSS)
    and an optional declarative layout spec (see orchestrator/reports/layout_spec.py)."""

    dataset: dict[str, Any]
    layout_html: str = ""
    layout_css: str = ""
    layout_spec: dict[str, Any] | None = None

    @classmethod
    def of(cls, version: TemplateVersion) -> TemplateContent:
        return cls(version.dataset, version.layout_html, version.layout_css, version.layout_spec)

    def fields(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "layout_html": self.layout_html,
            "layout_css": self.layout_css,
            "layout_spec": self.layout_spec,
        }


@dataclass(frozen=True)
class ImportResult:
    version: TemplateVersion
    # "created", "reused", "draft replaced" or "draft published"
    outcome: str
    warnings: tuple[str, ...] = ()

    @property
    def created(self) -> bool:
        return self.outcome == "created"


@dataclass(frozen=True)
class VersionDiff:
    old: int
    new: int
    dataset: DatasetDiff
    layout_changed: bool = False
    css_changed: bool = False
    layout_spec_changed: bool = False

    def summary(self) -> list[str]:
        lines = [line for line in self.dataset.summary() if line != "no changes"]
        lines += ["the custom layout (layout.html.j2) changed"] if self.layout_changed else []
        lines += ["the layout CSS (layout.css) changed"] if self.css_changed else []
        lines += ["the designed layout (layout.json) changed"] if self.layout_spec_changed else []
        return lines or ["no changes"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            **self.dataset.as_dict(),
            "layout_changed": self.layout_changed,
            "css_changed": self.css_changed,
            "layout_spec_changed": self.layout_spec_changed,
            "summary": self.summary(),
        }


# --- checks -------------------------------------------------------------------------------------


def layout_problems(layout_html: str, layout_css: str) -> list[str]:
    problems = []
    for name, text in ((LAYOUT_FILE, layout_html), (CSS_FILE, layout_css)):
        if len(text) > MAX_LAYOUT_CHARS:
            problems.append(f"{name}: {len(text):,} characters; at most {MAX_LAYOUT_CHARS:,}")
    if layout_html:
        try:
            _SYNTAX.parse(layout_html)
        except TemplateSyntaxError as exc:
            problems.append(f"{LAYOUT_FILE} line {exc.lineno}: {exc.message}")
        except RecursionError:  # e.g. thousands of nested parentheses
            problems.append(f"{LAYOUT_FILE}: {TOO_DEEP}")
    return problems


def valid_slug(slug: object) -> bool:
    return isinstance(slug, str) and bool(SLUG_PATTERN.match(slug))


def check_content(content: TemplateContent, slug: str | None = None) -> Dataset:
    """The parsed dataset; raises TemplateInvalid with every problem of the dataset and layout
    (and a dataset slug that is not ``slug``, the template it is saved to)."""
    problems: list[str] = []
    dataset: Dataset | None = None
    if slug is not None and not valid_slug(slug):
        # The slug names the template's library folder (its assets): never a path.
        problems.append(f"slug {slug!r}: use letters, digits, hyphens and underscores only")
    try:
        dataset = parse_dataset(content.dataset)
    except DatasetInvalid as exc:
        problems.extend(f"{DATASET_FILE}: {p}" for p in exc.problems)
    if dataset and slug and dataset.slug and dataset.slug != slug:
        problems.append(f"{DATASET_FILE}: slug {dataset.slug!r} is not this template's {slug!r}")
    problems.extend(layout_problems(content.layout_html, content.layout_css))
    if content.layout_spec is not None:
        if content.layout_html:
            problems.append(
                f"{LAYOUT_SPEC_FILE}: a version has a designed layout or a custom "
                f"{LAYOUT_FILE}, not both"
            )
        if dataset is not None:
            problems.extend(layout_spec_problems(content.layout_spec, dataset))
    if problems or dataset is None:
        raise TemplateInvalid(problems)
    return dataset


def findings_problems_for(
    version: TemplateVersion, values: dict[str, Any], *, complete: bool
) -> list[FieldProblem]:
    """Every problem of filled values against a version (see workflows.datasets)."""
    return findings_problems(parse_dataset(version.dataset), values, complete=complete)


# --- versions -----------------------------------------------------------------------------------


def draft_of(template: ReportTemplate) -> TemplateVersion | None:
    return template.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()


def _next_number(template: ReportTemplate) -> int:
    return int(template.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _locked(template: ReportTemplate) -> ReportTemplate:
    """Serialise changes to one template's versions (numbering, the one-draft rule)."""
    return ReportTemplate.objects.select_for_update().get(pk=template.pk)


def _audit(
    action: AuditAction, version: TemplateVersion, user: User | None, via: str = "", **detail: Any
) -> None:
    template = version.template
    record_event(
        action,
        version,
        actor=user,
        actor_label="" if user else (via or "system"),
        department=template.department,
        slug=template.slug,
        number=version.number,
        **detail,
    )


def create_template(
    department: Department,
    slug: str,
    name: str,
    content: TemplateContent,
    *,
    user: User | None = None,
) -> TemplateVersion:
    """A new template with its first draft (v1); refuses a slug the department already uses."""
    check_content(content, slug)
    with transaction.atomic():
        if ReportTemplate.objects.filter(department=department, slug=slug).exists():
            raise TemplateInvalid([f"template {slug!r} already exists in this department"])
        template = ReportTemplate.objects.create(department=department, slug=slug, name=name)
        version = TemplateVersion.objects.create(
            template=template, number=1, created_by=user, **content.fields()
        )
        _audit(AuditAction.TEMPLATE_CREATED, version, user)
    return version


def save_draft(
    template: ReportTemplate, content: TemplateContent, *, user: User | None = None
) -> tuple[TemplateVersion, bool]:
    """Create the template's draft, or replace the content of the one it has. Returns the draft
    and whether it was created."""
    check_content(content, template.slug)
    with transaction.atomic():
        template = _locked(template)
        draft = draft_of(template)
        created = draft is None
        if draft is None:
            draft = TemplateVersion(
                template=template, number=_next_number(template), created_by=user
            )
        for key, value in content.fields().items():
            setattr(draft, key, value)
        draft.save()
        _audit(AuditAction.TEMPLATE_DRAFT_SAVED, draft, user, created=created)
    return draft, created


def publish_version(version: TemplateVersion, *, user: User | None = None) -> TemplateVersion:
    """Publish a draft: from now on it is frozen and workflows and runs may pin it."""
    if version.status != VersionStatus.DRAFT:
        raise TemplateInvalid([f"{version} is already published"])
    check_content(TemplateContent.of(version), version.template.slug)
    with transaction.atomic():
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
        _audit(AuditAction.TEMPLATE_PUBLISHED, version, user)
    return version


def new_draft_from(version: TemplateVersion, *, user: User | None = None) -> TemplateVersion:
    """Start a draft with the content of ``version`` (usually a published one)."""
    with transaction.atomic():
        template = _locked(version.template)
        if existing := draft_of(template):
            raise TemplateInvalid(
                [f"template {template.slug!r} already has a draft (v{existing.number}); "
                 "edit, publish or discard it first"]
            )  # fmt: skip
        draft = TemplateVersion.objects.create(
            template=template,
            number=_next_number(template),
            created_by=user,
            **TemplateContent.of(version).fields(),
        )
        _audit(AuditAction.TEMPLATE_DRAFT_CREATED, draft, user, from_version=version.number)
    return draft


def discard_draft(version: TemplateVersion, *, user: User | None = None) -> None:
    """Delete a draft nothing refers to yet (a workflow version may pin a draft)."""
    if version.status != VersionStatus.DRAFT:
        raise TemplateInvalid([f"{version} is published; published versions are never deleted"])
    if version.workflow_versions.exists():
        raise TemplateInvalid([f"{version} is used by a workflow version and cannot be discarded"])
    try:
        with transaction.atomic():
            _audit(AuditAction.TEMPLATE_DRAFT_DISCARDED, version, user)
            version.delete()
    except ProtectedError:
        raise TemplateInvalid(
            [f"{version} has test runs or reports that refer to it and cannot be discarded"]
        ) from None


def diff_versions(old: TemplateVersion, new: TemplateVersion) -> VersionDiff:
    return VersionDiff(
        old=old.number,
        new=new.number,
        dataset=diff_datasets(parse_dataset(old.dataset), parse_dataset(new.dataset)),
        layout_changed=old.layout_html != new.layout_html,
        css_changed=old.layout_css != new.layout_css,
        layout_spec_changed=old.layout_spec != new.layout_spec,
    )


# --- files --------------------------------------------------------------------------------------


def manifest(version: TemplateVersion) -> dict[str, Any]:
    return {
        "schema_version": TEMPLATE_MANIFEST_VERSION,
        "slug": version.template.slug,
        "name": version.template.name,
        "version": version.number,
        "status": version.status,
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }


def export_version(
    version: TemplateVersion, folder: Path, *, user: User | None = None, via: str = ""
) -> list[Path]:
    """Write ``version`` to ``folder`` (created if needed) and return the files written. A
    folder holding anything but an earlier export is refused rather than mixed into. ``via``
    names a system actor (e.g. the CLI) in the audit trail when there is no user."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST_FILE).exists():
        raise TemplateInvalid(
            [f"{folder} is not empty and holds no {MANIFEST_FILE}; export to a new folder"]
        )
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        DATASET_FILE: json.dumps(version.dataset, ensure_ascii=False, indent=2) + "\n",
        LAYOUT_FILE: version.layout_html,
        CSS_FILE: version.layout_css,
        LAYOUT_SPEC_FILE: (
            json.dumps(version.layout_spec, ensure_ascii=False, indent=2) + "\n"
            if version.layout_spec is not None
            else ""
        ),
        MANIFEST_FILE: json.dumps(manifest(version), ensure_ascii=False, indent=2) + "\n",
    }
    written = []
    for name, text in files.items():
        path = folder / name
        if text:
            path.write_text(text, encoding="utf-8", newline="")
            written.append(path)
        else:
            # A layout left over from an earlier export would be imported with this version.
            path.unlink(missing_ok=True)
    _audit(AuditAction.TEMPLATE_EXPORTED, version, user, via, files=[p.name for p in written])
    return written


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror})")
    except ValueError as exc:
        problems.append(f"{path}: is not valid JSON ({exc})")
    return None


def _manifest_warnings(data: dict[str, Any], path: Path) -> list[str]:
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        return [f"{path}: no integer schema_version; read as {TEMPLATE_MANIFEST_VERSION}"]
    if version > TEMPLATE_MANIFEST_VERSION:
        return [
            f"{path}: schema_version {version} is newer than this Pathflow reads "
            f"({TEMPLATE_MANIFEST_VERSION}); fields it does not know were ignored"
        ]
    if version < TEMPLATE_MANIFEST_VERSION:
        return [
            f"{path}: schema_version {version} is older than this Pathflow writes "
            f"({TEMPLATE_MANIFEST_VERSION}); read as {TEMPLATE_MANIFEST_VERSION}"
        ]
    return []


def _read_text(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


@dataclass
class TemplateFolder:
    slug: str
    name: str
    content: TemplateContent
    warnings: list[str] = field(default_factory=list)


def read_template_dir(folder: Path) -> TemplateFolder:
    """Read and check a template folder; raises TemplateInvalid listing every problem."""
    problems: list[str] = []
    warnings: list[str] = []
    if not folder.is_dir():
        raise TemplateInvalid([f"{folder}: is not a folder"])
    data: dict[str, Any] = {}
    if (folder / MANIFEST_FILE).exists():
        loaded = _read_json(folder / MANIFEST_FILE, problems)
        if isinstance(loaded, dict):
            data = loaded
            warnings.extend(_manifest_warnings(data, folder / MANIFEST_FILE))
        elif loaded is not None:
            problems.append(f"{folder / MANIFEST_FILE}: must be a JSON object")
    dataset = _read_json(folder / DATASET_FILE, problems)
    texts = {}
    for name in (LAYOUT_FILE, CSS_FILE):
        path = folder / name
        try:
            # newline="": a layout's CRLF line ends survive an export/import round trip.
            texts[name] = _read_text(path) if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot be read as UTF-8 text ({exc})")
            texts[name] = ""
    spec = None
    if (folder / LAYOUT_SPEC_FILE).exists():
        spec = _read_json(folder / LAYOUT_SPEC_FILE, problems)
    if problems:
        raise TemplateInvalid(problems)
    content = TemplateContent(dataset, texts[LAYOUT_FILE], texts[CSS_FILE], spec)
    dataset_slug = dataset.get("slug") if isinstance(dataset, dict) else None
    slug = str(dataset_slug or data.get("slug") or folder.name)
    if data.get("slug") and dataset_slug and data["slug"] != dataset_slug:
        problems.append(
            f"{folder / MANIFEST_FILE}: slug {data['slug']!r} differs from the dataset's "
            f"slug {dataset_slug!r}"
        )
    try:
        parsed = check_content(content, slug)
    except TemplateInvalid as exc:
        raise TemplateInvalid(problems + exc.problems) from None
    if problems:
        raise TemplateInvalid(problems)
    name = str(data.get("name") or parsed.title["en"])
    return TemplateFolder(slug, name, content, warnings)


def _import_into(
    template: ReportTemplate, content: TemplateContent, user: User | None, publish: bool
) -> tuple[TemplateVersion, str]:
    latest = template.versions.order_by("-number").first()
    identical = latest is not None and TemplateContent.of(latest) == content
    if latest is not None and identical:
        if publish and latest.status == VersionStatus.DRAFT:
            return publish_version(latest, user=user), "draft published"
        return latest, "reused"
    draft = draft_of(template)
    if draft is not None and publish:
        raise TemplateInvalid(
            [f"template {template.slug!r} has an unpublished draft (v{draft.number}) that "
             "differs from this folder; import it as a draft to replace the draft, or publish "
             "or discard the draft first"]
        )  # fmt: skip
    if draft is not None:
        return save_draft(template, content, user=user)[0], "draft replaced"
    version = TemplateVersion.objects.create(
        template=template,
        number=_next_number(template),
        created_by=user,
        status=VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT,
        published_at=timezone.now() if publish else None,
        **content.fields(),
    )
    return version, "created"


def import_template_folder(
    department: Department,
    folder: Path,
    *,
    user: User | None = None,
    publish: bool = True,
    via: str = "",
) -> ImportResult:
    """Import ``folder`` as the next version of its template in ``department`` (see the module
    docstring for reuse, drafts and warnings); raises TemplateInvalid listing every problem."""
    read = read_template_dir(folder)
    with transaction.atomic():
        template, _ = ReportTemplate.objects.get_or_create(
            department=department, slug=read.slug, defaults={"name": read.name}
        )
        version, outcome = _import_into(_locked(template), read.content, user, publish)
        if outcome != "reused":
            _audit(
                AuditAction.TEMPLATE_IMPORTED,
                version,
                user,
                via,
                outcome=outcome,
                folder=folder.name,
            )
    return ImportResult(version, outcome, tuple(read.warnings))


def import_template_dir(
    department: Department, folder: Path, *, user: User | None = None, publish: bool = True
) -> TemplateVersion:
    """The version for ``folder`` (created, or an identical latest one reused)."""
    return import_template_folder(department, folder, user=user, publish=publish).version
