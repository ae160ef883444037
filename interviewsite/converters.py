"""Database ids in URLs and parameters, and the path converter for them."""

import re

MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed primary key
ID_PATTERN = "[0-9]{1,19}"
_ID = re.compile(ID_PATTERN)


def parse_id(text: str) -> int | None:
    """A database id written as text: 1 to 2**63 - 1 in ASCII digits, else None.

    ``int()`` alone would also take ``+7``, ``1_000``, other scripts' digits, thousands of
    digits (a ValueError past 4,300) and numbers no 64-bit column holds (SQLite raises
    ``OverflowError`` when one is bound).
    """
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class PositiveIdConverter:
    """``<pk:name>``: a database id, 1 to 2**63 - 1, in plain ASCII digits.

    Django's ``<int:...>`` accepts any length of digits, so an id no row can have would
    reach the database. Out of range, the URL simply does not match: the usual 404.
    """

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"{value} is not a database id")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


#: How the converter appears in the OpenAPI schema (drf-spectacular's PATH_CONVERTER_OVERRIDES).
OPENAPI_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "format": "int64"}
