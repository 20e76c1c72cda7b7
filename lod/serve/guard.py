r"""The SPARQL guard: a query is checked before anything runs it, so that only reads of
this endpoint's own data reach an engine.

Why it is built this way:

* pyoxigraph (0.5) answers `SERVICE <iri>` by sending the query to that IRI over HTTP, and
  neither it nor rdflib can stop a running query from another thread. So the query's parse
  tree is checked before anything runs, and queries run in worker processes that are killed
  (SIGKILL) at the time limit and live under an address-space limit (RLIMIT_AS), set at
  `memory_mb` above what the worker maps with its store open (see `_open` for why).

* rdflib's parser is the gate. pyoxigraph has no way to parse a query without running it, so
  there is no fallback to it: "trying" pyoxigraph on a query rdflib cannot parse would run it,
  SERVICE calls included. A query rdflib cannot parse is malformed, with rdflib's message.

* The two parsers read some texts differently: rdflib expands `\uXXXX` escapes everywhere
  before parsing (as SPARQL 1.1 §19.2 says) while pyoxigraph expands them only inside
  strings, and rdflib ends a `#` comment only at LF while pyoxigraph also ends it at CR.
  Either way a SERVICE that rdflib reads as part of a string or a comment runs in pyoxigraph
  (both were tried). So the text is normalised first (escapes expanded once, line ends made
  LF) and both parsers read that same text; and, in case they disagree somewhere else, the
  word SERVICE followed by an IRI, a variable or a prefixed name is refused wherever it
  appears, even in a string or a comment (`"customer service?"` is refused too: the price
  of not trusting two parsers to agree).

* A query is read once, in the request's thread (`read`: the text normalised, the form
  found, updates and SERVICE refused by the expressions above), into a `Query`, which is
  made by `read` only; the query worker parses that same text (`verify`) and the engine is
  given it, so no text reaches an engine that both checks have not read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parser import Query as QUERY_GRAMMAR
from rdflib.plugins.sparql.parser import expandUnicodeEscapes
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from ..errors import QueryRefused, QuerySyntaxError
from ..formats import Format, ResultFormat
from ..vocab import XSD as XSD_TERMS

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
SERVICE_REFUSED = "SERVICE is not allowed: this endpoint does not query other endpoints"
XSD = str(XSD_TERMS)
ENGINE_SCHEMES = ("bif:", "sql:")  # Virtuoso's names for its SQL procedures

_SKIP = r"(?:\s|#[^\n]*)*"  # whitespace and comments
_PROLOGUE = re.compile(
    rf"{_SKIP}(?:(?:BASE{_SKIP}<[^>]*>|PREFIX{_SKIP}[^\s:#]*:{_SKIP}<[^>]*>){_SKIP})*(\w*)",
    re.IGNORECASE,
)
_SERVICE = re.compile(
    rf"(?<![\w?$:.\-])SERVICE{_SKIP}(?:SILENT{_SKIP})?(?:[<?$:]|[^\W\d][\w.\-]*:)",
    re.IGNORECASE,
)


GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class Query:
    """A query as a request asked it, read once (`read`): its text as an engine will be
    given it (escapes expanded, line ends LF), its form, and the protocol's dataset
    (default-graph-uri, named-graph-uri). Reading refuses updates and SERVICE; the full
    check (`verify`) runs in a query worker, on this same text."""

    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] | None = None  # None: not given (an empty tuple is given)

    @property
    def is_graph(self) -> bool:
        """Whether it answers with a graph (CONSTRUCT, DESCRIBE) rather than results."""
        return self.form in GRAPH_FORMS

    @property
    def formats(self) -> list[Format] | list[ResultFormat]:
        """The formats its answer may take: RDF for a graph, SPARQL results otherwise."""
        return Format.rdf() if self.is_graph else list(ResultFormat)

    @cached_property
    def digest(self) -> str:
        """What names its answers: the text and the dataset, hashed (once)."""
        named = "\x01" if self.named_graphs is None else "\x02".join(self.named_graphs)
        whole = "\x00".join([self.text, "\x02".join(self.default_graphs), named])
        return hashlib.blake2b(whole.encode("utf-8"), digest_size=20).hexdigest()


def read(
    sparql: str, default_graphs: Iterable[str] = (), named_graphs: Iterable[str] | None = None
) -> Query:
    """The query `sparql` read from the text alone: its form found, updates and SERVICE
    refused (QueryRefused), a text that is no query refused (QuerySyntaxError). Linear in
    the query's length, so safe in a request thread; no substitute for `verify`, which the
    query worker makes before the engine runs it."""
    text = _normalise(sparql)
    named = None if named_graphs is None else tuple(named_graphs)
    return Query(text, _precheck(text), tuple(default_graphs), named)


def check(
    sparql: str, allowed_graphs: frozenset[str] = frozenset(), *, standard_only: bool = False
) -> str:
    """The query form of a query this endpoint will run (`read`, then `verify`)."""
    query = read(sparql)
    verify(query, allowed_graphs, standard_only)
    return query.form


def verify(
    query: Query, allowed_graphs: frozenset[str] = frozenset(), standard_only: bool = False
) -> ParseResults:
    """The query's text parsed (its parse tree); QuerySyntaxError when malformed,
    QueryRefused for a SERVICE anywhere, or FROM / FROM NAMED of a graph not in
    `allowed_graphs`; with `standard_only` (a remote store), also a call of a function
    that is neither SPARQL's nor an XSD cast, and an IRI in a store's procedure scheme.
    Costly for long queries (see the module docstring): made in a query worker."""
    try:
        tree = QUERY_GRAMMAR.parse_string(query.text, parse_all=True)
    except ParseBaseException as error:
        raise QuerySyntaxError(
            f"line {error.lineno}, column {error.col}: {error.msg}, found {error.found}"
        ) from None
    except RecursionError:
        raise QueryRefused("the query is nested too deeply to be checked") from None
    prologue = _Prologue(tree)
    for node in _nodes(tree):
        if standard_only:
            _allow_standard(node, prologue)
        if not isinstance(node, CompValue):
            continue
        if node.name == "ServiceGraphPattern":
            raise QueryRefused(SERVICE_REFUSED)
        if node.name == "DatasetClause":
            for kind, iri in dict.items(node):
                clause = "FROM NAMED" if kind == "named" else "FROM"
                _allow(clause, prologue.absolute(iri), allowed_graphs)
    return tree


class _Prologue:
    """The query's BASE and PREFIX declarations, read when first needed."""

    def __init__(self, tree):
        self.tree = tree
        self.prologue = None

    def absolute(self, iri) -> str:
        if self.prologue is None:
            self.prologue = translatePrologue(self.tree[0], None)
        try:
            return str(self.prologue.absolutize(iri))
        except Exception as error:  # rdflib raises a bare Exception for an unknown prefix
            raise QuerySyntaxError(str(error)) from None


