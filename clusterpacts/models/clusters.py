"""Clusters, organisations and their memberships, and who manages a cluster; enterprise numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.scoping import ScopedQuerySet

# --- enterprise numbers (KBO/BCE) ---------------------------------------------------------------

_ENTERPRISE_NUMBER_NOISE = re.compile(r"[\s.\-/]")


def normalize_enterprise_number(value: str) -> str:
    """'BE 0123.456.749' -> '0123456749'. Leaves anything unrecognisable for the validator."""
    cleaned = _ENTERPRISE_NUMBER_NOISE.sub("", value or "").upper()
    if cleaned.startswith("BE"):
        cleaned = cleaned[2:]
    return cleaned


def validate_enterprise_number(value: str) -> None:
    number = normalize_enterprise_number(value)
    if not re.fullmatch(r"\d{10}", number):
        raise ValidationError(
            gettext("An enterprise number has 10 digits, such as 0123.456.749; got “%(value)s”.") % {"value": value},
            code="enterprise_number_format",
        )
    if 97 - int(number[:8]) % 97 != int(number[8:]):
        raise ValidationError(
            gettext("%(value)s is not a valid enterprise number: the check digits do not match (mod 97).")
            % {"value": format_enterprise_number(number)},
            code="enterprise_number_checksum",
        )


def format_enterprise_number(number: str) -> str:
    if len(number) != 10:
        return number
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


class EnterpriseNumberField(models.CharField):
    """Stores the 10 digits only; accepts dots, spaces and a BE prefix on input."""

    default_validators = [validate_enterprise_number]
    input_max_length = 20  # what a form or the API accepts: "BE 0123.456.749"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("verbose_name", _("enterprise number"))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return value
        normalized = normalize_enterprise_number(value)
        # Keep the raw input when it is not even ten digits, so the error can quote it.
        return normalized if re.fullmatch(r"\d{10}", normalized) else value

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        # The path migrations know it by, whichever module of the package defines it.
        name, _path, args, kwargs = super().deconstruct()
        return name, "clusterpacts.models.EnterpriseNumberField", args, kwargs

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("max_length", self.input_max_length)
        field = super().formfield(form_class=form_class, choices_form_class=choices_form_class, **kwargs)
        if isinstance(field, forms.CharField):
            field.max_length = self.input_max_length
        return field


def check_enterprise_number_unique(instance: Any, message: str) -> None:
    """Report a clash on the field itself: Django reports a conditional unique constraint as a
    non-field error (for a cluster only by the constraint's name). The constraint stays the guard."""
    number = instance.enterprise_number
    if number and type(instance)._default_manager.filter(enterprise_number=number).exclude(pk=instance.pk).exists():
        raise ValidationError({"enterprise_number": message})


def periods_overlap(start_a: date, end_a: date | None, start_b: date, end_b: date | None) -> bool:
    """Two periods overlap when each starts before the other ends; an open end runs forever."""
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


def display_date(value: date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


# --- clusters, organisations, memberships ---------------------------------------------------------


class Cluster(models.Model):
    class Kind(models.TextChoices):
        SPEARHEAD = "spearhead", _("spearhead cluster")
        BUSINESS_NETWORK = "business_network", _("innovative business network")

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SPEARHEAD)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=200, blank=True)
    enterprise_number = EnterpriseNumberField(blank=True)
    website = models.URLField(_("website"), blank=True)
    recognised_on = models.DateField(_("recognised on"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    scope_path = "id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise_number"],
                condition=~Q(enterprise_number=""),
                name="cluster_enterprise_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_enterprise_number_unique(self, gettext("A cluster with this enterprise number already exists."))

    @property
    def enterprise_number_display(self) -> str:
        return format_enterprise_number(self.enterprise_number)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("large company")
        SME = "sme", _("SME")
        KNOWLEDGE_INSTITUTION = "knowledge_institution", _("knowledge institution")
        GOVERNMENT = "government", _("government")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    enterprise_number = EnterpriseNumberField(blank=True)
    website = models.URLField(_("website"), blank=True)
    # The days the organisation existed, when known: a project's partners must exist on its decision day.
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    ceased_on = models.DateField(_("ceased on"), null=True, blank=True)
    history = HistoricalRecords()

    scope_path = "memberships__cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise_number"],
                condition=~Q(enterprise_number=""),
                name="organisation_enterprise_number_unique",
                violation_error_message=_("An organisation with this enterprise number already exists."),
            ),
            models.CheckConstraint(
                condition=Q(ceased_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(ceased_on__gte=models.F("founded_on")),
                name="organisation_ceases_after_founding",
                violation_error_message=_("An organisation cannot cease before it was founded."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.check_days()
        check_enterprise_number_unique(self, gettext("An organisation with this enterprise number already exists."))

    def check_days(self) -> None:
        """The one implementation of 'an organisation ceases on or after its founding' (also for bulk writes)."""
        if self.founded_on and self.ceased_on and self.ceased_on < self.founded_on:
            raise ValidationError({"ceased_on": gettext("An organisation cannot cease before it was founded.")})

    def exists_on(self, day: date) -> bool:
        """The organisation existed on `day`: founded by then (or founding day unknown) and not yet ceased."""
        return (self.founded_on is None or self.founded_on <= day) and (
            self.ceased_on is None or self.ceased_on >= day
        )

    @property
    def is_sme(self) -> bool:
        return self.kind == self.Kind.SME


def membership_active_on(day: date) -> Q:
    """A member counts from the day it joins up to and including the day it leaves."""
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gte=day))


class MembershipQuerySet(ScopedQuerySet):
    def active_on(self, day: date) -> MembershipQuerySet:
        return self.filter(membership_active_on(day))


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("cluster")
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    paying = models.BooleanField(_("paying member"), default=True)
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["cluster", "organisation__name", "joined_on"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
                violation_error_message=_("A member cannot leave before joining."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} @ {self.cluster}"

    def clean(self) -> None:
        self.check_dates()
        if self.organisation_id and self.cluster_id and self.joined_on:
            held = Membership.objects.filter(organisation_id=self.organisation_id, cluster_id=self.cluster_id)
            self.check_no_overlap(held.exclude(pk=self.pk))

    def check_dates(self) -> None:
        """A member leaves on or after the day it joins."""
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            raise ValidationError(
                {
                    "left_on": gettext("A member cannot leave (%(left)s) before joining (%(joined)s).")
                    % {"left": display_date(self.left_on), "joined": display_date(self.joined_on)}
                }
            )

    def check_no_overlap(self, others: Iterable[Membership]) -> None:
        """Memberships of one organisation in one cluster may not overlap: refuse (on joined_on) when one of
        `others` (the organisation's other memberships in the cluster) does. Periods overlap when each
        starts before the other ends; an open end runs forever."""
        clash = next(
            (
                other
                for other in sorted(others, key=lambda m: m.joined_on)
                if other is not self and (other.pk is None or other.pk != self.pk)
                if periods_overlap(self.joined_on, self.left_on, other.joined_on, other.left_on)
            ),
            None,
        )
        if clash:
            raise ValidationError(
                {
                    "joined_on": gettext(
                        "%(organisation)s is already a member of %(cluster)s from %(joined)s; "
                        "memberships of one organisation in one cluster may not overlap."
                    )
                    % {
                        "organisation": self.organisation,
                        "cluster": self.cluster,
                        "joined": display_date(clash.joined_on),
                    }
                }
            )


class ClusterManager(models.Model):
    """Links a user to a cluster they manage: the whole scope of a cluster manager."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="managed_clusters",
        verbose_name=_("user"),
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="managers", verbose_name=_("cluster"))
    history = HistoricalRecords()

    scope_path = "cluster"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cluster manager")
        verbose_name_plural = _("cluster managers")
        constraints = [
            models.UniqueConstraint(fields=["user", "cluster"], name="cluster_manager_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.cluster}"
