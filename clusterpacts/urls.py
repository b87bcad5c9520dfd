from django.urls import path

from clusterpacts import views

app_name = "clusterpacts"

urlpatterns = [
    path("clusters/<slug:slug>/plans/<int:year>/", views.plan_edit, name="plan"),
    path("clusters/<slug:slug>/reports/<int:year>/", views.report_edit, name="report"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("review/", views.review_queue, name="review"),
    path("review/reports/<int:pk>/", views.review_report, name="review-report"),
    path("review/plans/<int:pk>/", views.review_plan, name="review-plan"),
    path("review/accept/", views.review_bulk_accept, name="review-bulk-accept"),
]
