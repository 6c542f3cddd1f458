from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orchestrator.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from orchestrator.accounts.signals import audit_lockout

        user_locked_out.connect(audit_lockout, dispatch_uid="pathflow-audit-lockout")
