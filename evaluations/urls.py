from django.urls import path

from evaluations import views

app_name = "evaluations"

urlpatterns = [
    path("evaluations/<int:pk>/report/", views.report_file_download, name="report-file"),
]
