import pytest


@pytest.fixture(autouse=True)
def _in_english(english):
    """These tests compare messages with their English source text; test_i18n checks the Dutch."""
