"""Text that is safe in a mail subject: the account part."""

from __future__ import annotations

from handlers.text import subject_account


def test_the_account_part_of_a_subject_keeps_its_room():
    assert subject_account("111122223333") == " in 111122223333"
    assert subject_account("") == " in unknown account"
    assert subject_account("x" * 50) == " in " + "x" * 16
    assert subject_account("111122223333", "acme-prod") == " in 111122223333 (acme-prod)"
    long_alias = subject_account("111122223333", "a" * 63)
    assert len(long_alias) == 40 and long_alias.startswith(" in 111122223333 (aaa") and long_alias.endswith("...)")
