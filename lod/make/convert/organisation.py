"""Organisations: schema:Organization, or a schema.org subtype of it (NGO …)."""

from ...vocab import SDO
from .fields import DATE, Kind, Link, Subtype, Text, Value, WebLink, common_fields

KIND = Kind(
    name="organisation",
    classes=(SDO.Organization,),
    fields=(
        Text("name", SDO.name, required=True),
        Subtype(SDO.Organization),
        Text("alternateName", SDO.alternateName, many=True),
        Link(
            "parentOrganization",
            SDO.parentOrganization,
            ("organisation",),
            inverse=SDO.subOrganization,
        ),
        Link("memberOf", SDO.memberOf, ("organisation",), many=True, inverse=SDO.member),
        Link("location", SDO.location, ("place",)),
        Value("foundingDate", SDO.foundingDate, DATE),
        WebLink("logo", SDO.logo),
        *common_fields(),
    ),
)
