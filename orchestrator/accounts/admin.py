from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from orchestrator.accounts.models import Department, User


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("code", "name", "hospital_name")


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "display_name", "department", "role", "is_staff")
    list_filter = ("department", "role", "is_staff")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Pathflow", {"fields": ("department", "role", "display_name")}),
    )
