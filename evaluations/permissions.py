"""Access helpers for evaluations (see clusterpacts.permissions): officers write, others read in scope."""

from __future__ import annotations

from typing import Any

from clusterpacts.permissions import get_for_user
from evaluations.models import Evaluation, Finding, Lesson


def get_evaluation_for_user(user: Any, pk: Any, *, write: bool = False) -> Evaluation:
    return get_for_user(Evaluation, user, pk, write=write)


def get_finding_for_user(user: Any, pk: Any, *, write: bool = False) -> Finding:
    return get_for_user(Finding, user, pk, write=write)


def get_lesson_for_user(user: Any, pk: Any, *, write: bool = False) -> Lesson:
    return get_for_user(Lesson, user, pk, write=write)
