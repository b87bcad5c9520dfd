import pytest

from tests import factories


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
