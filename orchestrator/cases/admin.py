from django.contrib import admin

from orchestrator.cases.models import Case, Specimen


class SpecimenInline(admin.TabularInline[Specimen, Case]):
    model = Specimen
    extra = 0


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ("accession", "case_type", "department", "source", "created_at")
    list_filter = ("department", "case_type", "source")
    search_fields = ("accession",)
    inlines = [SpecimenInline]
