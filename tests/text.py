"""Reading pages in tests."""

import re


def has_word(text: str, word: str) -> bool:
    """`word` as a whole word: a short name such as "SIM" may turn up inside a random CSRF token."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None
