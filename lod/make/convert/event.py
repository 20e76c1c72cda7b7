"""Events: schema:Event with its sub-events, roles (Role pattern) and recording."""

from ...vocab import SDO
from .fields import (
    ANY_KIND,
    DATE,
    AttendanceMode,
    Contributors,
    Kind,
    Link,
    Recording,
    Text,
    Value,
    VirtualLocation,
    common_fields,
)

AGENTS = ("organisation", "person")

KIND = Kind(
    name="event",
    classes=(SDO.Event,),
    fields=(
        Text("name", SDO.name, required=True),
        Value("startDate", SDO.startDate, DATE),
        Value("endDate", SDO.endDate, DATE),
        Link("location", SDO.location, ("place",)),
        VirtualLocation(),
        AttendanceMode(),
        Link("organizer", SDO.organizer, AGENTS, many=True),
        Link("sponsor", SDO.sponsor, AGENTS, many=True),
        Link("superEvent", SDO.superEvent, ("event",), inverse=SDO.subEvent),
        Link("about", SDO.about, ANY_KIND, many=True),
        Contributors(),
        Recording(),
        *common_fields(),
    ),
)
