"""Cluster pacts (one per cluster and version) and their commitments."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clusterpacts.models.clusters import Cluster
from core.scoping import ScopedQuerySet

# --- pacts ---------------------------------------------------------------------------------------


class ClusterPact(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SIGNED = "signed", _("signed")
        SUPERSEDED = "superseded", _("superseded")

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="pacts", verbose_name=_("cluster"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    programme_summary = models.TextField(_("competitiveness programme"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "-version"]
        verbose_name = _("cluster pact")
        verbose_name_plural = _("cluster pacts")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "version"],
                name="pact_version_unique",
                violation_error_message=_("This cluster already has a pact with this version number."),
            ),
            models.UniqueConstraint(
                fields=["cluster"],
                condition=Q(status="signed"),
                name="pact_one_signed_per_cluster",
                violation_error_message=_(
                    "A cluster has one signed, current pact; sign the new version to supersede it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_on__isnull=False),
                name="pact_signed_has_date",
                violation_error_message=_("A signed pact needs its signing date."),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="pact_version_positive"),
        ]

    def __str__(self) -> str:
        return gettext("%(cluster)s pact v%(version)s") % {"cluster": self.cluster, "version": self.version}

    def clean(self) -> None:
        if self.status != self.Status.DRAFT and not self.signed_on:
            raise ValidationError({"signed_on": gettext("A signed pact needs its signing date.")})
        if self.signed_on and self.signed_on > timezone.localdate():
            raise ValidationError({"signed_on": gettext("A pact cannot be signed in the future.")})


class Commitment(models.Model):
    class Party(models.TextChoices):
        CLUSTER_ORGANISATION = "cluster_organisation", _("cluster organisation")
        MEMBERS = "members", _("members")
        GOVERNMENT = "government", _("government")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        MET = "met", _("met")
        NOT_MET = "not_met", _("not met")

    pact = models.ForeignKey(ClusterPact, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("pact"))
    party = models.CharField(_("party"), max_length=24, choices=Party.choices)
    description = models.TextField(_("commitment"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    history = HistoricalRecords()

    scope_path = "pact__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["pact", "party", "id"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return f"{self.get_party_display()}: {self.description[:60]}"
