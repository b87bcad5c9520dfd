"""Every write in funding (STYLE.md rule 1)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateField, F, Value
from django.db.models.functions import Greatest
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from clusterpacts.models import Cluster, Organisation, display_date
from clusterpacts.selectors import overdue_reports
from core.locks import transaction_lock
from core.services import lock_row
from evaluations.models import Evaluation
from funding import notifications
from funding.models import (
    ONE_DAY,
    Allocation,
    BudgetYear,
    Flag,
    Project,
    ProjectPartner,
    SupportAgreement,
    cap_date_for,
    display_eur,
    latest_end_for,
)
from funding.selectors import AgreementStanding, agreement_standings, reservation_use

logger = logging.getLogger(__name__)


@transaction.atomic
def agreement_save(*, agreement: SupportAgreement, **changes: object) -> SupportAgreement:
    """Create or change an agreement; every rule (term, overlap, extension, cap) is checked under the lock."""
    for name, value in changes.items():
        setattr(agreement, name, value)
    lock_row(Cluster, agreement.cluster_id)  # overlap and chain rules read the cluster's other agreements
    agreement.chain_start = _chain_start(agreement)
    broken = _broken(partial(agreement_check, agreement=agreement))
    # Reported together with the row's own facts; as full_clean does after its own clean(), a field found
    # wrong is left out of the uniqueness and constraint checks.
    errors = _merged(broken, _broken(partial(agreement.full_clean, exclude=list(broken))))
    if errors:
        raise ValidationError(errors)
    agreement.save()
    return agreement


def agreement_create(
    *,
    cluster: Cluster,
    reference: str,
    start_date: date,
    end_date: date,
    amount: Decimal,
    signed_on: date | None = None,
    predecessor: SupportAgreement | None = None,
    notes: str = "",
) -> SupportAgreement:
    return agreement_save(
        agreement=SupportAgreement(
            cluster=cluster,
            reference=reference,
            start_date=start_date,
            end_date=end_date,
            amount=amount,
            signed_on=signed_on,
            predecessor=predecessor,
            notes=notes,
        )
    )


def agreement_extend(
    *,
    predecessor: SupportAgreement,
    reference: str,
    end_date: date,
    amount: Decimal,
    signed_on: date | None = None,
) -> SupportAgreement:
    """Register the extension of `predecessor`: it starts the day after the predecessor ends."""
    return agreement_create(
        cluster=predecessor.cluster,
        reference=reference,
        start_date=predecessor.end_date + ONE_DAY,
        end_date=end_date,
        amount=amount,
        signed_on=signed_on,
        predecessor=predecessor,
    )


def agreement_check(*, agreement: SupportAgreement) -> None:
    """The agreement rules that read other rows: a term of at most 3 years that stays under the 10-year cap,
    no overlap, an extension that starts the day after its predecessor after a completed interim
    evaluation, one chain per cluster, and a predecessor whose extension still follows it.

    Every broken rule is reported at once, each on its own field (so an extension past the cap hears about
    the cap even when its evaluation is missing too). The admin form calls this to show the messages before
    saving; `agreement_save` calls it under the cluster's lock.
    """
    if not (agreement.start_date and agreement.end_date):
        return  # full_clean names the missing date
    try:
        agreement.clean()
    except ValidationError:
        return  # dates wrong on their own (full_clean says how): no rule across rows can be judged on them
    predecessor = agreement.predecessor if agreement.predecessor_id else None
    checks = [
        partial(_check_limits, agreement),
        partial(_check_overlap, agreement),
        partial(_check_successor, agreement),
    ]
    if predecessor:
        checks.insert(0, partial(_check_extension, agreement, predecessor))
    else:
        checks.append(partial(_check_single_chain, agreement))
    errors = _merged(*(_broken(check) for check in checks))
    if errors:
        raise ValidationError(errors)


def _broken(check: Callable[[], None]) -> dict[str, list[str]]:
    """The messages of a check by field: none if it passes."""
    try:
        check()
    except ValidationError as error:
        return error.message_dict
    return {}


def _merged(*found: dict[str, list[str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for messages_by_field in found:
        for field_name, messages in messages_by_field.items():
            known = errors.setdefault(field_name, [])
            known.extend(message for message in messages if message not in known)
    return errors


def _chain_start(agreement: SupportAgreement) -> date:
    """The first start of the agreement's chain: its predecessor's, or its own start for a first agreement."""
    predecessor = agreement.predecessor if agreement.predecessor_id else None
    return predecessor.chain_start if predecessor else agreement.start_date


def _check_single_chain(agreement: SupportAgreement) -> None:
    """A cluster's agreements form one chain: after the first, each one extends the last.

    Otherwise a new agreement without a predecessor would start a fresh 10-year count.
    """
    stored = SupportAgreement.objects.filter(pk=agreement.pk).values_list("chain_start", flat=True).first()
    own_chain_starts = [day for day in (agreement.start_date, stored) if day]
    last = (
        SupportAgreement.objects.filter(cluster_id=agreement.cluster_id)
        .exclude(pk=agreement.pk)
        .exclude(chain_start__in=own_chain_starts)  # its own extensions, when it is edited
        .order_by("-end_date")
        .first()
    )
    if last:
        raise ValidationError(
            {
                "predecessor": gettext(
                    "%(cluster)s already has support agreements (the last, %(reference)s, ends on %(end)s): "
                    "a new agreement extends the last one and counts towards the same 10-year cap."
                )
                % {"cluster": agreement.cluster, "reference": last.reference, "end": display_date(last.end_date)}
            },
            code="not_an_extension",
        )


def _check_extension(agreement: SupportAgreement, predecessor: SupportAgreement) -> None:
    if predecessor.pk == agreement.pk:
        raise ValidationError({"predecessor": gettext("An agreement cannot extend itself.")})
    if predecessor.cluster_id != agreement.cluster_id:
        raise ValidationError(
            {"predecessor": gettext("An extension must belong to the same cluster as the agreement it extends.")}
        )
    expected_start = predecessor.end_date + ONE_DAY
    if agreement.start_date != expected_start:
        raise ValidationError(
            {
                "start_date": gettext("An extension starts the day after its predecessor ends: %(date)s.")
                % {"date": display_date(expected_start)}
            }
        )
    interim = (
        Evaluation.objects.filter(cluster_id=agreement.cluster_id)
        .interim()
        .completed_between(predecessor.start_date, agreement.start_date)
    )
    if not interim.exists():
        raise ValidationError(
            {
                "predecessor": gettext(
                    "An extension needs an interim evaluation of %(cluster)s completed between "
                    "%(start)s and %(until)s; none is recorded as completed."
                )
                % {
                    "cluster": agreement.cluster,
                    "start": display_date(predecessor.start_date + ONE_DAY),
                    "until": display_date(agreement.start_date),
                }
            }
        )


def _check_limits(agreement: SupportAgreement) -> None:
    chain_start = _chain_start(agreement)
    latest = latest_end_for(agreement.start_date, chain_start)
    if agreement.end_date <= latest:
        return
    if latest == cap_date_for(chain_start):
        raise ValidationError(
            {
                "end_date": gettext(
                    "This agreement would pass the 10-year cap of the chain that started on %(chain_start)s: "
                    "the latest allowed end date is %(latest)s."
                )
                % {"chain_start": display_date(chain_start), "latest": display_date(latest)}
            },
            code="past_cap",
        )
    raise ValidationError(
        {
            "end_date": gettext(
                "A support agreement runs for at most 3 years: the latest allowed end date is %(latest)s."
            )
            % {"latest": display_date(latest)}
        },
        code="term_too_long",
    )


def _check_overlap(agreement: SupportAgreement) -> None:
    clash = (
        SupportAgreement.objects.filter(
            cluster_id=agreement.cluster_id, start_date__lte=agreement.end_date, end_date__gte=agreement.start_date
        )
        .exclude(pk=agreement.pk)
        .first()
    )
    if clash:
        raise ValidationError(
            {
                "start_date": gettext(
                    "Agreements of one cluster may not overlap: %(other)s runs from %(start)s to %(end)s."
                )
                % {
                    "other": clash.reference,
                    "start": display_date(clash.start_date),
                    "end": display_date(clash.end_date),
                }
            }
        )


def _check_successor(agreement: SupportAgreement) -> None:
    if agreement.pk is None:
        return
    successor = SupportAgreement.objects.filter(predecessor_id=agreement.pk).first()
    if successor and successor.start_date != agreement.end_date + ONE_DAY:
        raise ValidationError(
            {
                "end_date": gettext(
                    "%(successor)s extends this agreement from %(start)s, so this agreement must end on %(end)s."
                )
                % {
                    "successor": successor.reference,
                    "start": display_date(successor.start_date),
                    "end": display_date(successor.start_date - ONE_DAY),
                }
            }
        )
    if successor and successor.chain_start != _chain_start(agreement):
        raise ValidationError(
            {"start_date": gettext("This agreement has an extension; its start date can no longer change.")}
        )


@transaction.atomic
def budget_year_save(*, budget_year: BudgetYear, **changes: object) -> BudgetYear:
    for name, value in changes.items():
        setattr(budget_year, name, value)
    lock_row(BudgetYear, budget_year.pk)
    budget_year.full_clean()
    budget_year.save()
    return budget_year


@transaction.atomic
def allocation_save(
    *, allocation: Allocation, partners: Iterable[Cluster] | None = None, **changes: object
) -> Allocation:
    """Create or change an allocation; the envelope is checked under a lock on the budget year."""
    for name, value in changes.items():
        setattr(allocation, name, value)
    # Two officers allocating in the same year at once must not both fit in what is left.
    lock_row(BudgetYear, allocation.budget_year_id)
    partner_list = (
        list(partners) if partners is not None else (list(allocation.partners.all()) if allocation.pk else [])
    )
    Allocation.check_partners(allocation.purpose, partner_list)
    allocation.full_clean()
    allocation.save()
    if partners is not None:
        allocation.partners.set(partner_list)
    return allocation


# --- projects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerPut:
    """One partner of a project as a write names it: the organisation and its role."""

    organisation: Organisation
    role: str = ProjectPartner.Role.PARTNER


@transaction.atomic
def project_save(
    *,
    project: Project,
    clusters: Iterable[Cluster] | None = None,
    partners: Iterable[PartnerPut] | None = None,
    **changes: object,
) -> Project:
    """Create or change a project with its other clusters and its partners (None: keep them as they are).

    Every rule is checked before anything is written, and all broken ones are reported at once. Deciding
    more than the lead cluster's reservation is allowed: `flags_scan` raises a flag for it."""
    for name, value in changes.items():
        setattr(project, name, value)
    if project.status == Project.Status.DECIDED and project.decided_on and not project.status_on:
        project.status_on = project.decided_on
    cluster_list = list(clusters) if clusters is not None else (list(project.clusters.all()) if project.pk else [])
    partner_list = (
        list(partners)
        if partners is not None
        else (
            [PartnerPut(p.organisation, p.role) for p in project.partners.select_related("organisation")]
            if project.pk
            else []
        )
    )
    broken = _broken(partial(project_check, project=project, clusters=cluster_list, partners=partner_list))
    errors = _merged(broken, _broken(partial(project.full_clean, exclude=list(broken))))
    if errors:
        raise ValidationError(errors)
    project.save()
    if clusters is not None:
        project.clusters.set(cluster_list)
    if partners is not None:
        _partners_put(project, partner_list)
    return project


