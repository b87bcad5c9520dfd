"""Import a programme's history from the workbook (docs/IMPORT.md).

Every row goes through the services of its app, so every rule holds as it does in the portal, the admin and
the API. The whole import is one transaction: each row is tried in a savepoint, every refusal is collected
with its sheet, row, column and message, and with any refusal (or for a dry run) the transaction is rolled
back, so nothing is kept. Rows are matched by their natural key: a row whose cells equal what is held is
left alone ("unchanged"), so importing a file twice changes nothing the second time.

Sheets are taken in `format.SHEETS` order. Most are read and applied row by row; pacts, agreements and
the workflow steps are gathered first (they are ordered by version, by chain and by step), and the KPI
targets and values, the large sheets, are applied in chunks through `clusterpacts.services.kpi_figures_put`.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from clusterpacts import services as cp
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    Commitment,
    KpiDefinition,
    Membership,
    Organisation,
    ReportEvent,
    normalize_enterprise_number,
)
from core.audit import acting_as, change_reason, system_user
from core.services import entity_save
from evaluations.models import Evaluation, Finding, Lesson
from funding.models import Allocation, BudgetYear, Project, ProjectPartner, SupportAgreement
from funding.services import (
    PartnerPut,
    agreement_save,
    allocation_save,
    budget_year_save,
    project_check,
    project_save,
)
from workbook import format as fmt
from workbook.reader import BadFile, Source, Unreadable, open_source
from workbook.results import ImportResult, Progress, RowError, SheetCounts

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
CHUNK = 2000  # KPI figures (and new plans or reports) applied at once
STEP_CHUNK = 500  # documents whose workflow steps are taken at once
DOCUMENT_CLUSTERS = 64  # clusters whose plans or reports are kept at hand


class Refused(Exception):
    """A row that cannot be taken: {column name ("" for the row): [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def on(cls, column: str, message: str) -> Refused:
        return cls({column: [message]})


class _Rollback(Exception):
    pass


@dataclass
class Row:
    number: int
    cells: dict[str, Any]  # column name -> parsed value (None for an empty cell), only the file's columns

    def __getitem__(self, name: str) -> Any:
        return self.cells.get(name)

    def has(self, name: str) -> bool:
        return name in self.cells


@dataclass
class SheetRun:
    """One sheet of the file being taken: its headers as written, its counts."""

    sheet: fmt.Sheet
    title: str
    headers: dict[str, str]  # column name -> header as written in the file
    counts: SheetCounts = field(default_factory=SheetCounts)

    def header(self, column: str) -> str:
        if not column:
            return ""
        found = self.headers.get(column)
        if found:
            return found
        known = self.sheet.by_column.get(column)
        return known.header() if known else column


def import_workbook(
    source: Path,
    *,
    filename: str | None = None,
    user: Any = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the workbook at `source` (an .xlsx file, or a folder of one CSV file per sheet).

    All or nothing: every row goes through the services; with any refused row, or with `dry_run`, nothing
    is kept and the result lists every refusal. `filename` is the name the user knows the file by (recorded
    in the history of every row changed, with `user`); `progress` is called as rows are taken.
    Never raises for a bad file: the file's own problems are refusals on row 0.
    """
    started = time.monotonic()
    name = filename or Path(source).name
    result = ImportResult(filename=name, dry_run=dry_run)
    try:
        opened = open_source(Path(source))
    except BadFile as error:
        result.errors.append(RowError("", 0, "", str(error)))
        return result
    try:
        Importer(opened, result, user=user, progress=progress).run()
    except BadFile as error:
        result.errors.append(RowError("", 0, "", str(error)))
        result.applied = False
    finally:
        opened.close()
        result.seconds = time.monotonic() - started
    return result


class Importer:
    def __init__(self, source: Source, result: ImportResult, *, user: Any, progress: Progress | None) -> None:
        self.source = source
        self.result = result
        self.user = user if user is not None and getattr(user, "pk", None) else None
        self.progress = progress or (lambda _sheet, _done, _total: None)
        self.reason = (gettext("imported from %(file)s") % {"file": result.filename})[:100]
        self.clusters: dict[str, Cluster] = {}
        self.clusters_loaded = False
        self.organisations: dict[str, Organisation] = {}
        self.kpis = {kpi.code.lower(): kpi for kpi in KpiDefinition.objects.all()}
        self.users: dict[str, Any] = {}
        # The plans or reports of the clusters last used, by year: a bounded cache (a cluster's rows come together).
        self.documents: OrderedDict[tuple[type, int], dict[int, AnnualPlan | AnnualReport]] = OrderedDict()
        # Keys refused in this file, to say so when a later row refers to them: (sheet, key) -> row.
        self.refused: dict[tuple[str, Any], int] = {}

    # --- the whole file --------------------------------------------------------------------------

    def run(self) -> None:
        runs = self.sheets()
        if not runs and not self.result.errors:
            expected = ", ".join(sheet.title() for sheet in fmt.SHEETS)
            self.file_error(
                gettext("The file holds none of the workbook's sheets (%(sheets)s).") % {"sheets": expected}
            )
        if self.result.errors:
            return
        signer = self.user or system_user()
        with acting_as(signer), change_reason(self.reason):
            try:
                with transaction.atomic():
                    for run in runs:
                        self.result.counts[run.title] = run.counts
                        self.take(run)
                    if self.result.errors or self.result.dry_run:
                        raise _Rollback
                    self.result.applied = True
            except _Rollback:
                self.result.applied = False

    def sheets(self) -> list[SheetRun]:
        """The file's sheets in dependency order, with their headers checked."""
        found: dict[str, SheetRun] = {}
        for title in self.source.titles():
            sheet = fmt.sheet_for(title)
            if sheet is None:
                if self.is_blank(title):
                    continue
                expected = ", ".join(s.title() for s in fmt.SHEETS)
                self.error(
                    title,
                    0,
                    "",
                    gettext("Unknown sheet “%(title)s”: the sheets are %(sheets)s.")
                    % {"title": title, "sheets": expected},
                )
                continue
            if sheet.name in found:
                self.error(
                    title,
                    0,
                    "",
                    gettext("Sheet “%(title)s” is the same as sheet “%(other)s”: keep one.")
                    % {"title": title, "other": found[sheet.name].title},
                )
                continue
            run = self.headers(sheet, title)
            if run is not None:
                found[sheet.name] = run
        return [found[sheet.name] for sheet in fmt.SHEETS if sheet.name in found]

    def is_blank(self, title: str) -> bool:
        """A sheet with nothing in it (Excel's "Sheet1") is ignored, not refused."""
        return all(all(_empty(cell) for cell in cells) for _number, cells in self.source.rows(title))

    def headers(self, sheet: fmt.Sheet, title: str) -> SheetRun | None:
        header_cells: list[Any] = []
        for _number, cells in self.source.rows(title):
            header_cells = cells
            break
        headers: dict[str, str] = {}
        ok = True
        for cell in header_cells:
            if _empty(cell):
                continue
            column = sheet.column_for(cell)
            written = str(cell.text if isinstance(cell, Unreadable) else cell).strip()
            if column is None:
                names = ", ".join(c.header() for c in sheet.columns)
                self.error(
                    title,
                    1,
                    written,
                    gettext("Unknown column “%(column)s”: the columns of this sheet are %(columns)s.")
                    % {"column": written, "columns": names},
                )
                ok = False
            elif column.name in headers:
                self.error(title, 1, written, gettext("Column “%(column)s” appears twice.") % {"column": written})
                ok = False
            else:
                headers[column.name] = written
        for column in sheet.key_columns:
            if column.name not in headers:
                self.error(
                    title,
                    1,
                    column.header(),
                    gettext("The sheet has no column “%(column)s”: every row needs it, to find what the row is about.")
                    % {"column": column.header()},
                )
                ok = False
        return SheetRun(sheet, title, headers) if ok else None

    def rows(self, run: SheetRun) -> Iterator[Row]:
        """The sheet's rows, each cell read; a row with an unreadable cell is refused here."""
        order: list[fmt.Column | None] = []
        total = self.source.size(run.title)
        for number, cells in self.source.rows(run.title):
            if number == 1:
                order = [run.sheet.column_for(cell) if not _empty(cell) else None for cell in cells]
                continue
            if number % 500 == 0:
                self.progress(run.title, number - 1, max(total - 1, number - 1))
            if all(_empty(cell) for cell in cells):
                continue
            parsed: dict[str, Any] = {}
            errors: dict[str, list[str]] = {}
            for column, cell in zip(order, cells, strict=False):
                if column is None:
                    if not _empty(cell):
                        errors.setdefault("", []).append(gettext("A value stands in a column without a header."))
                    continue
                if isinstance(cell, Unreadable):
                    message = (
                        gettext("This cell holds a formula (%(text)s); formulas are not evaluated: type the value.")
                        if cell.what == "formula"
                        else gettext("This cell holds an error value (%(text)s): type the value.")
                    )
                    errors.setdefault(column.name, []).append(message % {"text": cell.text[:60]})
                    continue
                try:
                    parsed[column.name] = column.parse(cell)
                except fmt.cells.CellError as error:
                    errors.setdefault(column.name, []).append(str(error))
            for column in run.sheet.key_columns:
                if column.name not in errors and parsed.get(column.name) is None:
                    errors.setdefault(column.name, []).append(
                        gettext("Fill in “%(column)s”: it is part of what identifies the row.")
                        % {"column": run.header(column.name)}
                    )
            for name in run.headers:
                parsed.setdefault(name, None)
            if errors:
                self.refuse(run, number, errors)
                continue
            yield Row(number, parsed)
        self.progress(run.title, max(total - 1, 0), max(total - 1, 0))

    # --- errors ------------------------------------------------------------------------------------

    def error(self, sheet: str, row: int, column: str, message: str) -> None:
        self.result.errors.append(RowError(sheet, row, column, message))

    def file_error(self, message: str) -> None:
        self.error("", 0, "", message)

    def refuse(self, run: SheetRun, number: int, errors: dict[str, list[str]], key: Any = None) -> None:
        run.counts.refused += 1
        for column, messages in errors.items():
            for message in messages:
                self.error(run.title, number, run.header(column), message)
        if key is not None:
            self.refused[(run.sheet.name, key)] = number

    def apply(
        self,
        run: SheetRun,
        row: Row,
        action: Callable[[Row], str],
        *,
        key: Any = None,
        columns: dict[str, str] | None = None,
    ) -> str | None:
        """Take one row in a savepoint; a refusal undoes it and is reported on the row's columns."""
        try:
            with transaction.atomic():
                outcome = action(row)
        except Refused as refused:
            self.refuse(run, row.number, refused.errors, key)
            return None
        except ValidationError as error:
            self.refuse(run, row.number, _by_column(error, columns or {}), key)
            return None
        except IntegrityError as error:  # a constraint the services did not foresee: still the row's fault
            self.refuse(
                run, row.number, {"": [gettext("The database refused the row: %(error)s") % {"error": error}]}, key
            )
            return None
        setattr(run.counts, outcome, getattr(run.counts, outcome) + 1)
        return outcome

    # --- references ----------------------------------------------------------------------------

    def cluster(self, reference: Any, column: str = "cluster") -> Cluster:
        text = str(reference).strip()
        if not self.clusters_loaded:  # the portal's clusters, once; those of the file are added as they are saved
            for cluster in Cluster.objects.all():
                self.remember_cluster(cluster)
            self.clusters_loaded = True
        found = self.clusters.get(text.lower()) or self.clusters.get(normalize_enterprise_number(text))
        if found is None:
            where = self.refused.get(("clusters", text))
            if where:
                raise Refused.on(
                    column,
                    gettext("Cluster “%(cluster)s” was refused on the sheet of clusters (row %(row)s).")
                    % {"cluster": text, "row": where},
                )
            raise Refused.on(
                column,
                gettext(
                    "Unknown cluster “%(cluster)s”: give the slug or the enterprise number of a cluster in the portal "
                    "or "
                    "on the sheet of clusters."
                )
                % {"cluster": text},
            )
        return found

    def remember_cluster(self, cluster: Cluster) -> None:
        self.clusters[cluster.slug.lower()] = cluster
        if cluster.enterprise_number:
            self.clusters[cluster.enterprise_number] = cluster

    def organisation(self, reference: Any, column: str = "organisation") -> Organisation:
        number = normalize_enterprise_number(str(reference))
        found = self.organisations.get(number) or Organisation.objects.filter(enterprise_number=number).first()
        if found is None:
            where = self.refused.get(("organisations", number))
            if where:
                raise Refused.on(
                    column,
                    gettext("Organisation %(number)s was refused on the sheet of organisations (row %(row)s).")
                    % {"number": reference, "row": where},
                )
            raise Refused.on(
                column,
                gettext(
                    "Unknown organisation “%(number)s”: give the enterprise number of an organisation in the portal "
                    "or on the sheet of organisations."
                )
                % {"number": reference},
            )
        self.organisations[number] = found
        return found

    def kpi(self, code: Any) -> KpiDefinition:
        found = self.kpis.get(str(code).strip().lower())
        if found is None:
            raise Refused.on(
                "kpi",
                gettext("Unknown KPI code “%(code)s”: the catalogue has %(codes)s.")
                % {"code": code, "codes": ", ".join(kpi.code for kpi in self.kpis.values())},
            )
        return found

    def document(
        self, model: type[AnnualPlan] | type[AnnualReport], cluster: Cluster, year: int
    ) -> AnnualPlan | AnnualReport:
        key = (model, cluster.pk)
        if key not in self.documents:
            # One query per cluster: its plans (or reports) of every year.
            self.documents[key] = {document.year: document for document in model.objects.filter(cluster=cluster)}
            if len(self.documents) > DOCUMENT_CLUSTERS:
                self.documents.popitem(last=False)
        self.documents.move_to_end(key)
        found = self.documents[key].get(year)
        if found is None:
            sheet = "plans" if model is AnnualPlan else "reports"
            title = fmt.SHEETS_BY_NAME[sheet].title()
            raise Refused.on(
                "year",
                gettext("%(cluster)s has no %(document)s for %(year)s: add it on the sheet “%(sheet)s”.")
                % {"cluster": cluster.name, "document": model._meta.verbose_name, "year": year, "sheet": title},
            )
        return found

    def evaluation(self, row: Row) -> Evaluation:
        cluster = self.cluster(row["cluster"])
        found = Evaluation.objects.filter(
            cluster=cluster, kind=row["evaluation_kind"], period_start=row["period_start"]
        ).first()
        if found is None:
            raise Refused.on(
                "period_start",
                gettext("%(cluster)s has no %(kind)s for the period from %(start)s: add it on the sheet “%(sheet)s”.")
                % {
                    "cluster": cluster.name,
                    "kind": Evaluation.Kind(row["evaluation_kind"]).label,
                    "start": row["period_start"].isoformat(),
                    "sheet": fmt.SHEETS_BY_NAME["evaluations"].title(),
                },
            )
        return found

    def pact(self, cluster: Cluster, version: int, column: str) -> ClusterPact:
        found = ClusterPact.objects.filter(cluster=cluster, version=version).first()
        if found is None:
            raise Refused.on(
                column,
                gettext("%(cluster)s has no pact version %(version)s: add it on the sheet “%(sheet)s”.")
                % {"cluster": cluster.name, "version": version, "sheet": fmt.SHEETS_BY_NAME["pacts"].title()},
            )
        return found

    # --- the sheets ------------------------------------------------------------------------------

    def take(self, run: SheetRun) -> None:
        getattr(self, f"take_{run.sheet.name}")(run)

    def take_clusters(self, run: SheetRun) -> None:
        for row in self.unique(run, self.rows(run), lambda r: r["slug"].lower()):

            def save(row: Row) -> str:
                cluster = Cluster.objects.filter(slug=row["slug"]).first() or Cluster(slug=row["slug"])
                outcome = _put(cluster, row, {c: c for c in run.headers if c != "slug"}, save=entity_save_call)
                self.remember_cluster(cluster)
                return outcome

            self.apply(run, row, save, key=row["slug"])

    def take_organisations(self, run: SheetRun) -> None:
        """Held organisations are updated row by row; new ones are created in chunks
        (`clusterpacts.services.organisations_create`)."""

        def key(row: Row) -> str:
            return normalize_enterprise_number(str(row["enterprise_number"]))

        fields = [c for c in run.headers if c != "enterprise_number"]
        for rows in _chunks(self.unique(run, self.rows(run), key), CHUNK):
            held = {o.enterprise_number: o for o in Organisation.objects.filter(enterprise_number__in=map(key, rows))}
            new: list[tuple[Row, Organisation]] = []
            for row in rows:
                number = key(row)
                organisation = held.get(number)
                if organisation is None:
                    new.append((row, _new(Organisation(enterprise_number=number), row, fields)))
                    continue

                def save(row: Row, organisation: Any = organisation) -> str:
                    return _put(organisation, row, {c: c for c in fields}, save=entity_save_call)

                if self.apply(run, row, save, key=number) is not None:
                    self.organisations[number] = organisation
            self.create_many(run, new, cp.organisations_create, remember=self.remember_organisation, key=key)

    def remember_organisation(self, organisation: Organisation) -> None:
        self.organisations[organisation.enterprise_number] = organisation

    def create_many(
        self,
        run: SheetRun,
        new: list[tuple[Row, Any]],
        service: Callable[..., list[ValidationError | None]],
        *,
        remember: Callable[[Any], None] | None = None,
        key: Callable[[Row], Any] | None = None,
    ) -> None:
        """Create the chunk's new rows at once through `service` (a bulk service of the owning app)."""
        if not new:
            return
        with transaction.atomic():
            outcomes = service(
                [instance for _row, instance in new],
                history_user=self.user or system_user(),
                change_reason=self.reason,
            )
        for (row, instance), refusal in zip(new, outcomes, strict=True):
            if refusal is None:
                run.counts.created += 1
                if remember is not None:
                    remember(instance)
            else:
                self.refuse(run, row.number, _by_column(refusal, {}), key(row) if key else None)

    def take_memberships(self, run: SheetRun) -> None:
        """Held memberships are updated row by row; new ones are created in chunks
        (`clusterpacts.services.memberships_create`, which checks the overlap against all of them)."""

        def key(row: Row) -> tuple[str, str, date]:
            return (
                str(row["cluster"]).lower(),
                normalize_enterprise_number(str(row["organisation"])),
                row["joined_on"],
            )

        fields = [c for c in ("left_on", "paying") if c in run.headers]
        for rows in _chunks(self.unique(run, self.rows(run), key), CHUNK):
            self.load_organisations(normalize_enterprise_number(str(row["organisation"])) for row in rows)
            found: list[tuple[Row, Cluster, Organisation]] = []
            for row in rows:
                try:
                    found.append((row, self.cluster(row["cluster"]), self.organisation(row["organisation"])))
                except Refused as refused:
                    self.refuse(run, row.number, refused.errors)
            held = {
                (m.cluster_id, m.organisation_id, m.joined_on): m
                for m in Membership.objects.filter(
                    cluster_id__in={c.pk for _r, c, _o in found}, organisation_id__in={o.pk for _r, _c, o in found}
                ).order_by()
            }
            new: list[tuple[Row, Membership]] = []
            for row, cluster, organisation in found:
                membership = held.get((cluster.pk, organisation.pk, row["joined_on"]))
                if membership is None:
                    blank = Membership(cluster=cluster, organisation=organisation, joined_on=row["joined_on"])
                    new.append((row, _new(blank, row, fields)))
                    continue

                def save(row: Row, membership: Any = membership) -> str:
                    return _put(
                        membership,
                        row,
                        {c: c for c in fields},
                        save=lambda target, changes: cp.membership_save(membership=target, **changes),
                    )

                self.apply(run, row, save)
            self.create_many(run, new, cp.memberships_create)

    def load_organisations(self, numbers: Iterable[str]) -> None:
        """The chunk's organisations the portal holds, in one query (those of the file are known already)."""
        wanted = {number for number in numbers if number not in self.organisations}
        for organisation in Organisation.objects.filter(enterprise_number__in=wanted):
            self.organisations[organisation.enterprise_number] = organisation

    def take_pacts(self, run: SheetRun) -> None:
        rows = sorted(
            self.unique(run, self.rows(run), lambda r: (str(r["cluster"]).lower(), r["version"])),
            key=lambda r: (str(r["cluster"]).lower(), r["version"]),
        )
        for row in rows:
            self.apply(run, row, self.save_pact, columns={"signed_on": "signed_on", "status": "status"})
        for row in rows:  # signing a later version supersedes the one before: the end state must be the file's
            if row["status"] is None or ("pacts", row.number) in self.refused:
                continue
            try:
                cluster = self.cluster(row["cluster"])
            except Refused:
                continue
            held = (
                ClusterPact.objects.filter(cluster=cluster, version=row["version"])
                .values_list("status", flat=True)
                .first()
            )
            if held is not None and held != row["status"]:
                run.counts.refused += 1
                self.error(
                    run.title,
                    row.number,
                    run.header("status"),
                    gettext(
                        "Version %(version)s ends up %(held)s, not %(status)s: a version is superseded when a later "
                        "one "
                        "is signed, and only the latest signed version is signed."
                    )
                    % {
                        "version": row["version"],
                        "held": ClusterPact.Status(held).label,
                        "status": ClusterPact.Status(row["status"]).label,
                    },
                )

    def save_pact(self, row: Row) -> str:
        cluster = self.cluster(row["cluster"])
        version, status = row["version"], row["status"]
        pact = ClusterPact.objects.filter(cluster=cluster, version=version).first()
        outcome = UNCHANGED
        content = {name: row[name] or "" for name in ("programme_summary", "notes") if row.has(name)}
        if pact is None:
            following = (ClusterPact.objects.filter(cluster=cluster).aggregate(v=models.Max("version"))["v"] or 0) + 1
            if version != following:
                raise Refused.on(
                    "version",
                    gettext(
                        "The next version of %(cluster)s's pact is %(next)s, not %(version)s: "
                        "versions follow each other."
                    )
                    % {"cluster": cluster.name, "next": following, "version": version},
                )
            pact = cp.pact_create(cluster=cluster, **content)
            outcome = CREATED
        elif any(getattr(pact, name) != value for name, value in content.items()):
            entity_save(instance=pact, **content)
            outcome = UPDATED
        wants_signed = status in (ClusterPact.Status.SIGNED, ClusterPact.Status.SUPERSEDED)
        if pact.status == ClusterPact.Status.DRAFT and wants_signed:
            cp.pact_sign(pact=pact, signed_on=row["signed_on"])
            return outcome if outcome == CREATED else UPDATED
        if pact.status != ClusterPact.Status.DRAFT and status == ClusterPact.Status.DRAFT:
            raise Refused.on(
                "status",
                gettext("Version %(version)s is signed: it cannot become a draft again.") % {"version": version},
            )
        if row.has("signed_on") and row["signed_on"] != pact.signed_on and pact.status != ClusterPact.Status.DRAFT:
            entity_save(instance=pact, signed_on=row["signed_on"])  # the model refuses an empty or future day
            return outcome if outcome == CREATED else UPDATED
        return outcome

    def take_commitments(self, run: SheetRun) -> None:
        def key(row: Row) -> tuple[Any, ...]:
            return (str(row["cluster"]).lower(), row["version"], row["party"], row["commitment"])

        for row in self.unique(run, self.rows(run), key):

            def save(row: Row) -> str:
                pact = self.pact(self.cluster(row["cluster"]), row["version"], "version")
                commitment = Commitment.objects.filter(
                    pact=pact, party=row["party"], description=row["commitment"]
                ).first()
                commitment = commitment or Commitment(pact=pact, party=row["party"], description=row["commitment"])
                return _put(
                    commitment, row, {c: c for c in ("status", "due_on") if c in run.headers}, save=entity_save_call
                )

            self.apply(run, row, save)

    def take_documents(self, run: SheetRun, model: type[AnnualPlan] | type[AnnualReport], text: str) -> None:
        """A document the portal holds is updated row by row (`document_update`); new ones are created in
        chunks (`clusterpacts.services.documents_create`, the same rules as one by one)."""

        def key(row: Row) -> tuple[str, int]:
            return (str(row["cluster"]).lower(), row["year"])

        content = [c for c in (text, "due_on") if c in run.headers]
        chunk: list[tuple[Row, AnnualPlan | AnnualReport]] = []
        for row in self.unique(run, self.rows(run), key):
            try:
                cluster = self.cluster(row["cluster"])
                held = self.held_document(model, cluster, row["year"])
            except Refused as refused:
                self.refuse(run, row.number, refused.errors)
                continue
            if held is None:
                document = model(cluster=cluster, year=row["year"])
                for column in content:
                    setattr(document, column, _field_value(model._meta.get_field(column), row[column]))
                chunk.append((row, document))
                if len(chunk) >= CHUNK:
                    self.create_documents(run, chunk)
                    chunk = []
                continue

            def save(row: Row, held: Any = held) -> str:
                return _put(
                    held,
                    row,
                    {c: c for c in content},
                    save=lambda d, changes: cp.document_update(document=d, **changes),
                )

            self.apply(run, row, save, columns={"year": "year", "__all__": ""})
        self.create_documents(run, chunk)

    def create_documents(self, run: SheetRun, chunk: list[tuple[Row, AnnualPlan | AnnualReport]]) -> None:
        if not chunk:
            return
        with transaction.atomic():
            outcomes = cp.documents_create(
                [document for _row, document in chunk],
                history_user=self.user or system_user(),
                change_reason=self.reason,
            )
        for (row, document), refusal in zip(chunk, outcomes, strict=True):
            if refusal is None:
                run.counts.created += 1
                self.remember_document(document)
            else:
                self.refuse(run, row.number, _by_column(refusal, {"__all__": ""}))

    def remember_document(self, document: AnnualPlan | AnnualReport) -> None:
        held = self.documents.get((type(document), document.cluster_id))
        if held is not None:
            held[document.year] = document

    def held_document(
        self, model: type[AnnualPlan] | type[AnnualReport], cluster: Cluster, year: int
    ) -> AnnualPlan | AnnualReport | None:
        try:
            return self.document(model, cluster, year)
        except Refused:
            return None

    def take_plans(self, run: SheetRun) -> None:
        self.take_documents(run, AnnualPlan, "planned_actions")

    def take_reports(self, run: SheetRun) -> None:
        self.take_documents(run, AnnualReport, "narrative")

    def take_figures(self, run: SheetRun, model: type[AnnualPlan] | type[AnnualReport]) -> None:
        seen: dict[int, int] = {}  # the key's hash -> its first row: a few bytes a row, not the key's text
        chunk: list[tuple[Row, cp.FigurePut]] = []
        for row in self.rows(run):
            key = hash((str(row["cluster"]).lower(), row["year"], str(row["kpi"]).lower()))
            if key in seen:
                self.refuse(run, row.number, {"kpi": [_duplicate(seen[key])]})
                continue
            seen[key] = row.number
            try:
                if row["value"] is None:
                    raise Refused.on("value", gettext("Fill in the value."))
                kpi = self.kpi(row["kpi"])
                document = self.document(model, self.cluster(row["cluster"]), row["year"])
            except Refused as refused:
                self.refuse(run, row.number, refused.errors)
                continue
            chunk.append((row, cp.FigurePut(document=document, kpi=kpi, value=row["value"])))
            if len(chunk) >= CHUNK:
                self.put_figures(run, chunk)
                chunk = []
        self.put_figures(run, chunk)

    def put_figures(self, run: SheetRun, chunk: list[tuple[Row, cp.FigurePut]]) -> None:
        if not chunk:
            return
        try:
            with transaction.atomic():
                outcomes = cp.kpi_figures_put(
                    [put for _row, put in chunk], history_user=self.user or system_user(), change_reason=self.reason
                )
        except IntegrityError as error:
            for row, _figure in chunk:
                self.refuse(
                    run, row.number, {"": [gettext("The database refused the row: %(error)s") % {"error": error}]}
                )
            return
        for (row, _figure), outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, ValidationError):
                self.refuse(run, row.number, {"value": outcome.messages})
            else:
                setattr(run.counts, outcome, getattr(run.counts, outcome) + 1)

    def take_targets(self, run: SheetRun) -> None:
        self.take_figures(run, AnnualPlan)

    def take_values(self, run: SheetRun) -> None:
        self.take_figures(run, AnnualReport)

    def take_workflow(self, run: SheetRun) -> None:
        groups: dict[tuple[str, str, int], list[Row]] = defaultdict(list)
        for row in self.unique(
            run, self.rows(run), lambda r: (r["document"], str(r["cluster"]).lower(), r["year"], r["step"])
        ):
            groups[(row["document"], str(row["cluster"]).lower(), row["year"])].append(row)
        documents = list(groups.items())
        for start in range(0, len(documents), STEP_CHUNK):
            self.take_steps(run, documents[start : start + STEP_CHUNK])

    def take_steps(self, run: SheetRun, documents: list[tuple[tuple[str, str, int], list[Row]]]) -> None:
        """The steps of some documents. Those a document holds are compared (a day, name or comment may be
        corrected, row by row); the ones after them are taken for all the documents at once
        (`clusterpacts.services.document_histories_put`: every step under `document_step`'s rules, as
        `document_transition` takes one). Steps are never removed."""
        found: list[tuple[AnnualPlan | AnnualReport, list[Row]]] = []
        for (kind, _cluster, year), rows in documents:
            rows.sort(key=lambda r: r["step"])
            model = AnnualPlan if kind == "plan" else AnnualReport
            try:
                found.append((self.document(model, self.cluster(rows[0]["cluster"]), year), rows))
            except Refused as refused:
                for row in rows:
                    self.refuse(run, row.number, refused.errors)
        held: dict[tuple[type, int], list[ReportEvent]] = defaultdict(list)
        for name, model in (("plan", AnnualPlan), ("report", AnnualReport)):
            ids = [document.pk for document, _rows in found if isinstance(document, model)]
            if ids:
                for event in ReportEvent.objects.filter(**{f"{name}__in": ids}).order_by("at", "id"):
                    held[(model, getattr(event, f"{name}_id"))].append(event)
        histories: list[tuple[AnnualPlan | AnnualReport, list[Row], list[cp.StepPut]]] = []
        for document, rows in found:
            taken = self.held_steps(run, document, rows, held[(type(document), document.pk)])
            if taken is not None:
                histories.append((document, rows[len(rows) - len(taken) :], taken))
        with transaction.atomic():
            outcomes = cp.document_histories_put(
                [(document, steps) for document, _rows, steps in histories],
                history_user=self.user or system_user(),
                change_reason=self.reason,
            )
        for (_document, rows, _steps), refusal in zip(histories, outcomes, strict=True):
            failed = refusal[0] if refusal is not None else len(rows)
            run.counts.created += failed
            if refusal is not None:
                columns = {"at": "on", "status": "status", "review_comment": "comment"}
                self.refuse(run, rows[failed].number, _by_column(refusal[1], columns))
                for later in rows[failed + 1 :]:
                    self.refuse(
                        run, later.number, {"step": [gettext("An earlier step of this document was refused.")]}
                    )

    def held_steps(
        self, run: SheetRun, document: AnnualPlan | AnnualReport, rows: list[Row], held: list[ReportEvent]
    ) -> list[cp.StepPut] | None:
        """Check a document's rows against its held steps (correcting those that differ); the steps after
        them to take, or None when the document's rows are refused."""
        for expected, row in enumerate(rows, start=1):
            if row["step"] != expected:
                for later in rows[expected - 1 :]:
                    message = gettext("Steps are numbered 1, 2, 3… per document: step %(step)s is missing.")
                    self.refuse(run, later.number, {"step": [message % {"step": expected}]})
                return None
        if len(rows) < len(held):
            message = gettext(
                "The portal holds %(held)s steps of this document and the file %(file)s: steps are never removed; "
                "give every step."
            ) % {"held": len(held), "file": len(rows)}
            for row in rows:
                self.refuse(run, row.number, {"step": [message]})
            return None
        taken: list[cp.StepPut] = []
        previous: datetime | None = None
        for index, row in enumerate(rows):
            missing = {
                column: [message]
                for column, message in (
                    ("status", gettext("Fill in the status the step moved the document to.")),
                    ("on", gettext("Fill in the day of the step.")),
                )
                if row[column] is None
            }
            if missing:
                self.refuse(run, row.number, missing)
                for later in rows[index + 1 :]:
                    self.refuse(
                        run, later.number, {"step": [gettext("An earlier step of this document was refused.")]}
                    )
                return None
            by, by_name = self.person(row["by"])
            at = _noon(row["on"])
            if index >= len(held):
                taken.append(cp.StepPut(to=row["status"], at=at, by=by, by_name=by_name, comment=row["comment"] or ""))
                continue

            def correct(
                row: Row,
                event: ReportEvent = held[index],
                previous: datetime | None = previous,
                by: Any = by,
                by_name: str = by_name,
            ) -> str:
                return self.correct_step(
                    document, event, row, at=_noon(row["on"]), by=by, by_name=by_name, previous=previous
                )

            if self.apply(run, row, correct, columns={"at": "on"}) is None:
                for later in rows[index + 1 :]:
                    self.refuse(
                        run, later.number, {"step": [gettext("An earlier step of this document was refused.")]}
                    )
                return None
            previous = held[index].at
        return taken

    def correct_step(
        self,
        document: AnnualPlan | AnnualReport,
        event: ReportEvent,
        row: Row,
        *,
        at: datetime,
        by: Any,
        by_name: str,
        previous: datetime | None,
    ) -> str:
        if event.to_status != row["status"]:
            raise Refused.on(
                "status",
                gettext("Step %(step)s is “%(held)s” in the portal: a step that was taken cannot become another.")
                % {"step": row["step"], "held": event.get_to_status_display()},
            )
        same_day = timezone.localdate(event.at) == row["on"]
        comment = row["comment"] or ""
        if (
            same_day
            and event.by_id == (by.pk if by else None)
            and (event.by_name or "") == by_name
            and event.comment == comment
        ):
            return UNCHANGED
        if not same_day:
            from clusterpacts.models import check_step_date

            check_step_date(document, at, previous_at=previous)
            event.at = at
        event.by, event.by_name, event.comment = by, by_name, comment
        event.save()
        _restamp(document)
        return UPDATED

    def person(self, name: Any) -> tuple[Any, str]:
        """A username in the portal -> (that user, ""); anyone else -> (None, the name as written)."""
        if not name:
            return None, ""
        text = str(name).strip()
        if text not in self.users:
            self.users[text] = get_user_model().objects.filter(username=text).first()
        user = self.users[text]
        return (user, "") if user is not None else (None, text)

    def take_evaluations(self, run: SheetRun) -> None:
        def key(row: Row) -> tuple[Any, ...]:
            return (str(row["cluster"]).lower(), row["kind"], row["period_start"])

        for row in self.unique(run, self.rows(run), key):

            def save(row: Row) -> str:
                cluster = self.cluster(row["cluster"])
                evaluation = Evaluation.objects.filter(
                    cluster=cluster, kind=row["kind"], period_start=row["period_start"]
                ).first()
                evaluation = evaluation or Evaluation(
                    cluster=cluster, kind=row["kind"], period_start=row["period_start"]
                )
                fields = {c: c for c in run.headers if c not in ("cluster", "kind", "period_start")}
                return _put(evaluation, row, fields, save=entity_save_call)

            self.apply(run, row, save)

    def take_findings(self, run: SheetRun) -> None:
        def key(row: Row) -> tuple[Any, ...]:
            return (str(row["cluster"]).lower(), row["evaluation_kind"], row["period_start"], row["criterion"])

        for row in self.unique(run, self.rows(run), key):

            def save(row: Row) -> str:
                evaluation = self.evaluation(row)
                finding = Finding.objects.filter(evaluation=evaluation, criterion=row["criterion"]).first()
                finding = finding or Finding(evaluation=evaluation, criterion=row["criterion"])
                fields = {c: {"finding": "text"}.get(c, c) for c in ("assessment", "finding") if c in run.headers}
                return _put(finding, row, fields, save=entity_save_call)

            self.apply(run, row, save, columns={"text": "finding"})

    def take_lessons(self, run: SheetRun) -> None:
        def key(row: Row) -> tuple[Any, ...]:
            return (
                str(row["cluster"]).lower(),
                row["evaluation_kind"],
                row["period_start"],
                row["kind"],
                row["lesson"],
            )

        for row in self.unique(run, self.rows(run), key):

            def save(row: Row) -> str:
                evaluation = self.evaluation(row)
                lesson = Lesson.objects.filter(evaluation=evaluation, kind=row["kind"], text=row["lesson"]).first()
                lesson = lesson or Lesson(evaluation=evaluation, kind=row["kind"], text=row["lesson"])
                values = dict(row.cells)
                if row.has("carried_into"):
                    version = row["carried_into"]
                    values["carried_into"] = (
                        self.pact(evaluation.cluster, version, "carried_into") if version else None
                    )
                fields = {c: c for c in ("follow_up", "status", "carried_into") if c in run.headers}
                return _put(lesson, Row(row.number, values), fields, save=entity_save_call)

            self.apply(run, row, save)

    def take_agreements(self, run: SheetRun) -> None:
        rows = list(self.unique(run, self.rows(run), lambda r: r["reference"]))
        by_reference = {row["reference"]: row for row in rows}
        done: set[str] = set()
        ordered: list[Row] = []

        def visit(row: Row, path: tuple[str, ...] = ()) -> None:
            reference = row["reference"]
            if reference in done or reference in path:
                return
            parent = by_reference.get(row["predecessor"] or "")
            if parent is not None:
                visit(parent, (*path, reference))
            done.add(reference)
            ordered.append(row)

        for row in rows:
            visit(row)
        for row in ordered:

            def save(row: Row) -> str:
                agreement = SupportAgreement.objects.filter(reference=row["reference"]).first()
                agreement = agreement or SupportAgreement(reference=row["reference"])
                values = dict(row.cells)
                if row.has("cluster"):
                    if row["cluster"] is None and agreement.pk is None:
                        raise Refused.on("cluster", gettext("Fill in the cluster the agreement supports."))
                    values["cluster"] = self.cluster(row["cluster"]) if row["cluster"] else agreement.cluster
                if row.has("predecessor"):
                    values["predecessor"] = self.agreement(row["predecessor"]) if row["predecessor"] else None
                fields = {c: c for c in run.headers if c != "reference"}
                return _put(
                    agreement,
                    Row(row.number, values),
                    fields,
                    save=lambda a, changes: agreement_save(agreement=a, **changes),
                )

            self.apply(run, row, save, key=row["reference"])

    def agreement(self, reference: str) -> SupportAgreement:
        found = SupportAgreement.objects.filter(reference=reference).first()
        if found is None:
            where = self.refused.get(("agreements", reference))
            message = (
                gettext("Agreement %(reference)s was refused on this sheet (row %(row)s).")
                % {"reference": reference, "row": where}
                if where
                else gettext(
                    "Unknown agreement “%(reference)s”: give the reference of an agreement in the portal "
                    "or on this sheet."
                )
                % {"reference": reference}
            )
            raise Refused.on("predecessor", message)
        return found

    def take_budget_years(self, run: SheetRun) -> None:
        for row in self.unique(run, self.rows(run), lambda r: r["year"]):

            def save(row: Row) -> str:
                budget_year = BudgetYear.objects.filter(year=row["year"]).first() or BudgetYear(year=row["year"])
                fields = {c: c for c in ("envelope", "notes") if c in run.headers}
                return _put(
                    budget_year, row, fields, save=lambda b, changes: budget_year_save(budget_year=b, **changes)
                )

            self.apply(run, row, save)

    def take_allocations(self, run: SheetRun) -> None:
        def key(row: Row) -> tuple[Any, ...]:
            if row["purpose"] == Allocation.Purpose.COMPETITIVENESS:
                return (row["year"], row["purpose"], str(row["cluster"] or "").lower())
            return (row["year"], row["purpose"], row["description"] or "")

        for row in self.unique(run, self.rows(run), key):

            def save(row: Row) -> str:
                budget_year = BudgetYear.objects.filter(year=row["year"]).first()
                if budget_year is None:
                    raise Refused.on(
                        "year",
                        gettext("There is no budget year %(year)s: add it on the sheet “%(sheet)s”.")
                        % {"year": row["year"], "sheet": fmt.SHEETS_BY_NAME["budget_years"].title()},
                    )
                cluster = self.cluster(row["cluster"]) if row["cluster"] else None
                held = Allocation.objects.filter(budget_year=budget_year, purpose=row["purpose"])
                if row["purpose"] == Allocation.Purpose.COMPETITIVENESS:
                    if cluster is None:
                        raise Refused.on(
                            "cluster", gettext("A competitiveness-programme allocation names exactly one cluster.")
                        )
                    allocation = held.filter(cluster=cluster).first()
                else:
                    allocation = held.filter(description=row["description"] or "").first()
                allocation = allocation or Allocation(budget_year=budget_year, purpose=row["purpose"])
                values = dict(row.cells, cluster=cluster)
                fields = {c: c for c in ("cluster", "amount", "description", "decided_on") if c in run.headers}
                partners = None
                if row.has("partners"):
                    partners = [self.cluster(name, "partners") for name in _split(row["partners"])]
                held_partners = (
                    set(
                        Allocation.partners.through.objects.filter(allocation=allocation.pk).values_list(
                            "cluster_id", flat=True
                        )
                    )
                    if allocation.pk
                    else set()
                )
                partners_change = partners is not None and {p.pk for p in partners} != held_partners

                def store(a: Allocation, changes: dict[str, Any]) -> None:
                    allocation_save(allocation=a, partners=partners, **changes)

                outcome = _put(allocation, Row(row.number, values), fields, save=store, force=partners_change)
                return outcome

            self.apply(run, row, save)

    def take_projects(self, run: SheetRun) -> None:
        """Each project through `funding.services.project_save` (its rules: the days, the status, the other
        clusters of an inter-cluster project, the partners held existing on the decision day), compared
        first: a row equal to what is held is left alone."""
        fields = {c: PROJECT_FIELDS.get(c, c) for c in run.headers if c not in ("reference", "other_clusters")}
        columns = {"status_on": "status_since", "clusters": "other_clusters", "partners": "decided_on"}
        for row in self.unique(run, self.rows(run), lambda r: r["reference"]):

            def save(row: Row) -> str:
                project = Project.objects.filter(reference=row["reference"]).first()
                project = project or Project(reference=row["reference"])
                # An empty status leaves the held one, or a new project's default (decided); an empty status
                # day is the decision day for a decided project (its only possible day), or else the held one.
                values = dict(row.cells, status=row["status"] or project.status)
                if row["status_since"] is None:
                    decided = values["status"] == Project.Status.DECIDED
                    values["status_since"] = (
                        (row["decided_on"] or project.decided_on) if decided else project.status_on
                    )
                if row["lead_cluster"]:
                    values["lead_cluster"] = self.cluster(row["lead_cluster"], "lead_cluster")
                elif project.pk is None:
                    raise Refused.on("lead_cluster", gettext("Fill in the cluster that leads the project."))
                else:
                    values["lead_cluster"] = project.lead_cluster
                clusters = None
                if row.has("other_clusters"):
                    clusters = [self.cluster(name, "other_clusters") for name in _split(row["other_clusters"])]
                held = set(project.clusters.values_list("pk", flat=True)) if project.pk else set()
                clusters_change = clusters is not None and {c.pk for c in clusters} != held

                def store(p: Project, changes: dict[str, Any]) -> None:
                    project_save(project=p, clusters=clusters, **changes)

                return _put(project, Row(row.number, values), fields, save=store, force=clusters_change)

            self.apply(run, row, save, key=row["reference"], columns=columns)

    def take_project_partners(self, run: SheetRun) -> None:
        """The partners of each project, taken together through `project_save` (one lead partner, each
        organisation once, every partner existing on the decision day): the file's partners are added to
        those the portal holds, a held partner's role may change, none is removed."""

        def key(row: Row) -> tuple[str, str]:
            return (row["project"], normalize_enterprise_number(str(row["organisation"])))

        projects: dict[str, list[Row]] = defaultdict(list)
        for row in self.unique(run, self.rows(run), key):
            projects[row["project"]].append(row)
        for reference, rows in projects.items():
            self.take_partners_of(run, reference, rows)

    def take_partners_of(self, run: SheetRun, reference: str, rows: list[Row]) -> None:
        project = Project.objects.filter(reference=reference).first()
        if project is None:
            where = self.refused.get(("projects", reference))
            message = (
                gettext("Project %(reference)s was refused on the sheet of projects (row %(row)s).")
                % {"reference": reference, "row": where}
                if where
                else gettext(
                    "Unknown project “%(reference)s”: give the reference of a project in the portal or on the sheet "
                    "“%(sheet)s”."
                )
                % {"reference": reference, "sheet": fmt.SHEETS_BY_NAME["projects"].title()}
            )
            for row in rows:
                self.refuse(run, row.number, {"project": [message]})
            return
        held = {partner.organisation_id: partner for partner in project.partners.select_related("organisation")}
        wanted = {pk: PartnerPut(partner.organisation, partner.role) for pk, partner in held.items()}
        found: list[tuple[Row, PartnerPut, str]] = []
        for row in rows:
            try:
                organisation = self.organisation(row["organisation"])
            except Refused as refused:
                self.refuse(run, row.number, refused.errors)
                continue
            before = held.get(organisation.pk)
            role = row["role"] or (before.role if before else ProjectPartner.Role.PARTNER)
            outcome = CREATED if before is None else (UNCHANGED if before.role == role else UPDATED)
            wanted[organisation.pk] = PartnerPut(organisation, role)
            found.append((row, wanted[organisation.pk], outcome))
        if any(outcome != UNCHANGED for _row, _put, outcome in found):
            try:
                with transaction.atomic():
                    project_save(project=project, partners=list(wanted.values()))
            except ValidationError as error:
                self.refuse_partners(run, project, found, error)
                return
        for _row, _put, outcome in found:
            setattr(run.counts, outcome, getattr(run.counts, outcome) + 1)

    def refuse_partners(
        self, run: SheetRun, project: Project, found: list[tuple[Row, PartnerPut, str]], error: ValidationError
    ) -> None:
        """The project's partners were refused together: each row whose partner breaks a rule on its own
        (`project_check` with that partner alone: it did not exist on the decision day) is refused with the
        rule's message; what only the rows together break (two lead partners) on the rows naming a lead."""
        clusters = list(project.clusters.all())
        own: dict[int, list[str]] = {}
        for row, put, _outcome in found:
            try:
                project_check(project=project, clusters=clusters, partners=[put])
            except ValidationError as alone:
                own[row.number] = alone.message_dict.get("partners", [])
        known = {message for messages in own.values() for message in messages}
        every = [message for messages in _by_column(error, {}).values() for message in messages]
        shared = [message for message in every if message not in known] or ([] if own else every)
        leads = {
            row.number for row, put, _o in found if put.role == ProjectPartner.Role.LEAD and not own.get(row.number)
        }
        for row, _put, _outcome in found:
            if own.get(row.number):
                self.refuse(run, row.number, {"organisation": own[row.number]})
            elif shared and (row.number in leads or not leads):
                self.refuse(run, row.number, {"role" if leads else "": shared})
            else:
                message = gettext(
                    "The partners of project %(reference)s are taken together, and another of its rows was refused."
                )
                self.refuse(run, row.number, {"": [message % {"reference": project.reference}]})

    # --- helpers -----------------------------------------------------------------------------------

    def unique(self, run: SheetRun, rows: Iterator[Row], key: Callable[[Row], Any]) -> Iterator[Row]:
        """The rows, less those whose key an earlier row of the sheet already has (refused, naming it)."""
        seen: dict[int, int] = {}  # the key's hash -> its first row: a few bytes a row, not the key's text
        for row in rows:
            value = hash(key(row))
            if value in seen:
                self.refuse(run, row.number, {"": [_duplicate(seen[value])]})
                continue
            seen[value] = row.number
            yield row


# The columns of the sheet of projects that name their model field otherwise.
PROJECT_FIELDS = {"status_since": "status_on"}


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _new(instance: Any, row: Row, columns: Iterable[str]) -> Any:
    """A new row's instance with the row's cells (an empty cell leaves the model's default)."""
    for column in columns:
        model_field = instance._meta.get_field(column)
        value = _field_value(model_field, row[column])
        if value is not None or not model_field.has_default():
            setattr(instance, column, value)
    return instance


def entity_save_call(instance: models.Model, changes: dict[str, Any]) -> None:
    entity_save(instance=instance, **changes)


def _put(
    instance: models.Model,
    row: Row,
    fields: dict[str, str],
    *,
    save: Callable[[Any, dict[str, Any]], Any],
    force: bool = False,
) -> str:
    """Give `instance` the row's cells (column -> model field) and save it through `save` when it is new or
    something differs from what is held; "created", "updated" or "unchanged"."""
    changes: dict[str, Any] = {}
    for column, name in fields.items():
        model_field = instance._meta.get_field(name)
        value = _field_value(model_field, row[column])
        if instance.pk is None or _differs(model_field, getattr(instance, name), value):
            changes[name] = value
    if instance.pk is None:
        # A new row takes the model's default for what the file leaves empty (e.g. "active").
        changes = {
            name: value for name, value in changes.items() if value is not None or not _has_default(instance, name)
        }
        save(instance, changes)
        return CREATED
    if not changes and not force:
        return UNCHANGED
    save(instance, changes)
    return UPDATED


def _field_value(model_field: Any, value: Any) -> Any:
    if value is None:
        if isinstance(model_field, models.BooleanField):
            return None
        return "" if isinstance(model_field, models.CharField | models.TextField) and not model_field.null else None
    if isinstance(model_field, models.ForeignKey) or not hasattr(model_field, "to_python"):
        return value
    try:
        return model_field.to_python(value)
    except ValidationError:
        return value  # full_clean refuses it, with the field's own message


def _differs(model_field: Any, held: Any, value: Any) -> bool:
    if isinstance(model_field, models.BooleanField) and value is None:
        return False
    if isinstance(model_field, models.ForeignKey):
        return (held.pk if held is not None else None) != (value.pk if value is not None else None)
    return bool(held != value)


def _has_default(instance: models.Model, name: str) -> bool:
    return cast("models.Field[Any, Any]", instance._meta.get_field(name)).has_default()


def _by_column(error: ValidationError, columns: dict[str, str]) -> dict[str, list[str]]:
    """A model's refusal by field -> by the sheet's column (a field the sheet names otherwise is mapped)."""
    if not hasattr(error, "error_dict"):
        return {"": error.messages}
    found: dict[str, list[str]] = {}
    for name, messages in error.message_dict.items():
        column = "" if name == NON_FIELD_ERRORS else columns.get(name, name)
        found.setdefault(column, []).extend(messages)
    return found


def _duplicate(first: int) -> str:
    return gettext("Row %(row)s already has this key: a row may appear once; keep one of the two.") % {"row": first}


def _empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _split(text: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", str(text or "")) if part.strip()]


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock(12)))


def _restamp(document: AnnualPlan | AnnualReport) -> None:
    """After a step's day was corrected: the document's submitted and reviewed times follow its steps."""
    events = list(
        ReportEvent.objects.filter(**{"plan" if isinstance(document, AnnualPlan) else "report": document}).order_by(
            "at", "id"
        )
    )
    submitted = [e for e in events if e.to_status == "submitted"]
    reviewed = [e for e in events if e.to_status in ("accepted", "returned")]
    type(document).objects.filter(pk=document.pk).update(
        submitted_at=submitted[-1].at if submitted else None,
        reviewed_at=reviewed[-1].at if reviewed else None,
        review_comment=reviewed[-1].comment if reviewed else "",
    )
