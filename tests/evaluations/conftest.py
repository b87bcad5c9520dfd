import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Assert on the English messages, whatever the default language and its translations."""
    with translation.override("en"):
        yield


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
