"""Topics: SKOS concepts that are also schema:DefinedTerm, labels in the record's language."""

from ...vocab import SDO, SKOS
from .fields import Kind, Link, Text, WebLink, common_fields

KIND = Kind(
    name="topic",
    classes=(SKOS.Concept, SDO.DefinedTerm),
    fields=(
        Text("name", SKOS.prefLabel, SDO.name, required=True),  # one name, both
        Text("altLabel", SKOS.altLabel, many=True),
        Link("broader", SKOS.broader, ("topic",), inverse=SKOS.narrower),
        WebLink("exactMatch", SKOS.exactMatch, web_only=False, many=True),
        WebLink("closeMatch", SKOS.closeMatch, web_only=False, many=True),
        Text("definition", SKOS.definition),
        *common_fields(),
    ),
)