def _partners_put(project: Project, partners: list[PartnerPut]) -> None:
    """Make the project's partners these: drop the others, change roles in place, add the new ones."""
    wanted = {put.organisation.pk: put.role for put in partners}
    current = {p.organisation_id: p for p in project.partners.all()}
    for organisation_id, partner in current.items():
        if organisation_id not in wanted:
            partner.delete()
    # A lead partner handed over: the old lead steps down first, so one lead is kept at every moment.
    changed = [p for oid, p in current.items() if oid in wanted and p.role != wanted[oid]]
    for partner in sorted(changed, key=lambda p: wanted[p.organisation_id] == ProjectPartner.Role.LEAD):
        partner.role = wanted[partner.organisation_id]
        partner.save(update_fields=["role"])
    for put in partners:
        if put.organisation.pk not in current:
            ProjectPartner.objects.create(project=project, organisation=put.organisation, role=put.role)


def project_check(*, project: Project, clusters: list[Cluster], partners: list[PartnerPut]) -> None:
    """The project rules that read other rows: an inter-cluster project has at least two clusters (the lead
    and at least one other), no other project names other clusters; each partner once, one lead partner,
    and every partner exists on the decision day. The admin form, the API and the import call it through
    `project_save`."""
    errors = _merged(
        _broken(partial(_check_project_clusters, project, clusters)),
        _broken(partial(_check_project_partners, project, partners)),
    )
    if errors:
        raise ValidationError(errors)


