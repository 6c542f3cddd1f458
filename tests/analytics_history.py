"""A seeded history for the analytics tests and the dashboard's browser test: cases of two case
types received over four days (Mon 2 – Thu 5 November 2026, UTC), their runs, the AI drafts
with model provenance, overrides at review, sign-outs (one recalled and signed again) and
deliveries, each at a chosen time.

``HISTORY`` is the plan, readable by hand; the tests' expected figures are worked out from it
in the tests themselves (not by calling the analytics code).

    case  type       received   draft   signed (live)   delivered  AI value → signed
    R1    resection  D1 08:00   08:30   D1 10:00        D1 10:10   ki67 20.0 (ihc v1) → 20.0
    R2    resection  D1 09:00   09:20   D2 09:00        D2 09:05   ki67 35.0 (ihc v1) → 30.0
    R3    resection  D2 08:00   08:40   D2 12:00        failed     ki67 50.0 (ihc v2) → cleared
    R4    resection  D3 08:00   09:00   —               —          ki67 10.0 (ihc v2), waiting
    R5    resection  D3 10:00   —       —               —          run failed D3 10:05
    F1    fna        D1 11:00   11:10   D1 12:10        D1 12:20   p 92.5 (fna v3) → 92.5
    F2    fna        D2 10:00   10:15   D3 08:15        D3 08:45   p 12.0 → 15.0 → 12.0
    F3    fna        D3 09:00   09:05   D4 09:00        D4 09:10   p 70.0 → 70.0 (the sign-out
                                                                   of D3 09:30 was recalled)

Also a sample case with a test run (never counted) and a case of another department.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from orchestrator.accounts.models import Department, User
from orchestrator.cases.models import Case
from orchestrator.catalog.models import ModelEndpoint
from orchestrator.demo_data import DemoData
from orchestrator.designs.models import WorkflowVersion
from orchestrator.integrations.outbox_models import Delivery, DeliveryStatus
from orchestrator.reports.models import FieldOverride, Report, ReportSignature, ReportStatus
from orchestrator.runs.models import Run, RunStatus

RESECTION, FNA = "breast-resection", "breast-fna"
KI67, FNA_P = "ki67_index", "fna_malignancy_probability"
FIRST_DAY = "2026-11-02"
LAST_DAY = "2026-11-05"


def at(day: int, hhmm: str) -> datetime:
    """Day ``day`` (1 = Monday 2 November 2026) at ``hhmm`` UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, 1 + day, hours, minutes, tzinfo=UTC)


@dataclass(frozen=True)
class Model:
    endpoint: str
    model_name: str
    version: str


IHC_V1 = Model("ihc-dab", "ihc-dab", "1")
IHC_V2 = Model("ihc-dab", "ihc-dab", "2")
FNA_V3 = Model("breast-fna", "fna-logreg", "3")


@dataclass(frozen=True)
class Planned:
    accession: str
    case_type: str
    received: datetime
    draft: datetime | None = None
    ai_value: float | None = None
    model: Model | None = None
    # (at, new value) in order; None clears the field.
    overrides: tuple[tuple[datetime, float | None], ...] = ()
    signed: datetime | None = None
    recalled_sign_out: datetime | None = None
    # destination slug → (status, delivered at or None); deliveries are queued at sign-out.
    deliveries: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    failed_at: datetime | None = None


