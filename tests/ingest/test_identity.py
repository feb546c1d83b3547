"""ID-card numbers (GB 11643-1999) and the payload's patient reference: pure, no fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cdm.identity import (
    IdNumberError,
    check_character,
    disagreement,
    id_card_hash,
    mask_id_number,
    parse_id_number,
)
from cdm.payload import PatientRef, bp_payload, reading_topic
from ingest.validate import Limits, Rejection, decode


def id_number(area: str = "110105", born: date = date(1949, 12, 31), seq: str = "002") -> str:
    first17 = f"{area}{born:%Y%m%d}{seq}"
    return first17 + check_character(first17)


def test_the_standards_example_number_is_valid_and_says_born_1949_female():
    number = parse_id_number("11010519491231002X")
    assert (number.birth_date, number.sex, number.number) == (date(1949, 12, 31), "F", "11010519491231002X")
    assert parse_id_number("11010519491231002x").number == "11010519491231002X", "a lower-case x is the same"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("11010519491231002", "18 characters"),
        ("1101051949123100X2", "18 characters"),
        ("110105194912310021", "check character"),  # one typing error
        ("110105194913310020", "birth date"),  # month 13
        (id_number(born=date(1899, 12, 31)), "before 1900"),
    ],
)
def test_wrong_numbers_are_refused_saying_why_and_never_echoing_the_number(text, says):
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(text)
    assert says in str(caught.value) and text not in str(caught.value)


def test_a_future_birth_date_is_refused():
    with pytest.raises(IdNumberError, match="future"):
        parse_id_number(id_number(born=date(2026, 12, 1)), today=date(2026, 11, 23))


def test_every_single_digit_typo_is_caught_by_the_check_character():
    good = id_number()
    for i in range(17):
        for d in "0123456789":
            typo = good[:i] + d + good[i + 1 :]
            if typo == good:
                continue
            try:
                parse_id_number(typo)
            except IdNumberError:
                continue
            raise AssertionError(f"typo at position {i} passed")


def test_sex_is_the_parity_of_the_17th_digit_and_must_agree_with_the_patient():
    man = parse_id_number(id_number(seq="011"))
    assert man.sex == "M" and parse_id_number(id_number(seq="010")).sex == "F"
    assert disagreement(man, sex="M", birth_year=1949) is None
    assert "sex" in (disagreement(man, sex="F", birth_year=1949) or "")
    assert "birth year" in (disagreement(man, sex="M", birth_year=1950) or "")


def test_the_hash_is_keyed_and_the_mask_hides_birth_date_and_sequence():
    number = parse_id_number("11010519491231002X")
    assert id_card_hash(number, b"k1") != id_card_hash(number, b"k2")
    assert id_card_hash(number, b"k1") == id_card_hash(parse_id_number("11010519491231002x"), b"k1")
    assert mask_id_number(number.number) == "110105********002X"
    assert "11010519491231002X" not in repr(number)


LIMITS = Limits(county_code="c")


def payload(scheme: str, value: str) -> bytes:
    # Built by hand: the schema refuses to construct a bad reference, and a bad meter sends bytes anyway.
    good = bp_payload(
        device_uid="BP-1", seq=1, measured_at=datetime.now(UTC) - timedelta(seconds=5), systolic=130, diastolic=80,
        pulse=70, patient=PatientRef(scheme="health_card", value="H1"),
    )  # fmt: skip
    return good.replace(b'"scheme":"health_card","value":"H1"', f'"scheme":"{scheme}","value":"{value}"'.encode())


def test_a_mistyped_id_number_is_refused_at_once_with_a_specific_reason():
    outcome = decode(
        topic=reading_topic("c", "BP-1"), payload=payload("id_card", "110105194912310021"),
        received_at=datetime.now(UTC), limits=LIMITS,
    )  # fmt: skip
    assert isinstance(outcome, Rejection) and outcome.reason == "bad_id_card"
    assert "check character" in outcome.detail and "110105194912310021" not in outcome.detail


def test_an_id_number_sent_as_a_health_card_is_refused_so_it_is_never_kept_in_clear():
    outcome = decode(
        topic=reading_topic("c", "BP-1"), payload=payload("health_card", "11010519491231002X"),
        received_at=datetime.now(UTC), limits=LIMITS,
    )  # fmt: skip
    assert isinstance(outcome, Rejection) and "scheme id_card" in outcome.detail


def test_a_valid_id_reference_passes_validation():
    outcome = decode(
        topic=reading_topic("c", "BP-1"), payload=payload("id_card", "11010519491231002X"),
        received_at=datetime.now(UTC), limits=LIMITS,
    )  # fmt: skip
    assert not isinstance(outcome, Rejection) and outcome.patient_scheme == "id_card"
    assert "11010519491231002X" not in repr(PatientRef(scheme="id_card", value="11010519491231002X"))
