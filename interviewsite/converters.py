"""URL path converters shared by the apps."""

MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed primary key


class PositiveIdConverter:
    """``<pk:name>``: a database id, 1 to 2**63 - 1, in plain ASCII digits.

    Django's ``<int:...>`` accepts any length of digits; an id no row can have would reach
    the database (SQLite raises ``OverflowError`` past 64 bits). Out of range, the URL
    simply does not match, so the answer is the usual 404.
    """

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not a database id")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


#: How the converter appears in the OpenAPI schema (drf-spectacular's PATH_CONVERTER_OVERRIDES).
OPENAPI_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "format": "int64"}