D = DeliveryStatus
HISTORY: tuple[Planned, ...] = (
    Planned("R1", RESECTION, at(1, "08:00"), at(1, "08:30"), 20.0, IHC_V1,
            signed=at(1, "10:00"), deliveries={"lis": (D.DELIVERED, at(1, "10:10"))}),
    Planned("R2", RESECTION, at(1, "09:00"), at(1, "09:20"), 35.0, IHC_V1,
            overrides=((at(1, "16:00"), 30.0),),
            signed=at(2, "09:00"), deliveries={"lis": (D.DELIVERED, at(2, "09:05"))}),
    Planned("R3", RESECTION, at(2, "08:00"), at(2, "08:40"), 50.0, IHC_V2,
            overrides=((at(2, "11:00"), None),),
            signed=at(2, "12:00"), deliveries={"lis": (D.FAILED, None)}),
    Planned("R4", RESECTION, at(3, "08:00"), at(3, "09:00"), 10.0, IHC_V2),
    Planned("R5", RESECTION, at(3, "10:00"), failed_at=at(3, "10:05")),
    Planned("F1", FNA, at(1, "11:00"), at(1, "11:10"), 92.5, FNA_V3,
            signed=at(1, "12:10"), deliveries={"lis": (D.DELIVERED, at(1, "12:20"))}),
    Planned("F2", FNA, at(2, "10:00"), at(2, "10:15"), 12.0, FNA_V3,
            overrides=((at(3, "08:00"), 15.0), (at(3, "08:10"), 12.0)),
            signed=at(3, "08:15"),
            deliveries={"lis": (D.DELIVERED, at(3, "08:45")), "his": (D.STOPPED, None)}),
    Planned("F3", FNA, at(3, "09:00"), at(3, "09:05"), 70.0, FNA_V3,
            recalled_sign_out=at(3, "09:30"),
            signed=at(4, "09:00"), deliveries={"lis": (D.DELIVERED, at(4, "09:10"))}),
)  # fmt: skip


@dataclass
class Seeder:
    demo: DemoData
    signer: User
    destinations: dict[str, ModelEndpoint] = field(default_factory=dict)
    keys: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def workflow(self, case_type: str) -> WorkflowVersion:
        return (
            self.demo.workflow_version if case_type == RESECTION else self.demo.fna_workflow_version
        )

    def case(self, department: Department, accession: str, case_type: str, received: datetime,
             source: str = "rest") -> Case:  # fmt: skip
        case = Case.objects.create(
            department=department,
            accession=accession,
            case_type=case_type,
            patient_name="Seeded Patient",
            patient_mrn=f"MRN-{accession}",
            source=source,
        )
        Case.objects.filter(pk=case.pk).update(created_at=received)
        return case

    def run(self, case: Case, created: datetime, status: str, finished: datetime | None,
            is_test: bool = False) -> Run:  # fmt: skip
        version = self.workflow(case.case_type)
        run = Run.objects.create(
            case=case,
            workflow_version=version,
            template_version=version.template_version,
            status=status,
            is_test=is_test,
            started_at=created,
            finished_at=finished,
            error="node fna: endpoint timed out" if status == RunStatus.FAILED else "",
        )
        Run.objects.filter(pk=run.pk).update(created_at=created)
        return run

    def draft(self, run: Run, plan: Planned, created: datetime) -> Report:
        element = KI67 if plan.case_type == RESECTION else FNA_P
        assert plan.model is not None
        source = {
            "kind": "model",
            "node": "ihc" if plan.case_type == RESECTION else "fna",
            "endpoint": plan.model.endpoint,
            "model_name": plan.model.model_name,
            "model_version": plan.model.version,
            "run": str(run.pk),
        }
        report = Report.objects.create(
            case=run.case,
            run=run,
            template_version=run.template_version,
            version_no=1,
            status=ReportStatus.DRAFT,
            language="en",
            # A value from the lab's findings (provenance "case"): never counted as the AI's.
            data={element: plan.ai_value, "procedure": "core biopsy"},
            provenance={element: [source], "procedure": [{"kind": "case", "run": str(run.pk)}]},
        )
        Report.objects.filter(pk=report.pk).update(created_at=created)
        return report

    def override(self, draft: Report, element: str, value: float | None, moment: datetime) -> None:
        """What ``lifecycle.override_field`` stores: the change and the provenance before it."""
        draft.refresh_from_db()
        old_value, old_provenance = draft.data.get(element), draft.provenance.get(element)
        data = {k: v for k, v in draft.data.items() if k != element}
        if value is not None:
            data[element] = value
        person = {"kind": "person", "user": self.signer.pk, "at": moment.isoformat()}
        draft.data, draft.provenance = data, {**draft.provenance, element: [person]}
        draft.save(update_fields=["data", "provenance"])
        FieldOverride.objects.create(
            report=draft,
            element=element,
            old_value=old_value,
            new_value=value,
            old_provenance=old_provenance,
            user=self.signer,
            at=moment,
        )

    def sign(self, base: Report, version_no: int, moment: datetime, recalled: bool) -> Report:
        signed = Report.objects.create(
            case=base.case,
            run=base.run,
            template_version=base.template_version,
            version_no=version_no,
            status=ReportStatus.FINAL,
            supersedes=base,
            language=base.language,
            data=base.data,
            provenance=base.provenance,
            author=self.signer,
            signed_by=self.signer,
            signed_at=moment,
        )
        ReportSignature.objects.create(
            report=signed,
            signer=self.signer,
            signed_at=moment,
            pdf_sha256="0" * 64,
            recall_until=moment + timedelta(minutes=5),
            recalled_at=moment + timedelta(minutes=1) if recalled else None,
            recalled_by=self.signer if recalled else None,
        )
        return signed

    def deliver(self, report: Report, slug: str, queued: datetime, status: str,
                delivered: datetime | None) -> None:  # fmt: skip
        destination = self.destinations[slug]
        key = next(self.keys)
        Delivery.objects.create(
            department=report.case.department,
            destination=destination,
            channel=destination.protocol,
            report=report,
            event="report.signed",
            idempotency_key=f"seed-{key}",
            control_id=f"SEED{key}",
            status=status,
            attempts=1,
            queued_at=queued,
            next_attempt_at=queued,
            delivered_at=delivered,
            last_error="HTTP 500" if status in (D.FAILED, D.STOPPED) else "",
        )

    def plant(self, plan: Planned) -> Case:
        case = self.case(self.demo.department, plan.accession, plan.case_type, plan.received)
        if plan.failed_at is not None:
            self.run(case, plan.received, RunStatus.FAILED, plan.failed_at)
            return case
        state = RunStatus.SUCCEEDED if plan.signed else RunStatus.WAITING_REVIEW
        run = self.run(case, plan.received, state, plan.signed)
        assert plan.draft is not None
        draft = self.draft(run, plan, plan.draft)
        element = KI67 if plan.case_type == RESECTION else FNA_P
        for moment, value in plan.overrides:
            self.override(draft, element, value, moment)
        draft.refresh_from_db()
        base, version_no = draft, 2
        if plan.recalled_sign_out is not None:
            recalled = self.sign(draft, version_no, plan.recalled_sign_out, recalled=True)
            self.deliver(recalled, "lis", plan.recalled_sign_out, D.WITHDRAWN, None)
            base = Report.objects.create(
                case=case,
                run=run,
                template_version=draft.template_version,
                version_no=3,
                status=ReportStatus.DRAFT,
                supersedes=recalled,
                data=recalled.data,
                provenance=recalled.provenance,
                author=self.signer,
            )
            version_no = 4
        if plan.signed is not None:
            signed = self.sign(base, version_no, plan.signed, recalled=False)
            for slug, (status, delivered) in plan.deliveries.items():
                self.deliver(signed, slug, plan.signed, status, delivered)
        return case


