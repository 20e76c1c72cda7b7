"""Dates written out for people: `24 September 2019`, `Sept. 24, 2019, 10:30 am`,
`Tuesday, 24 September 2019` (the text of a `<time>` without `datetime`, as nature.com
writes its microdata).

Read with python-dateutil's parser, which knows English month and day names, and only
when the text names its month in words, has a day and a year, and nothing is left over:
a date in digits only (`1/2/2019`) is ambiguous between the American and the European
order and is refused, as is anything dateutil would complete from today's date.
"""

from __future__ import annotations

from datetime import datetime

from dateutil import parser

_INFO = parser.parserinfo()
_ONE = datetime(2000, 1, 1, 0, 0, 0)  # two defaults: a part filled in differs between them
_TWO = datetime(2001, 2, 2, 1, 1, 1)


def written_out(raw: str) -> tuple[datetime, bool] | None:
    """(the moment, whether a time of day was given) of a date written out in English, or
    None. Without a time the moment is at midnight; with one, it carries the offset when
    the text gives one."""
    words = [w.strip(".,") for w in raw.split()]
    if not any(w.isalpha() and _INFO.month(w) for w in words):
        return None
    try:
        one = parser.parse(raw, default=_ONE)
        two = parser.parse(raw, default=_TWO)
    except (ValueError, OverflowError):
        return None
    if (one.year, one.month, one.day) != (two.year, two.month, two.day):
        return None  # a part of the date was missing
    return one, one.hour == two.hour
