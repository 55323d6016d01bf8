"""``a_code_outside_window``: the one way notebooks and tests type a code the back office certainly
refuses (none of the codes of its window, nor of a step either side)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from twofa_sim import Reason, State
from twofa_sim.core.otp import a_code_outside_window

from conftest import make_office
from helpers import at_code_prompt, enrol, independent_totp, refused_code


@pytest.mark.parametrize("digits, window", [(6, 0), (6, 1), (6, 3), (8, 1)])
def test_the_back_office_refuses_it_as_a_wrong_code(digits, window):
    office = make_office(digits=digits, window=window)
    office.create_user("alice", "correct horse 42", company="ACME", force_2fa=True)
    secret = enrol(office, "alice")
    office.clock.advance(30)
    code = refused_code(office, secret)
    result = at_code_prompt(office, "alice").submit_code(code)
    assert (len(code), result.state, result.reason) == (digits, State.CODE_REQUIRED, Reason.WRONG_CODE)


@given(t=st.floats(min_value=0, max_value=4e9), window=st.integers(min_value=0, max_value=3),
       digits=st.sampled_from([6, 8]))
def test_it_is_none_of_the_codes_of_the_window_and_a_step_either_side(t, window, digits):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    code = a_code_outside_window(secret, t, window=window, digits=digits)
    present = int(t // 30)
    around = {independent_totp(secret, s * 30, digits=digits)
              for s in range(max(0, present - window - 1), present + window + 2)}
    assert len(code) == digits and code.isdigit() and code not in around
