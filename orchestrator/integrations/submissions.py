"""Cases submitted over REST by an integrating client: a case document (demo/cases/*.json) with
optional uploaded slide tiles, idempotent on the accession, and the workflow to start."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from orchestrator.accounts.models import User
from orchestrator.cases.models import Case
from orchestrator.cases.services import CaseDocumentInvalid, create_case, parse_case_document
from orchestrator.designs.models import VersionStatus, Workflow, WorkflowVersion
from orchestrator.runs.models import Run
from orchestrator.runs.services import start_run

UPLOAD_SCHEME = "upload:"
MAX_TILE_BYTES = 64 * 1024 * 1024


class SubmissionConflict(ValueError):
    """The accession is already the case of another patient."""


class NoWorkflow(CaseDocumentInvalid):
    """The workflow to start does not exist in the department, or has no published version
    (the API answers 404 when it is the only problem)."""


@dataclass(frozen=True)
class Submitted:
    case: Case
    created: bool
    run: Run | None


def _uploads(document: dict[str, Any], files: list[Any], problems: list[str]) -> None:
    """Every ``upload:<name>`` tile names one uploaded image, and every upload is named once."""
    by_name = {str(f.name): f for f in files}
    used: set[str] = set()
    for index, specimen in enumerate(document.get("specimens") or []):
        for t_index, tile in enumerate(
            specimen.get("tiles") or [] if isinstance(specimen, dict) else []
        ):
            uri = str(tile.get("uri", "")) if isinstance(tile, dict) else ""
            if not uri.startswith(UPLOAD_SCHEME):
                continue
            name = uri[len(UPLOAD_SCHEME) :]
            where = f"specimens[{index}].tiles[{t_index}].uri"
            if name not in by_name:
                problems.append(f"{where}: no uploaded file named {name!r}")
                continue
            used.add(name)
            upload = by_name[name]
            if (upload.size or 0) > MAX_TILE_BYTES:
                problems.append(f"{where}: {name} is larger than {MAX_TILE_BYTES} bytes")
                continue
            try:
                with Image.open(upload) as image:
                    image.verify()
            except (UnidentifiedImageError, OSError):
                problems.append(f"{where}: {name} is not a readable image")
            upload.seek(0)
    for name in sorted(set(by_name) - used):
        problems.append(f"files: {name} is uploaded but no tile names upload:{name}")


def _workflow_version(user: User, case_type: str, slug: str | None) -> WorkflowVersion:
    workflows = Workflow.objects.filter(department=user.department)
    if slug:
        chosen = list(workflows.filter(slug=slug))
        if not chosen:
            raise NoWorkflow([f"workflow: no workflow {slug} in your department"])
    else:
        chosen = list(
            workflows.filter(case_type=case_type, versions__status="published").distinct()
        )
        if not chosen:
            raise NoWorkflow([f"workflow: no workflow is published for {case_type}"])
        if len(chosen) != 1:
            names = ", ".join(sorted(w.slug for w in chosen)) or "none"
            raise CaseDocumentInvalid(
                [f"workflow: name the workflow to start (published for {case_type}: {names})"]
            )
    version = (
        WorkflowVersion.objects.filter(workflow=chosen[0], status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NoWorkflow([f"workflow: {chosen[0].slug} has no published version"])
    return version


def _store_tiles(case_dir: Path, document: dict[str, Any], files: list[Any]) -> None:
    """Write the uploads below TILE_ROOT and point their tiles at them (``file:<path>``)."""
    by_name = {str(f.name): f for f in files}
    root = Path(settings.TILE_ROOT)
    for specimen in document["specimens"]:
        for tile in specimen.get("tiles") or []:
            uri = str(tile.get("uri", ""))
            if not uri.startswith(UPLOAD_SCHEME):
                continue
            upload = by_name[uri[len(UPLOAD_SCHEME) :]]
            content = upload.read()
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", upload.name or "tile")[-80:]
            name = f"{hashlib.sha256(content).hexdigest()[:12]}-{safe}"
            target = case_dir / re.sub(r"[^A-Za-z0-9._-]", "_", specimen["label"]) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            tile["uri"] = f"file:{target.relative_to(root).as_posix()}"


def submit_case(
    user: User,
    document: Any,
    files: list[Any],
    *,
    workflow: str | None = None,
    start: bool = True,
) -> Submitted:
    """Create the case (or return the existing one with the same accession and MRN) and start
    its workflow. Raises CaseDocumentInvalid with every problem (NoWorkflow when the workflow
    to start is the only one), or SubmissionConflict."""
    assert user.department is not None
    fields = parse_case_document(document)
    existing = Case.objects.filter(
        department=user.department, accession=fields["accession"]
    ).first()
    if existing is not None:
        if existing.patient_mrn != fields["patient_mrn"]:
            raise SubmissionConflict(
                f"accession {fields['accession']} is already the case of another patient"
            )
        return Submitted(existing, False, existing.runs.order_by("-pk").first())
    problems: list[str] = []
    _uploads(document, files, problems)
    version = None
    missing: NoWorkflow | None = None
    if start:
        try:
            version = _workflow_version(user, fields["case_type"], workflow)
        except NoWorkflow as exc:
            missing = exc
        except CaseDocumentInvalid as exc:
            problems += exc.problems
    if problems:
        raise CaseDocumentInvalid(problems + (missing.problems if missing else []))
    if missing is not None:
        raise missing
    case_dir = (
        Path(settings.TILE_ROOT)
        / user.department.code
        / re.sub(r"[^A-Za-z0-9._-]", "_", fields["accession"])
    )
    _store_tiles(case_dir, document, files)
    with transaction.atomic():
        case = create_case(user.department, document, source="rest")
        run = start_run(case, version, requested_by=user) if version is not None else None
    return Submitted(case, True, run)