def _check_project_clusters(project: Project, clusters: list[Cluster]) -> None:
    others = {cluster.pk for cluster in clusters}
    if project.lead_cluster_id and project.lead_cluster_id in others:
        raise ValidationError(
            {"clusters": gettext("The lead cluster is not one of the other clusters: name it once, as the lead.")}
        )
    if project.type == Project.Type.INTER_CLUSTER and not others:
        raise ValidationError(
            {
                "clusters": gettext(
                    "An inter-cluster project has at least two clusters: name the other clusters beside the lead."
                )
            },
            code="inter_cluster_needs_two",
        )
    if project.type != Project.Type.INTER_CLUSTER and others:
        raise ValidationError(
            {"clusters": gettext("Only an inter-cluster project names other clusters besides its lead.")}
        )


def _check_project_partners(project: Project, partners: list[PartnerPut]) -> None:
    messages: list[str] = []
    seen: set[int] = set()
    for put in partners:
        if put.organisation.pk in seen:
            messages.append(
                gettext("%(organisation)s is named twice as a partner.") % {"organisation": put.organisation}
            )
        seen.add(put.organisation.pk)
        if put.role not in ProjectPartner.Role.values:
            messages.append(gettext("“%(role)s” is not a partner role.") % {"role": put.role})
    if sum(put.role == ProjectPartner.Role.LEAD for put in partners) > 1:
        messages.append(gettext("A project has one lead partner."))
    day = project.decided_on
    for put in partners if day else []:
        organisation = put.organisation
        if organisation.founded_on and organisation.founded_on > day:
            messages.append(
                gettext(
                    "%(organisation)s did not exist yet on the decision day (%(day)s): it was founded on %(founded)s."
                )
                % {
                    "organisation": organisation,
                    "day": display_date(day),
                    "founded": display_date(organisation.founded_on),
                }
            )
        elif organisation.ceased_on and organisation.ceased_on < day:
            messages.append(
                gettext("%(organisation)s no longer existed on the decision day (%(day)s): it ceased on %(ceased)s.")
                % {
                    "organisation": organisation,
                    "day": display_date(day),
                    "ceased": display_date(organisation.ceased_on),
                }
            )
    if messages:
        raise ValidationError({"partners": messages})


