"""The models of clusterpacts, one module per aggregate; every name is importable from here.

- clusters: clusters, organisations, memberships, cluster managers, enterprise numbers
- pacts: cluster pacts and their commitments
- documents: annual plans and reports, their workflow steps and attachments
- kpis: the KPI catalogue, targets and values

Models state facts about their own row (STYLE.md rule 3): fields, database constraints and
`clean()`. Every write goes through `clusterpacts.services`.
"""

from clusterpacts.models.clusters import (
    Cluster,
    ClusterManager,
    EnterpriseNumberField,
    Membership,
    MembershipQuerySet,
    Organisation,
    check_enterprise_number_unique,
    display_date,
    format_enterprise_number,
    membership_active_on,
    normalize_enterprise_number,
    periods_overlap,
    validate_enterprise_number,
)
from clusterpacts.models.documents import (
    EDITABLE_STATES,
    MISSING,
    NOT_SUBMITTED,
    WORKFLOW_TRANSITIONS,
    AnnualPlan,
    AnnualReport,
    ReportAttachment,
    ReportEvent,
    ReportEventQuerySet,
    Workflow,
    WorkflowDocument,
    attachment_path,
    check_pdf,
    check_step_date,
    check_transition,
    default_report_due_on,
    document_constraints,
    first_document_year,
    plan_years,
    report_overdue,
    report_years,
)
from clusterpacts.models.kpis import (
    KpiDefinition,
    KpiFigure,
    KpiTarget,
    KpiTargetTally,
    KpiValue,
    check_figures_editable,
    figure_constraints,
)
from clusterpacts.models.pacts import (
    ClusterPact,
    Commitment,
)

__all__ = [
    "EDITABLE_STATES",
    "MISSING",
    "NOT_SUBMITTED",
    "WORKFLOW_TRANSITIONS",
    "AnnualPlan",
    "AnnualReport",
    "Cluster",
    "ClusterManager",
    "ClusterPact",
    "Commitment",
    "EnterpriseNumberField",
    "KpiDefinition",
    "KpiFigure",
    "KpiTarget",
    "KpiTargetTally",
    "KpiValue",
    "Membership",
    "MembershipQuerySet",
    "Organisation",
    "ReportAttachment",
    "ReportEvent",
    "ReportEventQuerySet",
    "Workflow",
    "WorkflowDocument",
    "attachment_path",
    "check_enterprise_number_unique",
    "check_figures_editable",
    "check_pdf",
    "check_step_date",
    "check_transition",
    "default_report_due_on",
    "display_date",
    "document_constraints",
    "figure_constraints",
    "first_document_year",
    "format_enterprise_number",
    "membership_active_on",
    "normalize_enterprise_number",
    "periods_overlap",
    "plan_years",
    "report_overdue",
    "report_years",
    "validate_enterprise_number",
]
