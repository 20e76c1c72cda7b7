"""Articles: a schema:NewsArticle whose Markdown body is its articleBody."""

from ...vocab import SDO
from .fields import (
    ANY_KIND,
    DATE,
    Kind,
    Link,
    Text,
    Translation,
    Value,
    WebLink,
    common_fields,
    values,
)

KIND = Kind(
    name="article",
    classes=(SDO.NewsArticle,),
    label="headline",
    body=SDO.articleBody,
    fields=(
        Text("headline", SDO.headline, required=True),
        Value("datePublished", SDO.datePublished, DATE, required=True),
        Link("publisher", SDO.publisher, ("organisation",), required=True),
        Value("dateModified", SDO.dateModified, DATE),
        Link("author", SDO.author, ("person", "organisation"), many=True),
        Link("about", SDO.about, ANY_KIND, many=True),
        Link("mentions", SDO.mentions, ANY_KIND, many=True),
        Text("keywords", SDO.keywords, many=True),
        WebLink("image", SDO.image),
        Value("inLanguage", SDO.inLanguage, values.language),
        Translation("article"),
        *common_fields(),
    ),
)
