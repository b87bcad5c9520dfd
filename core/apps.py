from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Framework glue every app may use (API and admin base classes, schema helpers, roles, scoping).
    It imports no app of the project."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from core.logging import forget_request_id

        request_finished.connect(forget_request_id, dispatch_uid="core.logging.forget_request_id")
