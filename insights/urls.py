from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<slug:slug>/", views.cluster_home, name="cluster"),
]