# --- flags ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """A reason for a flag found by the scan: what the flag will say if it is new.

    The wording is kept as its message id and values, and written out in Dutch and in English, so that
    each reader sees the flag in their own language.
    """

    kind: str
    cluster_id: int
    subject: str
    template: str
    values: Mapping[str, str | int | date | Decimal]
    due_on: date | None = None
    agreement_id: int | None = None
    report_id: int | None = None
    year: int | None = None

    def message(self, language: str) -> str:
        with translation.override(language):
            return gettext(self.template) % {k: _shown(v) for k, v in self.values.items()}


def _shown(value: str | int | date | Decimal) -> str | int:
    """A value of a flag's message as the reader's language writes it."""
    if isinstance(value, date):
        return display_date(value)
    if isinstance(value, Decimal):
        return display_eur(value)
    return value


Key = tuple[str, str]  # a flag's kind and subject: one open flag each


def _wordings(causes: Mapping[Key, Cause], language: str) -> dict[Key, str]:
    """Each cause's message in `language`, as `Cause.message` writes it. The language is switched once, and
    each template and each date or amount is translated once: a programme's thousands of causes share a few
    templates and due days, and the scan words every cause to see whether an open flag's wording changed."""
    with translation.override(language):
        templates: dict[str, str] = {}
        shown: dict[date | Decimal, str | int] = {}
        wordings = {}
        for key, cause in causes.items():
            values = {}
            for name, value in cause.values.items():
                if isinstance(value, date | Decimal):
                    if value not in shown:
                        shown[value] = _shown(value)
                    values[name] = shown[value]
                else:
                    values[name] = value
            if cause.template not in templates:
                templates[cause.template] = gettext(cause.template)
            wordings[key] = templates[cause.template] % values
    return wordings


@dataclass
class ScanResult:
    as_of: date
    raised: list[Flag] = field(default_factory=list)
    resolved: list[Flag] = field(default_factory=list)


