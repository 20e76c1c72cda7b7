"""Documents: schema:CreativeWork (or a subtype), with titled parts and roles."""

from ...vocab import SDO
from .fields import (
    ANY_KIND,
    DATE,
    Contributors,
    Kind,
    Link,
    Parts,
    Subtype,
    Text,
    Translation,
    Value,
    common_fields,
    values,
)

KIND = Kind(
    name="document",
    classes=(SDO.CreativeWork,),
    fields=(
        Text("name", SDO.name, required=True),
        Subtype(SDO.CreativeWork, elsewhere={SDO.NewsArticle: "article"}),
        Value("datePublished", SDO.datePublished, DATE),
        Link("author", SDO.author, ("person", "organisation"), many=True),
        Link("about", SDO.about, ANY_KIND, many=True),
        Value("inLanguage", SDO.inLanguage, values.language),
        Translation("document"),
        Parts(),
        Contributors(),
        *common_fields(),
    ),
)
