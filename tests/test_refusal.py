"""refusal(): "this is refused" said as an assertion in the notebooks, not as try/except."""

from __future__ import annotations

import pytest

from twofa_sim.core.errors import AlreadyExistsError, ValidationError, refusal

from conftest import PASSWORD, make_office


def test_the_error_an_action_is_refused_with():
    office = make_office()
    office.create_user("alice", PASSWORD)
    error = refusal(lambda: office.create_user("ALICE", PASSWORD))
    assert isinstance(error, AlreadyExistsError) and "taken" in str(error)
    assert isinstance(refusal(lambda: office.create_user("bob", "short")), ValidationError)


def test_an_action_that_goes_through_fails_the_assertion():
    office = make_office()
    with pytest.raises(AssertionError, match="expected a refusal, but the action went through"):
        refusal(lambda: office.create_user("bob", PASSWORD))


def test_an_error_that_is_not_a_refusal_propagates():
    with pytest.raises(ZeroDivisionError):
        refusal(lambda: 1 / 0)
