from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "orchestrator.quality"
    label = "quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The golden-case gate on publishing (designs/workflows.py calls its registered checks).
        from orchestrator.designs.workflows import PUBLISH_CHECKS
        from orchestrator.quality.gate import check_golden_cases

        if check_golden_cases not in PUBLISH_CHECKS:
            PUBLISH_CHECKS.append(check_golden_cases)
