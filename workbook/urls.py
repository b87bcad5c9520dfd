from django.urls import path

from workbook import views

app_name = "workbook"

urlpatterns = [
    path("import/", views.import_start, name="start"),
    path("import/template.xlsx", views.import_template, name="template"),
    path("import/<int:pk>/", views.import_run, name="run"),
    path("import/<int:pk>/refusals.csv", views.import_refusals, name="refusals"),
]
