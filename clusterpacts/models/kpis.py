"""The KPI catalogue, and the targets (of annual plans) and values (of annual reports) per cluster and year."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BaseConstraint
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from clusterpacts.models.clusters import Cluster
from clusterpacts.models.documents import EDITABLE_STATES, AnnualPlan, AnnualReport, Workflow, WorkflowDocument
from core.scoping import RoleScopedQuerySet, ScopedQuerySet

# --- KPI catalogue -------------------------------------------------------------------------------


class KpiDefinition(models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", _("number")
        PERCENT = "percent", _("percent")
        EUR = "eur", _("EUR")
        MEUR = "meur", _("million EUR")
        FTE = "fte", _("FTE")

    class Category(models.TextChoices):
        DIRECT_RESULTS = "direct_results", _("direct results of actions")
        MEMBERSHIP = "membership", _("membership incl. SME reach")
        COMPANY_IMPACT = "company_impact", _("impact on companies")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("higher is better")
        LOWER = "lower", _("lower is better")

    class Source(models.TextChoices):
        DERIVED = "derived", _("derived from memberships or projects")
        REPORTED = "reported", _("reported in the annual report")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.REPORTED)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    objects = RoleScopedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPI catalogue")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "nl").startswith("en") else self.name_nl

    @property
    def is_derived(self) -> bool:
        """Computed from the memberships or the decided projects (`clusterpacts.selectors.derived_figures`),
        never entered."""
        return self.source == self.Source.DERIVED

    def achievement(self, value: Decimal | None, target: Decimal | None) -> Decimal | None:
        """Percentage of the target reached, by direction (lower is better: target / value), whole."""
        if value is None or not target:
            return None
        if self.direction == self.Direction.LOWER:
            return (Decimal(target) / Decimal(value) * 100).quantize(Decimal(1)) if value else None
        return (Decimal(value) / Decimal(target) * 100).quantize(Decimal(1))

    def check_value(self, value: Decimal | None) -> None:
        """The one implementation of 'percentages within 0-100; counts whole and not negative'."""
        if value is None:
            return
        if self.unit == self.Unit.PERCENT and not (Decimal(0) <= value <= Decimal(100)):
            raise ValidationError(
                gettext("%(kpi)s is a percentage: enter a value from 0 to 100, not %(value)s.")
                % {"kpi": self.code, "value": value},
                code="kpi_percent_range",
            )
        if self.unit == self.Unit.COUNT and (value < 0 or value != value.to_integral_value()):
            raise ValidationError(
                gettext("%(kpi)s is a count: enter a whole number of 0 or more, not %(value)s.")
                % {"kpi": self.code, "value": value},
                code="kpi_count_whole",
            )
        if self.unit in (self.Unit.EUR, self.Unit.MEUR, self.Unit.FTE) and value < 0:
            raise ValidationError(gettext("%(kpi)s cannot be negative.") % {"kpi": self.code}, code="kpi_negative")


class KpiFigure(models.Model):
    """What targets and values share: a number for one cluster, KPI and year."""

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="+", verbose_name=_("KPI"))
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="+", verbose_name=_("cluster"))
    year = models.PositiveIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean_figure(self, document: WorkflowDocument | None) -> None:
        if self.kpi_id:
            try:
                self.kpi.check_value(self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from error
        if document is not None:
            # A figure belongs to its plan or report: cluster and year follow the document.
            if self.cluster_id is None:
                self.cluster_id = document.cluster_id
            if self.year is None:
                self.year = document.year
            if document.cluster_id != self.cluster_id or document.year != self.year:
                raise ValidationError(gettext("The cluster and year must match those of the plan or report."))
            check_figures_editable(document)


def check_figures_editable(document: WorkflowDocument) -> None:
    """A plan's targets and a report's values change (or go) only while it is a draft or returned."""
    stored = type(document).objects.filter(pk=document.pk).values_list("status", flat=True).first()
    if (stored or document.status) not in EDITABLE_STATES:
        raise ValidationError(
            gettext("Figures can only be changed while the plan or report is a draft or returned."),
            code="document_locked",
        )


def figure_constraints(
    prefix: str, *, document: str, unique: StrOrPromise, once: StrOrPromise
) -> list[BaseConstraint]:
    """One figure per cluster, KPI and year, and one per KPI in its plan or report."""
    return [
        models.UniqueConstraint(
            fields=["cluster", "kpi", "year"], name=f"{prefix}_unique", violation_error_message=unique
        ),
        models.UniqueConstraint(
            fields=[document, "kpi"], name=f"{prefix}_once_per_{document}", violation_error_message=once
        ),
    ]


def figure_indexes(prefix: str) -> list[models.Index]:
    """The lists' `?year=` (alone, with `cluster`, or a cluster manager's clusters): its COUNT reads the index
    alone instead of the whole table, and the page, walking the clusters by name, finds each one's figures
    of the year in it. No other index leads with the year (the unique one is cluster, KPI, year)."""
    return [models.Index(fields=["year", "cluster"], name=f"{prefix}_year_cluster_idx")]


class KpiTarget(KpiFigure):
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="targets", verbose_name=_("KPI"))
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="kpi_targets", verbose_name=_("cluster")
    )
    plan = models.ForeignKey(
        AnnualPlan,
        on_delete=models.CASCADE,
        related_name="targets",
        null=True,
        blank=True,
        verbose_name=_("annual plan"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "year", "kpi"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = figure_constraints(
            "kpi_target",
            document="plan",
            unique=_("This cluster already has a target for this KPI and year."),
            once=_("This plan already has a target for this KPI."),
        )
        indexes = figure_indexes("kpi_target")

    def __str__(self) -> str:
        return f"{self.cluster} {self.kpi.code} {self.year}: {self.value}"

    def clean(self) -> None:
        self.clean_figure(self.plan if self.plan_id else None)


class KpiValue(KpiFigure):
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="values", verbose_name=_("KPI"))
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="kpi_values", verbose_name=_("cluster")
    )
    report = models.ForeignKey(
        AnnualReport, on_delete=models.CASCADE, related_name="values", verbose_name=_("annual report")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "year", "kpi"]
        verbose_name = _("KPI value")
        verbose_name_plural = _("KPI values")
        constraints = figure_constraints(
            "kpi_value",
            document="report",
            unique=_("This cluster already has a value for this KPI and year."),
            once=_("This report already has a value for this KPI."),
        )
        indexes = figure_indexes("kpi_value")

    def __str__(self) -> str:
        return f"{self.cluster} {self.kpi.code} {self.year}: {self.value}"

    def clean(self) -> None:
        self.clean_figure(self.report if self.report_id else None)

    @property
    def is_official(self) -> bool:
        """Only values of an accepted report are official; submitted ones are pending."""
        return self.report.status == Workflow.ACCEPTED


class KpiTargetTally(models.Model):
    """How many values of an annual report are measured against a target, and how many met it
    (`clusterpacts.selectors.kpi_target_tallies` counts them; `clusterpacts.services.kpi_tallies_refresh` stores
    them). Stored, not counted on each read: the briefing's summary sums about 30,000 of these rows at 3,000
    clusters, where counting joins some 260,000 values to their targets (issue 16). Refreshed in the same
    transaction by every service that writes a value, a target, a plan or report, or the KPI catalogue; a
    report without a measured value has no row."""

    report = models.OneToOneField(
        AnnualReport,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="kpi_tally",
        verbose_name=_("annual report"),
    )
    # The report's, kept here so that the summary filters without joining the reports.
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+", verbose_name=_("cluster"))
    year = models.PositiveIntegerField(_("year"))
    measured = models.PositiveIntegerField(_("KPI targets measured"))
    met = models.PositiveIntegerField(_("KPI targets met"))

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("KPI target tally")
        verbose_name_plural = _("KPI target tallies")
        constraints = [
            models.CheckConstraint(condition=models.Q(met__lte=models.F("measured")), name="kpi_tally_met_within")
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} {self.year}: {self.met}/{self.measured}"
