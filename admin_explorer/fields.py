"""Form fields for query parameters that may repeat (``?a=1&a=2``) or be comma-separated (``?a=1,2``)."""

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from interviewsite.converters import MAX_ID, parse_id

#: Dates outside this window are mistakes, and near the ends of ``datetime``'s range a day
#: or a time zone added to them would overflow (year 1 and 9999 were 500s).
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)
#: What the date filters accept (also their pattern in the OpenAPI schema): ISO 8601
#: ``YYYY-MM-DD``, or a date-time with optional seconds, fraction and offset. A space may
#: stand for the "T", and for the "+" of an offset: an unencoded "+" in a query string
#: arrives as a space.
DATE_OR_DATETIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+ -][0-9]{2}:?[0-9]{2})?)?"
)
_DATE_OR_DATETIME = re.compile(DATE_OR_DATETIME)
_SPACE_OFFSET = re.compile(r"(:[0-9]{2}(?:\.[0-9]{1,6})?) ([0-9]{2}:?[0-9]{2})$")


class RepeatableCSVWidget(forms.Widget):
    """Collects every value of a parameter and splits each on commas."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        items = [part.strip() for value in values if value for part in str(value).split(",")]
        return [item for item in items if item] or None


class ListField(forms.Field):
    widget = RepeatableCSVWidget

    def to_python(self, value):
        if not value:
            return []
        return [self.parse_item(item) for item in value]

    def parse_item(self, item: str):
        return item


class IdListField(ListField):
    """Database ids: 1 to 2**63 - 1 in ASCII digits (see ``converters.parse_id``)."""

    def parse_item(self, item: str) -> int:
        number = parse_id(item)
        if number is None:
            shown = item if len(item) <= 40 else item[:40] + "…"
            raise ValidationError(
                f"{shown!r} is not an id (a whole number from 1 to {MAX_ID}).", code="invalid"
            )
        return number


class ChoiceListField(ListField):
    def __init__(self, *, choices, **kwargs):
        self.allowed = [value for value, _label in choices]
        super().__init__(**kwargs)

    def parse_item(self, item: str) -> str:
        if item not in self.allowed:
            raise ValidationError(
                f"{item!r} is not one of {', '.join(self.allowed)}.", code="invalid_choice"
            )
        return item


class TagListField(ListField):
    def parse_item(self, item: str) -> str:
        if len(item) > 64:
            raise ValidationError("Tag names are at most 64 characters.", code="max_length")
        if "\x00" in item:  # PostgreSQL refuses NUL in text
            raise ValidationError(
                "Tag names cannot contain NUL characters.", code="null_characters"
            )
        return item


class DayBound:
    """A parsed date or datetime; ``start``/``end`` turn it into an instant in the server zone."""

    def __init__(self, value: dt.date | dt.datetime):
        self.value = value

    def start(self) -> dt.datetime:
        if isinstance(self.value, dt.datetime):
            return self.value
        return timezone.make_aware(dt.datetime.combine(self.value, dt.time.min))

    def end_exclusive(self) -> dt.datetime:
        """First instant after the bound: the next midnight for a date, a microsecond later for a datetime."""
        if isinstance(self.value, dt.datetime):
            return self.value + dt.timedelta(microseconds=1)
        return timezone.make_aware(
            dt.datetime.combine(self.value + dt.timedelta(days=1), dt.time.min)
        )


class DateOrDateTimeField(forms.Field):
    """ISO 8601 date (a whole day in the server time zone) or datetime (naive = server zone,
    an offset is honoured), between 1900-01-01 and 2999-12-31."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        shown = text if len(text) <= 40 else text[:40] + "…"
        parsed = None
        if _DATE_OR_DATETIME.fullmatch(text):
            text = _SPACE_OFFSET.sub(r"\1+\2", text)
            try:
                parsed = parse_datetime(text) if len(text) > 10 else parse_date(text)
            except (ValueError, OverflowError):
                parsed = None
        if parsed is None:
            raise ValidationError(
                f"{shown!r} is not an ISO 8601 date (YYYY-MM-DD) or datetime.", code="invalid"
            )
        try:
            if isinstance(parsed, dt.datetime) and timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            day = parsed.astimezone(dt.UTC).date() if isinstance(parsed, dt.datetime) else parsed
        except (ValueError, OverflowError):
            day = None  # the offset moves it past year 1 or 9999
        if day is None or not EARLIEST <= day <= LATEST:
            raise ValidationError(
                f"{shown!r} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}.",
                code="out_of_range",
            )
        return DayBound(parsed)
