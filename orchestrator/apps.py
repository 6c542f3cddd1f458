from django.apps import AppConfig


class OrchestratorConfig(AppConfig):
    name = "orchestrator"
    label = "orchestrator"

    def ready(self) -> None:
        import django_stubs_ext
        from rest_framework import serializers, viewsets

        django_stubs_ext.monkeypatch(
            extra_classes=[serializers.ModelSerializer, viewsets.ReadOnlyModelViewSet]
        )

        from orchestrator.serializer_fields import install_strict_json_types

        install_strict_json_types()
