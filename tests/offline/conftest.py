"""Plans of every stack file, shared by the tests that check them against AWS's definitions."""

from __future__ import annotations

import pytest

from offline.plan import plan_all
from offline.stack_config import example_stack_files


@pytest.fixture(scope="module")
def planned():
    """Every stack file's plan: the team's own and the examples."""
    return plan_all()


@pytest.fixture(scope="module")
def plans(planned):
    """The examples' plans by name: their values are what the assertions know."""
    examples = {p.stack: p for p in planned if p.example}
    assert set(examples) == {f.name for f in example_stack_files()} and examples
    assert not [p.error for p in examples.values() if p.error]
    return {stack: p.run for stack, p in examples.items()}
