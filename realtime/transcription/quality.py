"""Word error rate: how the project measures its speech recogniser (tests and bench).

Both texts are normalised the way transcripts are compared by ear: case, punctuation
and hyphens do not count, and small numbers written as digits equal the spoken words
("3" is "three"), since Whisper writes either.
"""

from __future__ import annotations

import re

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD = re.compile(r"[a-z0-9']+")


def _number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    hundreds, rest = divmod(n, 100)
    return [_ONES[hundreds], "hundred"] + (_number_words(rest) if rest else [])


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; numbers below 1000 spelled out."""
    words = []
    for token in _WORD.findall(text.lower().replace("-", " ")):
        token = token.strip("'")
        if not token:
            continue
        if token.isdigit() and int(token) < 1000:
            words.extend(_number_words(int(token)))
        else:
            words.append(token)
    return words


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(reference: str | list[str], hypothesis: str | list[str]) -> float:
    """Word errors over reference words (texts, or lists of texts pooled into one count)."""
    refs = [reference] if isinstance(reference, str) else list(reference)
    hyps = [hypothesis] if isinstance(hypothesis, str) else list(hypothesis)
    if len(refs) != len(hyps):
        raise ValueError("as many hypotheses as references are needed")
    errors = words = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        ref_words = normalise(ref)
        errors += edit_distance(ref_words, normalise(hyp))
        words += len(ref_words)
    if words == 0:
        raise ValueError("the reference has no words")
    return errors / words
