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
