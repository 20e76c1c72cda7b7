"""Topics: SKOS concepts that are also schema:DefinedTerm, labels in the record's language."""

from ...vocab import SDO, SKOS
from .fields import Field, Kind, Link, Value, WebLink, common_fields


class TopicName(Field):
    """The name is both skos:prefLabel and schema:name."""

    def __init__(self):
        super().__init__("name", required=True, predicates=[SKOS.prefLabel, SDO.name])

    def emit_one(self, ctx, subject, item, number):
        for predicate in self.predicates:
            ctx.add(subject, predicate, ctx.prose(item))


KIND = Kind(
    name="topic",
    classes=(SKOS.Concept, SDO.DefinedTerm),
    fields=(
        TopicName(),
        Value("altLabel", SKOS.altLabel, prose=True, many=True),
        Link("broader", SKOS.broader, ("topic",), inverse=SKOS.narrower),
        WebLink("exactMatch", SKOS.exactMatch, web_only=False, many=True),
        WebLink("closeMatch", SKOS.closeMatch, web_only=False, many=True),
        Value("definition", SKOS.definition, prose=True),
        *common_fields(),
    ),
)
