"""The workbook's format (docs/IMPORT.md): its sheets in dependency order, their columns in English and
Dutch, which columns make a row's natural key, and how each cell is read and written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils import translation

from clusterpacts.models import (
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    Organisation,
    Workflow,
)
from evaluations.models import Conclusion, Evaluation, Lesson, Stage
from funding.models import Allocation, Project, ProjectPartner
from workbook import cells

TEXT, INT, DECIMAL, DATE, BOOL, CHOICE, REF = "text", "int", "decimal", "date", "bool", "choice", "ref"


@dataclass(frozen=True)
class Column:
    name: str  # the English header, and the column's name in the code
    nl: str  # the Dutch header
    kind: str = TEXT
    key: bool = False  # part of the row's natural key (the column must be there, the cell filled)
    choices: tuple[tuple[str, Any], ...] = ()

    def header(self, language: str | None = None) -> str:
        return self.nl if (language or translation.get_language() or "nl").startswith("nl") else self.name

    @cached_property
    def names(self) -> dict[str, str]:
        return cells.choice_names(self.choices)

    def parse(self, value: Any) -> Any:
        """The cell's value (None for an empty cell); raises cells.CellError."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == DATE:
            return cells.parse_date(value)
        if self.kind == DECIMAL:
            return cells.parse_decimal(value)
        if self.kind == INT:
            return cells.parse_int(value)
        if self.kind == BOOL:
            return cells.parse_bool(value)
        if self.kind == CHOICE:
            return cells.parse_choice(value, self.names)
        return cells.parse_text(value)


@dataclass(frozen=True)
class Sheet:
    name: str  # English
    nl: str
    columns: tuple[Column, ...]
    by_column: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_column", {column.name: column for column in self.columns})

    def title(self, language: str | None = None) -> str:
        return self.nl if (language or translation.get_language() or "nl").startswith("nl") else self.name

    @property
    def key_columns(self) -> list[Column]:
        return [column for column in self.columns if column.key]

    def column_for(self, header: Any) -> Column | None:
        wanted = normalized(header)
        for column in self.columns:
            if wanted in (normalized(column.name), normalized(column.nl)):
                return column
        return None


def normalized(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name or "").strip().lower())


def _c(name: str, nl: str, kind: str = TEXT, *, key: bool = False, choices: Any = ()) -> Column:
    return Column(name, nl, kind, key, tuple(choices))


