"""People: schema:Person."""

from ...vocab import SDO
from .fields import Kind, Link, Value, common_fields

KIND = Kind(
    name="person",
    classes=(SDO.Person,),
    fields=(
        Value("name", SDO.name, required=True),
        Value("jobTitle", SDO.jobTitle),
        Link("worksFor", SDO.worksFor, ("organisation",)),
        Link("affiliation", SDO.affiliation, ("organisation",), many=True),
        *common_fields(),
    ),
)
