"""People: schema:Person."""

from ...vocab import SDO
from .fields import Kind, Link, Text, common_fields

KIND = Kind(
    name="person",
    classes=(SDO.Person,),
    fields=(
        Text("name", SDO.name, required=True),
        Text("jobTitle", SDO.jobTitle),
        Link("worksFor", SDO.worksFor, ("organisation",)),
        Link("affiliation", SDO.affiliation, ("organisation",), many=True),
        *common_fields(),
    ),
)
