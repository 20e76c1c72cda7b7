"""The dataset's description (VoID + DCAT 3), computed from the converted graph.

Everything here is derived from the data, never from the clock, so that the same sources
give the same description (and so byte-identical dumps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from urllib.parse import urlsplit

from rdflib import Literal, URIRef

from ..layout import DUMP_FORMATS, dump_name
from ..triples import Triples
from ..vocab import (
    DCAT,
    DCTERMS,
    FOAF,
    MODIFICATION_DATES,
    OWL,
    RDF,
    SKOS,
    VOID,
    XSD,
    dataset_iri,
    dump_iri,
    id_prefix,
    shapes_iri,
    sparql_iri,
)
from .convert import DatasetInfo

# Sets, not tuples: `in` a set compares hashes (C) before rdflib's __eq__ (Python).
LINK_PREDICATES = frozenset({OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch})
DATES = frozenset(MODIFICATION_DATES)
TYPE = frozenset({RDF.type})
GZIP = URIRef("http://www.iana.org/assignments/media-types/application/gzip")
KNOWN_TARGETS = {"www.wikidata.org": "Wikidata", "metadata.un.org": "UN metadata (SDG KOS)"}


def describe(
    graph: Triples, info: DatasetInfo, subjects: list[URIRef], census: Census | None = None
) -> Triples:
    """The description of `graph` (whose records are `subjects`), as its own triples; from
    `census` when given, else from a census of the graph.

    Its void:triples counts the graph and the description together, itself included.
    """
    base = info.base
    dataset = dataset_iri(base)
    if census is None:
        census = Census(base)
        census.count(graph, set(subjects))
    desc = Triples()
    add = desc.add
    add((dataset, RDF.type, VOID.Dataset))
    add((dataset, RDF.type, DCAT.Dataset))
    for tag, title in info.titles.items():
        add((dataset, DCTERMS.title, Literal(title, lang=tag)))
    for tag, description in info.descriptions.items():
        add((dataset, DCTERMS.description, Literal(description, lang=tag)))
    add((dataset, DCTERMS.license, info.license))
    add((dataset, DCTERMS.publisher, info.publisher))
    for tag in dict.fromkeys(tag.split("-")[0] for tag in info.languages):
        scheme = "iso639-1" if len(tag) == 2 else "iso639-2"
        add((dataset, DCTERMS.language, URIRef(f"http://id.loc.gov/vocabulary/{scheme}/{tag}")))
    if census.latest is not None:
        add((dataset, DCTERMS.modified, Literal(census.latest[:10], datatype=XSD.date)))
    add((dataset, VOID.uriSpace, Literal(id_prefix(base))))
    add((dataset, DCTERMS.conformsTo, shapes_iri(base)))  # the SHACL shapes, served
    add((dataset, VOID.sparqlEndpoint, sparql_iri(base)))
    add((dataset, FOAF.homepage, URIRef(base)))
    for vocabulary in (
        "https://schema.org/",
        str(SKOS),
        str(FOAF),
        str(VOID),
        str(DCAT._NS),
        str(DCTERMS),
        str(OWL),
    ):
        add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    add((dataset, VOID.entities, Literal(len(subjects))))

    for fmt in DUMP_FORMATS:
        url = dump_iri(base, dump_name(fmt))
        distribution = URIRef(f"{dataset}#dump-{fmt.extension}")
        add((dataset, VOID.dataDump, url))
        add((dataset, VOID.feature, URIRef(fmt.iri)))
        add((dataset, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, DCAT.downloadURL, url))
        add(
            (
                distribution,
                DCAT.mediaType,
                URIRef(f"http://www.iana.org/assignments/media-types/{fmt.media_type}"),
            )
        )
        add((distribution, DCAT.compressFormat, GZIP))
    changes = URIRef(f"{dataset}#changes")  # the change stream between builds: /ldes
    add((dataset, DCAT.distribution, changes))
    add((changes, RDF.type, DCAT.Distribution))
    add((changes, DCAT.accessURL, URIRef(f"{base}ldes")))
    add(
        (
            changes,
            DCAT.mediaType,
            URIRef("http://www.iana.org/assignments/media-types/application/trig"),
        )
    )
    add((changes, DCTERMS.conformsTo, URIRef("https://w3id.org/ldes/specification")))

    for example in _examples(subjects):
        add((dataset, VOID.exampleResource, example))
    _class_partitions(desc, +census.classes, dataset)  # unary +: the positive counts
    named = {service.host: service.label for service in info.link_services}
    _linksets(desc, +census.links, dataset, {**KNOWN_TARGETS, **named})

    total = census.triples + len(desc) + 1  # + the void:triples statement itself
    add((dataset, VOID.triples, Literal(total)))
    return desc


class Census:
    """What the description counts: the dates (for the newest), the instances of each class,
    the links out per (target space, predicate) and the triples. Counted in one pass over a
    graph, and kept up to date by a Builder as triples come and go."""

    def __init__(self, base: str):
        self.base = base
        self.dates: Counter = Counter()
        self.classes: Counter = Counter()
        self.links: Counter = Counter()
        self.triples = 0  # all of them, counted as they come and go (not len(graph))

    @property
    def latest(self) -> str | None:
        return max((date for date, n in self.dates.items() if n > 0), default=None)

    def count(self, triples, records: Collection[URIRef], sign: int = 1) -> None:
        """Count the triples in (sign 1) or out (sign -1)."""
        for _, predicate, obj in triples:
            self.triples += sign
            if predicate in DATES:
                self.dates[str(obj)] += sign
            elif predicate in TYPE:  # every instance the dump holds, hash nodes included
                self.classes[obj] += sign
            elif predicate in LINK_PREDICATES:
                if isinstance(obj, URIRef) and not str(obj).startswith(self.base):
                    parts = urlsplit(str(obj))
                    self.links[(f"{parts.scheme}://{parts.netloc}/", predicate)] += sign


def _examples(subjects: list[URIRef]) -> list[URIRef]:
    """The first record of each kind (the stable order of the sources)."""
    seen: dict[str, URIRef] = {}
    for subject in subjects:
        kind = str(subject).rsplit("/", 2)[-2]
        seen.setdefault(kind, subject)
    return list(seen.values())


def _class_partitions(desc: Triples, classes: Counter, dataset: URIRef) -> None:
    for cls, count in sorted(classes.items()):
        local = str(cls).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        partition = URIRef(f"{dataset}#class-{local}")
        desc.add((dataset, VOID.classPartition, partition))
        desc.add((partition, VOID["class"], cls))
        desc.add((partition, VOID.entities, Literal(count)))


def _linksets(
    desc: Triples, counts: Counter, dataset: URIRef, names: dict[str, str] = KNOWN_TARGETS
) -> None:
    """One void:Linkset per (target, link predicate), counting its links; a target is
    titled with `names` (its host -> a label: KNOWN_TARGETS and dataset.yaml's
    linkServices), else its host."""
    for (space, predicate), count in sorted(counts.items()):
        host = urlsplit(space).netloc
        name = host.replace(".", "-")
        target = URIRef(f"{dataset}#target-{name}")
        linkset = URIRef(f"{dataset}#links-{name}-{predicate.rsplit('#', 1)[-1]}")
        desc.add((target, RDF.type, VOID.Dataset))
        desc.add((target, VOID.uriSpace, Literal(space)))
        desc.add((target, DCTERMS.title, Literal(names.get(host, host))))
        desc.add((dataset, VOID.subset, linkset))
        desc.add((linkset, RDF.type, VOID.Linkset))
        desc.add((linkset, VOID.subjectsTarget, dataset))
        desc.add((linkset, VOID.objectsTarget, target))
        desc.add((linkset, VOID.linkPredicate, predicate))
        desc.add((linkset, VOID.triples, Literal(count)))