CLUSTER_REF = _c("cluster", "cluster", REF, key=True)
YEAR = _c("year", "jaar", INT, key=True)
WORKING_YEAR = _c("year", "werkjaar", INT, key=True)
DOCUMENT_KINDS = (("plan", "plan"), ("report", "report"), ("plan", "jaarplan"), ("report", "jaarverslag"))
EVALUATION_KEY = (
    CLUSTER_REF,
    _c("evaluation_kind", "evaluatiesoort", CHOICE, key=True, choices=Evaluation.Kind.choices),
    _c("period_start", "periode_van", DATE, key=True),
)

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "clusters",
        "clusters",
        (
            _c("slug", "slug", key=True),
            _c("name", "naam"),
            _c("kind", "soort", CHOICE, choices=Cluster.Kind.choices),
            _c("domain", "domein"),
            _c("legal_entity", "rechtspersoon"),
            _c("enterprise_number", "ondernemingsnummer"),
            _c("website", "website"),
            _c("recognised_on", "erkend_op", DATE),
            _c("started_on", "gestart_op", DATE),
            _c("active", "actief", BOOL),
            _c("description", "beschrijving"),
        ),
    ),
    Sheet(
        "organisations",
        "organisaties",
        (
            _c("enterprise_number", "ondernemingsnummer", key=True),
            _c("name", "naam"),
            _c("kind", "soort", CHOICE, choices=Organisation.Kind.choices),
            _c("website", "website"),
            _c("founded_on", "opgericht_op", DATE),
            _c("ceased_on", "stopgezet_op", DATE),
        ),
    ),
    Sheet(
        "memberships",
        "lidmaatschappen",
        (
            CLUSTER_REF,
            _c("organisation", "organisatie", REF, key=True),
            _c("joined_on", "toegetreden_op", DATE, key=True),
            _c("left_on", "uitgetreden_op", DATE),
            _c("paying", "betalend", BOOL),
        ),
    ),
    Sheet(
        "pacts",
        "pacten",
        (
            CLUSTER_REF,
            _c("version", "versie", INT, key=True),
            _c("status", "status", CHOICE, choices=ClusterPact.Status.choices),
            _c("signed_on", "ondertekend_op", DATE),
            _c("programme_summary", "competitiviteitsprogramma"),
            _c("notes", "notities"),
        ),
    ),
    Sheet(
        "commitments",
        "engagementen",
        (
            CLUSTER_REF,
            _c("version", "versie", INT, key=True),
            _c("party", "partij", CHOICE, key=True, choices=Commitment.Party.choices),
            _c("commitment", "engagement", key=True),
            _c("status", "status", CHOICE, choices=Commitment.Status.choices),
            _c("due_on", "tegen", DATE),
        ),
    ),
    Sheet("plans", "jaarplannen", (CLUSTER_REF, YEAR, _c("planned_actions", "geplande_acties"))),
    Sheet(
        "targets",
        "streefwaarden",
        (CLUSTER_REF, YEAR, _c("kpi", "kpi", REF, key=True), _c("value", "waarde", DECIMAL)),
    ),
    Sheet(
        "reports",
        "jaarverslagen",
        (CLUSTER_REF, WORKING_YEAR, _c("narrative", "verhaal"), _c("due_on", "uiterlijk_op", DATE)),
    ),
    Sheet(
        "values",
        "kpi_waarden",
        (CLUSTER_REF, WORKING_YEAR, _c("kpi", "kpi", REF, key=True), _c("value", "waarde", DECIMAL)),
    ),
    Sheet(
        "workflow",
        "workflow",
        (
            _c("document", "document", CHOICE, key=True, choices=DOCUMENT_KINDS),
            CLUSTER_REF,
            YEAR,
            _c("step", "stap", INT, key=True),
            _c(
                "status",
                "status",
                CHOICE,
                choices=[(code, label) for code, label in Workflow.choices if code != Workflow.DRAFT],
            ),
            _c("on", "op", DATE),
            _c("by", "door"),
            _c("comment", "commentaar"),
        ),
    ),
    Sheet(
        "evaluations",
        "evaluaties",
        (
            CLUSTER_REF,
            _c("kind", "soort", CHOICE, key=True, choices=Evaluation.Kind.choices),
            _c("period_start", "periode_van", DATE, key=True),
            _c("period_end", "periode_tot", DATE),
            _c("title", "titel"),
            _c("evaluator", "evaluator"),
            _c("stage", "fase", CHOICE, choices=Stage.choices),
            _c("registered_on", "geregistreerd_op", DATE),
            _c("planned_on", "gepland_op", DATE),
            _c("started_on", "gestart_op", DATE),
            _c("reporting_on", "rapportering_op", DATE),
            _c("completed_on", "afgerond_op", DATE),
            _c("conclusion", "conclusie", CHOICE, choices=Conclusion.choices),
            _c("summary", "samenvatting"),
        ),
    ),
    Sheet(
        "findings",
        "bevindingen",
        (
            *EVALUATION_KEY,
            _c("criterion", "criterium", CHOICE, key=True, choices=KpiDefinition.Category.choices),
            _c("assessment", "beoordeling", CHOICE, choices=Conclusion.choices),
            _c("finding", "bevinding"),
        ),
    ),
    Sheet(
        "lessons",
        "lessen",
        (
            *EVALUATION_KEY,
            _c("kind", "soort", CHOICE, key=True, choices=Lesson.Kind.choices),
            _c("lesson", "les", key=True),
            _c("follow_up", "opvolging"),
            _c("status", "status", CHOICE, choices=Lesson.Status.choices),
            _c("carried_into", "meegenomen_in", INT),
        ),
    ),
    Sheet(
        "agreements",
        "overeenkomsten",
        (
            _c("reference", "referentie", key=True),
            _c("cluster", "cluster", REF),
            _c("start_date", "begindatum", DATE),
            _c("end_date", "einddatum", DATE),
            _c("amount", "bedrag", DECIMAL),
            _c("signed_on", "ondertekend_op", DATE),
            _c("predecessor", "voorganger"),
            _c("notes", "notities"),
        ),
    ),
    Sheet(
        "budget_years",
        "begrotingsjaren",
        (YEAR, _c("envelope", "enveloppe", DECIMAL), _c("notes", "notities")),
    ),
    Sheet(
        "allocations",
        "toewijzingen",
        (
            YEAR,
            _c("purpose", "doel", CHOICE, key=True, choices=Allocation.Purpose.choices),
            _c("cluster", "cluster", REF),
            _c("partners", "partnerclusters"),
            _c("amount", "bedrag", DECIMAL),
            _c("description", "omschrijving"),
            _c("decided_on", "beslist_op", DATE),
        ),
    ),
    Sheet(
        "projects",
        "projecten",
        (
            _c("reference", "referentie", key=True),
            _c("title", "titel"),
            _c("type", "soort", CHOICE, choices=Project.Type.choices),
            _c("lead_cluster", "trekkende_cluster", REF),
            _c("other_clusters", "andere_clusters"),
            _c("decided_on", "beslist_op", DATE),
            _c("amount", "bedrag", DECIMAL),
            _c("start_date", "begindatum", DATE),
            _c("end_date", "einddatum", DATE),
            _c("status", "status", CHOICE, choices=Project.Status.choices),
            _c("status_since", "status_sinds", DATE),
        ),
    ),
    Sheet(
        "project_partners",
        "projectpartners",
        (
            _c("project", "project", key=True),
            _c("organisation", "organisatie", REF, key=True),
            _c("role", "rol", CHOICE, choices=ProjectPartner.Role.choices),
        ),
    ),
)
SHEETS_BY_NAME: dict[str, Sheet] = {sheet.name: sheet for sheet in SHEETS}


def sheet_for(title: Any) -> Sheet | None:
    wanted = normalized(title)
    for sheet in SHEETS:
        if wanted in (normalized(sheet.name), normalized(sheet.nl)):
            return sheet
    return None
