import pytest

from tests import factories
from tests.api_helpers import ApiClient


@pytest.fixture
def client():
    """pytest-django's client, writing to the API with the object's current ETag as If-Match."""
    return ApiClient()


@pytest.fixture
def cluster(db):
    return factories.ClusterFactory(name="Catalisti", slug="catalisti")


@pytest.fixture
def other_cluster(db):
    return factories.ClusterFactory(name="SIM", slug="sim")


@pytest.fixture
def officer(db):
    return factories.officer(username="officer")


@pytest.fixture
def reader(db):
    return factories.reader(username="analyst")


@pytest.fixture
def manager(cluster):
    return factories.manager_of(cluster, username="manager-catalisti")


@pytest.fixture
def other_manager(other_cluster):
    return factories.manager_of(other_cluster, username="manager-sim")


@pytest.fixture
def english():
    """Assert on the English messages (the source text), whatever the default language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def reload_migrated_data() -> None:
    """Put back what the migrations load and a flush removes: the roles and the KPI catalogue (with the
    migration's own code), then content types and permissions (post_migrate, which also gives the roles
    their permissions). Safe to repeat."""
    import importlib

    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal
    from django.db import DEFAULT_DB_ALIAS

    data = importlib.import_module("clusterpacts.migrations.0002_roles_and_kpi_catalogue")
    data.create_roles(apps, None)
    data.load_catalogue(apps, None)
    emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """A transactional test (live server, worker, browser) empties every table when it ends; the tests
    after it must still find the roles and the KPI catalogue that the migrations load. This runs after
    every fixture of the test is torn down, so after that flush, however the test asked for it."""
    result = yield
    # After the last test the test database itself is gone (session teardown): nothing to restore.
    if nextitem is not None and _is_transactional(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            reload_migrated_data()
    return result
