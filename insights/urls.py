from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("insights/", views.dashboard, name="dashboard"),
    path("insights/briefing/", views.briefing_page, name="briefing"),
    path("insights/funding/", views.funding_overview, name="funding"),
    path("insights/compare/", views.compare, name="compare"),
    path("insights/briefing.docx", views.briefing_docx_download, name="briefing-docx"),
    path("insights/audit.csv", views.audit_export, name="audit"),
    path("insights/exports/<slug:dataset>.<str:fmt>", views.export, name="export"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<slug:slug>/", views.cluster_home, name="cluster"),
]
