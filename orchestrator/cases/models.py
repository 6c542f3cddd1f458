"""Cases as ordered by the LIS/HIS and their specimens (raw inbound messages live in
``orchestrator.integrations``)."""

from __future__ import annotations

from django.db import models


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "O", "Other"
    UNKNOWN = "U", "Unknown"


class Priority(models.TextChoices):
    """How soon the ordering physician needs the report (HL7 v2 ORC-7 / OBR-27: S, A, R)."""

    STAT = "stat", "Stat"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


# Sorting the review queue: most urgent first.
PRIORITY_RANK = {Priority.STAT: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}


class Case(models.Model):
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="cases"
    )
    accession = models.CharField(max_length=64)
    case_type = models.SlugField(max_length=64)
    patient_name = models.CharField(max_length=200)
    patient_mrn = models.CharField(max_length=64)
    patient_sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    patient_birth_date = models.DateField(null=True, blank=True)
    clinical_info = models.TextField(blank=True)
    ordering_physician = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, default="rest")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    # Answers the lab has already entered (gross and microscopic findings), keyed by the
    # element ids of the report template; a workflow may start its report from them.
    findings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "accession"], name="case_accession_per_dept"
            )
        ]
        # The clinician portal finds a patient's cases by record number.
        indexes = [models.Index(fields=["department", "patient_mrn"], name="case_patient_per_dept")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.accession


class Specimen(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="specimens")
    label = models.CharField(max_length=16)
    site = models.CharField(max_length=200)
    procedure = models.CharField(max_length=200, blank=True)
    # Measurements from the order or the lab (e.g. FNA cytology features) keyed by name.
    data = models.JSONField(default=dict, blank=True)
    # Slide/tile references: [{"uri": "sample:immunohistochemistry", "stain": "Ki-67"}, ...]
    tiles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["case", "label"]
        constraints = [
            models.UniqueConstraint(fields=["case", "label"], name="specimen_label_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case.accession}-{self.label}"
