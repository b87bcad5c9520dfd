from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config import api, views
from core import two_factor_views
from core import views as core_views

admin.site.site_header = _("Clusterpact portal — VLAIO")
admin.site.site_title = _("Clusterpact portal")
admin.site.index_title = _("Administration")

urlpatterns = [
    # The API first: Django tries the patterns in order, and each include it passes through on the way
    # (the apps' pages, mounted at "") is tried in full and its patterns copied into the list of what was
    # tried. No page's path starts with "api/", so the order changes nothing but that cost.
    *api.urlpatterns,
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/two-factor/setup/", two_factor_views.setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor_views.verify, name="two_factor_verify"),
    path("accounts/settings/", core_views.account_settings, name="account_settings"),
    # Django's login and password reset, in the user's language and with links to the site's address.
    path("accounts/login/", core_views.LoginView.as_view(), name="login"),
    path("accounts/password_reset/", core_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("clusterpacts.urls")),
    path("", include("evaluations.urls")),
    path("", include("insights.urls")),
    path("", include("workbook.urls")),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
