"""Places: schema:Place, coordinates on a #geo node, containment both ways."""

from ...vocab import SDO
from .fields import Coordinate, Kind, Link, Text, common_fields

KIND = Kind(
    name="place",
    classes=(SDO.Place,),
    fields=(
        Text("name", SDO.name, required=True),
        Text("address", SDO.address),
        Coordinate("latitude", SDO.latitude, 90),
        Coordinate("longitude", SDO.longitude, 180),
        Link("containedInPlace", SDO.containedInPlace, ("place",), inverse=SDO.containsPlace),
        *common_fields(),
    ),
)