def _agreement_causes(as_of: date) -> list[Cause]:
    """The flags about active clusters' agreement chains: what their standing on `as_of` says, nothing else."""
    standings = agreement_standings(clusters=Cluster.objects.filter(active=True), as_of=as_of)
    return [cause for standing in standings.values() for cause in _standing_causes(standing)]


def _standing_causes(standing: AgreementStanding) -> list[Cause]:
    agreement, cap = standing.agreement, standing.cap_date
    values: dict[str, str | int | date] = {
        "cluster": agreement.cluster.name,
        "reference": agreement.reference,
        "end": agreement.end_date,
        "cap": cap,
    }

    def cause(kind: str, due_on: date, template: str, subject: str = "", about: SupportAgreement = agreement) -> Cause:
        return Cause(
            kind=kind,
            cluster_id=agreement.cluster_id,
            agreement_id=about.pk,
            subject=subject or f"agreement:{agreement.pk}",
            due_on=due_on,
            template=template,
            values=values,
        )

    causes: list[Cause] = []
    if standing.renewal_due:
        template = gettext_noop(
            "%(cluster)s: support agreement %(reference)s ends on %(end)s and no extension is registered."
        )
        causes.append(cause(Flag.Kind.RENEWAL_DUE, agreement.end_date, template))
    if standing.evaluation_missing:
        template = gettext_noop(
            "%(cluster)s: an extension of %(reference)s needs an interim evaluation completed "
            "during its term; none is completed yet."
        )
        # Due on the day the extension would start.
        causes.append(cause(Flag.Kind.EVALUATION_MISSING, agreement.end_date + ONE_DAY, template))
    if standing.cap_approaching:
        # About the chain, so it stays one flag as the chain grows; it follows the chain's last agreement.
        template = gettext_noop(
            "%(cluster)s reaches the 10-year cap on %(cap)s: no support agreement may run past it."
        )
        chain = f"chain:{agreement.cluster_id}:{standing.chain_start.isoformat()}"
        causes.append(cause(Flag.Kind.CAP_APPROACHING, cap, template, subject=chain, about=standing.last_agreement))
    if standing.final_term:
        template = gettext_noop(
            "%(cluster)s is in its final term: %(reference)s ends on the 10-year cap (%(cap)s) and cannot be extended."
        )
        causes.append(cause(Flag.Kind.FINAL_TERM, cap, template))
    return causes


def _report_causes(as_of: date) -> list[Cause]:
    """Each overdue report slot of an active cluster (`clusterpacts.selectors.overdue_reports`, the rule of
    `report_slots` that the briefing and the portal pages read too), including a report never started."""
    causes: list[Cause] = []
    for slot in overdue_reports(clusters=Cluster.objects.all(), as_of=as_of):
        values: dict[str, str | int | date] = {"cluster": slot.cluster_name, "year": slot.year, "due": slot.due_on}
        template = (
            gettext_noop("%(cluster)s: the annual report on %(year)s was due on %(due)s and has not been submitted.")
            if slot.report_id
            else gettext_noop(
                "%(cluster)s: the annual report on %(year)s was due on %(due)s and has not been started."
            )
        )
        causes.append(
            Cause(
                kind=Flag.Kind.REPORT_OVERDUE,
                cluster_id=slot.cluster_id,
                report_id=slot.report_id,
                year=slot.year,
                subject=f"report:{slot.cluster_id}:{slot.year}",
                due_on=slot.due_on,
                template=template,
                values=values,
            )
        )
    return causes


def _reservation_causes(as_of: date) -> list[Cause]:
    """Each active cluster's year whose projects decided by `as_of` exceed its reservation
    (`funding.selectors.reservation_use`, the figures the funding overview and the briefing show)."""
    causes: list[Cause] = []
    for use in reservation_use(as_of=as_of, over_only=True).values():
        if not use.cluster_active:
            continue
        causes.append(
            Cause(
                kind=Flag.Kind.RESERVATION_EXCEEDED,
                cluster_id=use.cluster_id,
                year=use.year,
                subject=f"reservation:{use.cluster_id}:{use.year}",
                template=gettext_noop(
                    "%(cluster)s: the projects decided in %(year)s (%(decided)s) exceed its reservation of "
                    "%(reserved)s by %(over)s."
                ),
                values={
                    "cluster": use.cluster_name,
                    "year": use.year,
                    "decided": use.decided,
                    "reserved": use.reserved,
                    "over": use.over,
                },
            )
        )
    return causes


