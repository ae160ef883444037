"""Form fields for query parameters that may repeat (``?a=1&a=2``) or be comma-separated (``?a=1,2``)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


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
    def parse_item(self, item: str) -> int:
        try:
            number = int(item)
        except ValueError:
            raise ValidationError(f"{item!r} is not an integer id.", code="invalid") from None
        if number < 1:
            raise ValidationError(f"{item!r} is not a valid id.", code="invalid")
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
    """ISO 8601 date (a whole day in the server time zone) or datetime (naive = server zone)."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            parsed = parse_datetime(text) if "T" in text or " " in text else parse_date(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(
                f"{text!r} is not an ISO 8601 date (YYYY-MM-DD) or datetime.", code="invalid"
            )
        if isinstance(parsed, dt.datetime) and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return DayBound(parsed)
