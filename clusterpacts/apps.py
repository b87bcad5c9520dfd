from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# The apps whose models VLAIO officers edit in the admin (and API readers may view).
DOMAIN_APPS = ("clusterpacts", "evaluations", "funding")


def sync_role_permissions(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Officers hold every permission on the domain models (and may unlock a login); API readers hold the view
    permissions."""
    from django.contrib.auth.models import Group, Permission

    from core.roles import API_READER, OFFICER

    domain = Permission.objects.using(using).filter(content_type__app_label__in=DOMAIN_APPS)
    # Officers pick users when they link a cluster manager to a cluster (the admin's autocomplete
    # needs view_user); they cannot change accounts, so they cannot raise their own rights.
    view_user = Permission.objects.using(using).filter(content_type__app_label="auth", codename="view_user")
    # Officers unlock a locked-out login: they see axes' attempts and logs and delete an attempt.
    lockouts = Permission.objects.using(using).filter(
        content_type__app_label="axes",
        codename__in=["view_accessattempt", "delete_accessattempt", "view_accessfailurelog", "view_accesslog"],
    )
    officer = Group.objects.using(using).filter(name=OFFICER).first()
    reader = Group.objects.using(using).filter(name=API_READER).first()
    if officer:
        officer.permissions.set(domain | view_user | lockouts)
    if reader:
        reader.permissions.set(domain.filter(codename__startswith="view_"))


class ClusterpactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clusterpacts"
    verbose_name = _("Cluster pacts")

    def ready(self) -> None:
        # Runs after every app's post_migrate (permissions are created by auth's own handler first,
        # since django.contrib.auth comes earlier in INSTALLED_APPS).
        post_migrate.connect(sync_role_permissions, dispatch_uid="clusterpacts.sync_role_permissions")
