"""``a_wrong_code``: the one way notebooks and tests type a code that is certainly wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from twofa_sim import Reason, State, ValidationError
from twofa_sim.core.otp import a_wrong_code

from conftest import make_office
from helpers import at_code_step, current_code, enrol


@pytest.mark.parametrize("right, wrong", [
    ("123456", "000000"),
    ("000000", "111111"),     # the once-in-a-million step whose code is all zeros
    ("000001", "000000"),
    ("111111", "000000"),
    ("12345678", "00000000"),  # eight digits stay eight
    ("00000000", "11111111"),
    ("0", "1"),
])
def test_a_wrong_code_table(right, wrong):
    assert a_wrong_code(right) == wrong


@given(st.text(alphabet="0123456789", min_size=1, max_size=10))
def test_a_wrong_code_is_never_the_right_one_and_has_its_length(right):
    wrong = a_wrong_code(right)
    assert wrong != right and len(wrong) == len(right) and wrong.isdigit()


@pytest.mark.parametrize("bad", ["", "12 456", "12345a", "١٢٣٤٥٦", 123456, None])
def test_anything_but_digits_is_refused_without_echoing_it(bad):
    with pytest.raises(ValidationError) as caught:
        a_wrong_code(bad)
    assert caught.value.field == "right_code"
    if isinstance(bad, str) and bad:
        assert bad not in str(caught.value)


@pytest.mark.parametrize("digits", [6, 8])
def test_the_back_office_refuses_it_as_a_wrong_code(digits):
    office = make_office(digits=digits)
    office.create_user("alice", "correct horse 42", company="ACME", force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    result = at_code_step(office, "alice").submit_code(a_wrong_code(current_code(office, secret)))
    assert (result.state, result.reason) == (State.CODE_REQUIRED, Reason.WRONG_CODE)
