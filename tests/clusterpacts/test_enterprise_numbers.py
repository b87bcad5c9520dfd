"""Enterprise numbers (KBO/BCE): ten digits, mod-97 check, stored as digits only, unique per organisation."""

import pytest
from django.core.exceptions import ValidationError

from clusterpacts.models import Cluster, Organisation, format_enterprise_number
from clusterpacts.services import entity_save

pytestmark = pytest.mark.django_db


def enterprise_number(base: int) -> str:
    """Ten digits: the eight-digit base and its mod-97 check digits (97 - base % 97)."""
    return f"{base:08d}{97 - base % 97:02d}"


VALID = enterprise_number(1_234_567)  # 0123456749
OTHER_VALID = enterprise_number(12_345_678)  # 1234567894
WRONG_CHECK = VALID[:8] + f"{(int(VALID[8:]) + 1) % 100:02d}"


def test_the_computed_example_numbers_are_what_the_mod_97_rule_says():
    assert VALID == "0123456749"
    assert OTHER_VALID == "1234567894"
    assert 97 - 12_345_678 % 97 == 94


@pytest.mark.parametrize(
    "raw",
    ["0123.456.749", "0123456749", "0123 456 749", "BE 0123.456.749", "BE0123456749"],
)
def test_dotted_and_plain_organisation_numbers_are_accepted_and_stored_as_ten_digits(raw):
    organisation = entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number=raw))

    organisation.refresh_from_db()
    assert organisation.enterprise_number == "0123456749"
    assert format_enterprise_number(organisation.enterprise_number) == "0123.456.749"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (WRONG_CHECK, "wrong check digits"),
        ("0123.456.748", "wrong check digits, dotted"),
        ("012345674", "nine digits"),
        ("0123.456.74", "nine digits, dotted"),
        ("01234567490", "eleven digits"),
        ("0123A56749", "a letter"),
        ("ABCDEFGHIJ", "letters only"),
    ],
)
def test_invalid_organisation_number_is_refused_on_its_field_and_nothing_is_saved(raw, reason):
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number=raw))

    assert "enterprise_number" in caught.value.message_dict, reason
    assert not Organisation.objects.exists()


def test_wrong_check_digits_error_says_the_check_digits_do_not_match():
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number="0123.456.748"))

    assert "check digits" in " ".join(caught.value.message_dict["enterprise_number"])


def test_nine_digit_number_error_quotes_the_input_and_asks_for_ten_digits():
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number="012345674"))

    text = " ".join(caught.value.message_dict["enterprise_number"])
    assert "10 digits" in text
    assert "012345674" in text


def test_changing_an_organisation_to_an_invalid_number_keeps_the_stored_number():
    organisation = entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number=VALID))

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=organisation, enterprise_number=WRONG_CHECK)

    assert "enterprise_number" in caught.value.message_dict
    organisation.refresh_from_db()
    assert organisation.enterprise_number == VALID


def test_a_second_organisation_with_the_same_number_in_dotted_form_is_refused_on_the_field():
    entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number="0123456749"))

    with pytest.raises(ValidationError) as caught:
        entity_save(
            instance=Organisation(name="Acme twin", kind=Organisation.Kind.SME, enterprise_number="0123.456.749")
        )

    assert "enterprise_number" in caught.value.message_dict
    assert "already exists" in " ".join(caught.value.message_dict["enterprise_number"])
    assert list(Organisation.objects.values_list("name", flat=True)) == ["Acme"]


def test_organisations_with_different_numbers_are_both_saved():
    entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number=VALID))
    entity_save(instance=Organisation(name="Beta", kind=Organisation.Kind.COMPANY, enterprise_number=OTHER_VALID))

    assert set(Organisation.objects.values_list("enterprise_number", flat=True)) == {VALID, OTHER_VALID}


def test_several_organisations_without_a_number_are_allowed():
    entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.OTHER, enterprise_number=""))
    entity_save(instance=Organisation(name="Beta", kind=Organisation.Kind.OTHER, enterprise_number=""))

    assert Organisation.objects.filter(enterprise_number="").count() == 2


def test_saving_an_organisation_again_does_not_clash_with_its_own_number():
    organisation = entity_save(instance=Organisation(name="Acme", kind=Organisation.Kind.SME, enterprise_number=VALID))

    entity_save(instance=organisation, name="Acme NV")

    organisation.refresh_from_db()
    assert (organisation.name, organisation.enterprise_number) == ("Acme NV", VALID)


@pytest.mark.parametrize("raw", ["1234.567.894", "1234567894", "BE 1234 567 894"])
def test_cluster_number_in_any_notation_is_stored_as_ten_digits(raw):
    cluster = entity_save(instance=Cluster(name="Flux50", slug="flux50", enterprise_number=raw))

    cluster.refresh_from_db()
    assert cluster.enterprise_number == OTHER_VALID
    assert cluster.enterprise_number_display == "1234.567.894"


@pytest.mark.parametrize("raw", ["1234.567.895", "123456789", "12345678AB"])
def test_cluster_with_an_invalid_number_is_refused_on_its_field_and_not_saved(raw):
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=Cluster(name="Flux50", slug="flux50", enterprise_number=raw))

    assert "enterprise_number" in caught.value.message_dict
    assert not Cluster.objects.filter(slug="flux50").exists()


def test_a_second_cluster_with_the_same_number_is_refused_on_the_field():
    entity_save(instance=Cluster(name="Flux50", slug="flux50", enterprise_number=OTHER_VALID))

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=Cluster(name="VIL", slug="vil", enterprise_number="1234.567.894"))

    assert "enterprise_number" in caught.value.message_dict
    assert list(Cluster.objects.values_list("slug", flat=True)) == ["flux50"]
