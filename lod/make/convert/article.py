"""Articles: a schema:NewsArticle whose Markdown body is its articleBody."""

from ...vocab import SDO
from .fields import ANY_KIND, DATE, Kind, Link, Value, WebLink, common_fields, values

KIND = Kind(
    name="article",
    classes=(SDO.NewsArticle,),
    label="headline",
    body=SDO.articleBody,
    fields=(
        Value("headline", SDO.headline, prose=True, required=True),
        Value("datePublished", SDO.datePublished, DATE, required=True),
        Link("publisher", SDO.publisher, ("organisation",), required=True),
        Value("dateModified", SDO.dateModified, DATE),
        Link("author", SDO.author, ("person", "organisation"), many=True),
        Link("about", SDO.about, ANY_KIND, many=True),
        Link("mentions", SDO.mentions, ANY_KIND, many=True),
        Value("keywords", SDO.keywords, prose=True, many=True),
        WebLink("image", SDO.image),
        Value("inLanguage", SDO.inLanguage, values.language),
        *common_fields(),
    ),
)