def seed_history(demo: DemoData, signer: User, other: Department | None = None) -> list[Case]:
    """Plant ``HISTORY`` in the demo department (plus what must never be counted)."""
    seeder = Seeder(demo, signer)
    for slug, protocol in (("lis", "webhook"), ("his", "hl7_mllp")):
        seeder.destinations[slug] = ModelEndpoint.objects.create(
            department=demo.department,
            slug=f"{slug}-seed",
            name=slug.upper(),
            protocol=protocol,
            base_url="http://127.0.0.1:9/results",
            timeout_s=2.0,
        )
    cases = [seeder.plant(plan) for plan in HISTORY]
    # A designer's test run on a sample case: a draft in the range, never counted.
    sample = seeder.case(demo.department, "TEST-S1", RESECTION, at(2, "08:00"), source="sample")
    test_run = seeder.run(sample, at(2, "08:00"), RunStatus.SUCCEEDED, at(2, "08:05"), True)
    seeder.draft(test_run, Planned("TEST-S1", RESECTION, at(2, "08:00"), None, 99.0, IHC_V1),
                 at(2, "08:05"))  # fmt: skip
    if other is not None:
        # Another department's received case: never in our figures.
        seeder.case(other, "OTHER-1", RESECTION, at(1, "08:00"))
    return cases
