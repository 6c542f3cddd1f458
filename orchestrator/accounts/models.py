"""Departments and users. Every case, design and endpoint belongs to one department."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Department(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    hospital_name = models.CharField(max_length=200, blank=True)
    # Printed in the report letterhead (downscaled for print by the renderer); optional.
    logo = models.ImageField(upload_to="department-logos/", blank=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Department admin"
    PATHOLOGIST = "pathologist", "Pathologist"
    CLINICIAN = "clinician", "Clinician"
    INTEGRATION = "integration", "Integration engineer"
    MODEL_TEAM = "model_team", "Model team"


class User(AbstractUser):
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    display_name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username
