"""Access helpers for funding (see clusterpacts.permissions): officers write, others read in scope."""

from __future__ import annotations

from typing import Any

from clusterpacts.permissions import get_for_user
from funding.models import Allocation, BudgetYear, SupportAgreement


def get_agreement_for_user(user: Any, pk: Any, *, write: bool = False) -> SupportAgreement:
    return get_for_user(SupportAgreement, user, pk, write=write)


def get_budget_year_for_user(user: Any, pk: Any, *, write: bool = False) -> BudgetYear:
    return get_for_user(BudgetYear, user, pk, write=write)


def get_allocation_for_user(user: Any, pk: Any, *, write: bool = False) -> Allocation:
    return get_for_user(Allocation, user, pk, write=write)