# The lock that keeps two scans from running at once (`core.locks.transaction_lock`).
SCAN_LOCK = "funding.flags_scan"


@transaction.atomic
def flags_scan(*, as_of: date) -> ScanResult:
    """Raise the flags whose cause exists on `as_of` and resolve the open ones whose cause is gone.

    Set-based: a fixed number of queries, however many clusters, agreements, reports and flags there are
    (rows are read as plain values; model instances are made only for what the result and the standings
    hold). Each message is worded once per language and compared with the open flag's: a scan that finds
    nothing to change writes nothing. Safe to run twice: the second run
    finds every flag already open. Never two at once: the scan first takes a lock (`SCAN_LOCK`), so a
    second scan, from another beat or worker, waits for the first to commit and then finds its flags
    open; one open flag per kind and subject is a database constraint as well. Officers hear of new flags
    once, after the commit (the digest goes through the outbox, `core.outbox`).
    """
    transaction_lock(SCAN_LOCK)
    causes: dict[Key, Cause] = {
        (cause.kind, cause.subject): cause
        for cause in _agreement_causes(as_of) + _report_causes(as_of) + _reservation_causes(as_of)
    }
    dutch, english = _wordings(causes, settings.LANGUAGE_CODE), _wordings(causes, "en")
    open_flags: dict[Key, _OpenFlag] = {
        (kind, subject): _OpenFlag(pk, agreement_id, report_id, message, message_en, due_on)
        for pk, kind, subject, agreement_id, report_id, message, message_en, due_on in Flag.objects.open()
        .order_by()
        .values_list("pk", "kind", "subject", "agreement_id", "report_id", "message", "message_en", "due_on")
    }

    new = [
        Flag(
            kind=cause.kind,
            cluster_id=cause.cluster_id,
            agreement_id=cause.agreement_id,
            report_id=cause.report_id,
            year=cause.year,
            subject=cause.subject,
            message=dutch[key],
            message_en=english[key],
            raised_on=as_of,
            due_on=cause.due_on,
        )
        for key, cause in causes.items()
        if key not in open_flags
    ]
    gone = [flag.pk for key, flag in open_flags.items() if key not in causes]
    _follow_subjects(open_flags, causes, dutch, english)
    if new:
        # The rows come back with their ids (RETURNING), so they are the result as they are, not read again.
        # Under the lock no other scan raises a flag meanwhile; if anything did, the unique constraint would
        # refuse the second open flag and roll this scan back rather than report a flag it did not raise.
        new.sort(key=lambda flag: (flag.due_on or date.max, flag.kind, flag.cluster_id))
        Flag.objects.bulk_create(new)
        notifications.officers_digest_queue()
    resolved: list[Flag] = []
    if gone:
        Flag.objects.filter(pk__in=gone).update(
            resolved_on=Greatest(F("raised_on"), Value(as_of, output_field=DateField()))
        )
        resolved = list(Flag.objects.filter(pk__in=gone))
    return ScanResult(as_of=as_of, raised=new, resolved=resolved)


class _OpenFlag(NamedTuple):
    """What the scan compares of an open flag with its cause."""

    pk: int
    agreement_id: int | None
    report_id: int | None
    message: str
    message_en: str
    due_on: date | None


def _follow_subjects(
    open_flags: Mapping[Key, _OpenFlag],
    causes: Mapping[Key, Cause],
    dutch: Mapping[Key, str],
    english: Mapping[Key, str],
) -> None:
    """A flag that stays open follows its subject: the report once it is started, the chain's latest
    agreement once it is extended, and the wording that goes with them. Only a flag that changes is
    written."""
    refreshed = [
        Flag(
            pk=flag.pk,
            agreement_id=cause.agreement_id,
            report_id=cause.report_id,
            message=dutch[key],
            message_en=english[key],
            due_on=cause.due_on,
        )
        for key, flag in open_flags.items()
        if (cause := causes.get(key))
        and (flag.agreement_id, flag.report_id, flag.message, flag.message_en, flag.due_on)
        != (cause.agreement_id, cause.report_id, dutch[key], english[key], cause.due_on)
    ]
    if refreshed:
        Flag.objects.bulk_update(refreshed, ["agreement", "report", "message", "message_en", "due_on"])
