from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "funding"
    verbose_name = _("Funding")

    def ready(self) -> None:
        # The project KPIs of the catalogue are counted from the decided projects, which live here:
        # clusterpacts reads them through its registry of derived sources (it may not import funding).
        from clusterpacts.selectors import register_derived_source
        from funding.selectors import PROJECT_KPIS, project_figures

        register_derived_source("projects", PROJECT_KPIS, project_figures)
