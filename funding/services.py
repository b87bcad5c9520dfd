"""Every write in funding (STYLE.md rule 1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from clusterpacts.models import Cluster
from funding.models import ONE_DAY, Allocation, BudgetYear, SupportAgreement


def _lock_cluster(cluster_id: int | None) -> None:
    # Overlap and chain rules read the cluster's other agreements: serialise writers per cluster.
    if cluster_id:
        list(Cluster.objects.select_for_update().filter(pk=cluster_id).values_list("pk"))


@transaction.atomic
def agreement_save(*, agreement: SupportAgreement, **changes: Any) -> SupportAgreement:
    """Create or change an agreement; every rule (term, overlap, extension, cap) is checked."""
    for name, value in changes.items():
        setattr(agreement, name, value)
    _lock_cluster(agreement.cluster_id)
    agreement.full_clean()
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


@transaction.atomic
def budget_year_save(*, budget_year: BudgetYear, **changes: Any) -> BudgetYear:
    for name, value in changes.items():
        setattr(budget_year, name, value)
    if budget_year.pk:
        BudgetYear.objects.select_for_update().filter(pk=budget_year.pk).exists()
    budget_year.full_clean()
    budget_year.save()
    return budget_year


@transaction.atomic
def allocation_save(
    *, allocation: Allocation, partners: Iterable[Cluster] | None = None, **changes: Any
) -> Allocation:
    """Create or change an allocation; the envelope is checked under a lock on the budget year."""
    for name, value in changes.items():
        setattr(allocation, name, value)
    if allocation.budget_year_id:
        # Two officers allocating in the same year at once must not both fit in what is left.
        list(BudgetYear.objects.select_for_update().filter(pk=allocation.budget_year_id).values_list("pk"))
    partner_list = (
        list(partners) if partners is not None else (list(allocation.partners.all()) if allocation.pk else [])
    )
    Allocation.check_partners(allocation.purpose, partner_list)
    allocation.full_clean()
    allocation.save()
    if partners is not None:
        allocation.partners.set(partner_list)
    return allocation
