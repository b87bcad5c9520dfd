from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Framework glue every app may use (API and admin base classes, schema helpers, roles, scoping).
    It imports no app of the project."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun
        from django.core.signals import request_finished
        from simple_history.signals import pre_create_historical_record

        from core.audit import record_change_reason, task_ended, task_started
        from core.logging import forget_request_id

        request_finished.connect(forget_request_id, dispatch_uid="core.logging.forget_request_id")
        # Every Celery task signs its changes with the system user (core.audit).
        task_prerun.connect(task_started, dispatch_uid="core.audit.task_started", weak=False)
        task_postrun.connect(task_ended, dispatch_uid="core.audit.task_ended", weak=False)
        # History rows written inside core.audit.change_reason(...) say why.
        pre_create_historical_record.connect(record_change_reason, dispatch_uid="core.audit.change_reason")