def _allow_standard(node, prologue: _Prologue) -> None:
    """For a remote store: no IRI in its procedure schemes, no function but XSD casts."""
    if isinstance(node, URIRef) or _is_pname(node):
        _allow_iri(prologue.absolute(node))
    elif isinstance(node, CompValue) and node.name == "Function":
        function = prologue.absolute(node["iri"])
        if not function.startswith(XSD):
            raise QueryRefused(
                f"the function <{function}> is not allowed: this endpoint runs SPARQL's "
                "own functions and XSD casts only"
            )


def _normalise(sparql: str) -> str:
    """`\\uXXXX` escapes expanded and line ends made LF: the text both parsers agree on."""
    try:
        text = expandUnicodeEscapes(sparql)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError) as error:
        raise QuerySyntaxError(f"bad \\u escape: {error}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _precheck(text: str) -> str:
    prologue = _PROLOGUE.match(text)
    word = prologue.group(1).upper()
    if word in UPDATES:
        raise QueryRefused(f"{word} is an update, and this endpoint is read-only")
    if word not in FORMS:
        line = text.count("\n", 0, prologue.start(1)) + 1
        found = f", found {prologue.group(1)[:40]!r}" if word else ""
        raise QuerySyntaxError(f"line {line}: expected SELECT, CONSTRUCT, DESCRIBE or ASK{found}")
    service = _SERVICE.search(text)
    if service:
        line = text.count("\n", 0, service.start()) + 1
        raise QueryRefused(f"{SERVICE_REFUSED} (line {line})")
    return word


def _nodes(tree) -> Iterator:
    """Every node of a parse tree, however deep (a loop, not recursion: a deep query must
    not be able to hide a node by exhausting the stack)."""
    pending, seen = [tree], set()
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, str) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            pending.extend(dict.values(node))
        elif isinstance(node, ParseResults):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)


def _is_pname(node) -> bool:
    return isinstance(node, CompValue) and node.name == "pname"


def _allow_iri(iri: str) -> None:
    if iri.lower().startswith(ENGINE_SCHEMES):
        raise QueryRefused(
            f"<{iri[:80]}> is not allowed: this endpoint runs standard SPARQL only, "
            "no engine procedures"
        )


def _allow(clause: str, iri: str, allowed_graphs: frozenset[str]) -> None:
    if iri not in allowed_graphs:
        raise QueryRefused(
            f"{clause} <{iri}> is not allowed: this endpoint queries only its own data"
        )
