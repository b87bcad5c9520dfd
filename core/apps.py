from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Framework glue every app may use (API and admin base classes, schema helpers, roles, scoping).
    It imports no app of the project."""

    name = "core"
    verbose_name = "Core"
