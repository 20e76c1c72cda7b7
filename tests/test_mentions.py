"""`lod link mentions`: names of known records found in articles, proposed as links and
written into the articles' files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import cli
from lod.edit import Source
from lod.link import mentions

from .conftest import DATA, ROOT

FIXTURES = ROOT / "tests" / "fixtures"

SEED = "commission-on-social-development-examines-role-of-digital-technologies.md"
LEFT_WROTE = 'left out as common words (articles): "Privacy" (topic/privacy) in 1\nwrote 0 files\n'
BLOCKS = FIXTURES / "real" / "wordpress" / "wp-theme-test-data-blocks-6.4.xml"


def stripped_seed(tmp_path: Path) -> tuple[Path, set[str], set[str]]:
    """A copy of data/ whose article has no about or mentions; the hand-made ones."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    article = data / "articles" / SEED
    text = article.read_text("utf-8")
    record = Source(text, article).record()
    about, mentioned = set(record.get("about")), set(record.get("mentions"))
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):  # the two fields' lines, and theirs only
        if not line.startswith((" ", "- ")):
            dropping = line.startswith(("about:", "mentions:"))
        if not dropping:
            kept.append(line)
    article.write_text("".join(kept), "utf-8")
    return data, about, mentioned


def test_precision_and_recall_on_the_default_dataset(tmp_path):
    data, about, mentioned = stripped_seed(tmp_path)
    (proposal,) = mentions.propose(data)
    proposed_about = {h.ref for h in proposal.about}
    proposed = proposed_about | {h.ref for h in proposal.mentions}
    precision, recall = mentions.score(proposed, about | mentioned)
    # figures in the README: 26 proposed, all right; 7 of 33 missed: six not named as
    # such in the text (New York City is "New York", the SDGs are not named), and Privacy,
    # a common word (left out: it could as well be "privacy" in passing)
    assert (len(proposed), precision) == (26, 1.0)
    assert recall == pytest.approx(26 / 33)
    assert (about | mentioned) - proposed == {
        "document/csocd59-migration-displacement-side-event-recording",
        "place/new-york-city",
        "topic/migration-and-displacement",
        "topic/privacy",
        "topic/sdg-1",
        "topic/sdg-10",
        "topic/sustainable-development-goals",
    }
    assert proposal.left_out == {("topic/privacy", "Privacy"): 2}
    # names in the headline are proposed as `about`
    assert proposed_about == {
        "organisation/commission-for-social-development",
        "topic/digital-technologies",
    }


def test_longest_match_wins_and_acronyms_match_only_in_capitals():
    matcher = mentions.Matcher(
        [
            ("organisation/un", "United Nations"),
            ("place/unhq", "United Nations Headquarters"),
            ("organisation/un", "UN"),
            ("organisation/who", "WHO"),
            ("topic/sante", "Santé publique"),
        ]
    )
    found = [
        refs[0][0]
        for _key, refs in matcher.find(
            "At the United Nations Headquarters, who said the UN and the WHO "
            "care for SANTE PUBLIQUE? Not the unhappy."
        )
    ]
    assert sorted(found) == ["organisation/un", "organisation/who", "place/unhq", "topic/sante"]


def test_ambiguous_names_are_reported_not_guessed(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "people" / "other-kern.yaml").write_text("id: other-kern\nname: Cecilie Kern\n")
    (proposal,) = mentions.propose(data)
    assert proposal.ambiguous == {"Cecilie Kern": ["person/cecilie-kern", "person/other-kern"]}
    assert all("kern" not in h.ref for h in proposal.mentions)
    lines = mentions.review([proposal])
    assert (
        '  ambiguous   "Cecilie Kern": person/cecilie-kern, person/other-kern (add by hand)'
        in lines
    )


def test_the_review_list_and_write(tmp_path):
    data, about, mentioned = stripped_seed(tmp_path)
    article = data / "articles" / SEED
    before = article.read_text("utf-8")
    runner = CliRunner()
    review = runner.invoke(cli, ["link", "mentions", "--data", str(data)])
    assert review.exit_code == 0, review.output
    assert '  mentions  + person/cecilie-kern  "Cecilie Kern"' in review.output
    assert '  about     + topic/digital-technologies  "Digital technologies" x7' in review.output
    assert review.output.endswith(
        "26 links proposed in 1 article(s)\n"
        'left out as common words (articles): "Privacy" (topic/privacy) in 1\n'
    )
    assert article.read_text("utf-8") == before  # a review writes nothing
    written = runner.invoke(cli, ["link", "mentions", "--data", str(data), "--write"])
    assert written.output.endswith("wrote 1 file\n")
    after = article.read_text("utf-8")
    # only lines were added at the end of the front matter: the rest is byte-identical
    head, _, body = before.partition("\n---\n")
    assert after.startswith(head + "\nabout:\n  - organisation/commission-for-social-development")
    assert after.endswith("\n---\n" + body)
    assert set(Source(after, article).record().get("mentions")) <= mentioned | about
    # a second run proposes nothing more and changes nothing
    again = runner.invoke(cli, ["link", "mentions", "--data", str(data), "--write"])
    assert again.output.endswith("0 links proposed in 0 article(s)\n", 0, -len(LEFT_WROTE))
    assert again.output.endswith(LEFT_WROTE)
    assert article.read_text("utf-8") == after


def test_write_keeps_existing_links_and_layout(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    article = data / "articles" / SEED
    original = article.read_text("utf-8")
    text = original.replace("  - topic/human-rights\n", "")
    article.write_text(text, "utf-8")
    proposals = mentions.propose(data)
    assert [h.ref for h in proposals[0].mentions] == ["topic/human-rights"]
    mentions.write(proposals)
    after = article.read_text("utf-8")
    # the mentions block keeps its comments and order; human rights come back at its end
    assert after == text.replace(
        "  - topic/good-governance\n", "  - topic/good-governance\n  - topic/human-rights\n"
    )


def test_write_reaches_articles_in_yaml_and_csv_files_too(tmp_path):
    """Articles may be YAML or CSV records: their links are written there as well (by
    lod.edit, as sameAs links are), the rest of each file unchanged."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "articles" / "more.yaml").write_text(
        "# kept\n- id: yaml-one\n  headline: Cecilie Kern at the forum\n"
        "  datePublished: 2021-02-10\n  publisher: organisation/mia-mga\n",
        "utf-8",
    )
    (data / "articles" / "table.csv").write_text(
        "id,headline,datePublished,publisher\n"
        "csv-one,Cecilie Kern speaks,2021-02-11,organisation/mia-mga\n",
        "utf-8",
    )
    proposals = [p for p in mentions.propose(data) if p.ref != f"article/{Path(SEED).stem}"]
    assert {p.ref for p in proposals} == {"article/yaml-one", "article/csv-one"}
    assert mentions.write(proposals) == 2
    yaml_text = (data / "articles" / "more.yaml").read_text("utf-8")
    assert yaml_text.startswith("# kept\n- id: yaml-one\n  headline: Cecilie Kern at the forum\n")
    assert "person/cecilie-kern" in yaml_text
    csv_text = (data / "articles" / "table.csv").read_text("utf-8")
    assert "person/cecilie-kern" in csv_text.splitlines()[1]
    assert mentions.propose(
        data,
    ) and all(
        not p.about and not p.mentions
        for p in mentions.propose(data)
        if p.ref in ("article/yaml-one", "article/csv-one")
    )


# names that are common words


def found(matcher: mentions.Matcher, text: str, language: str | None = "en") -> list[str]:
    return sorted(refs[0][0] for _key, refs in matcher.find(text, language))


COMMON = [
    ("topic/post", "post"),
    ("topic/link", "Link"),
    ("topic/lien", "lien"),
    ("topic/post-formats", "Post Formats"),
    ("topic/codex", "Codex"),
    ("place/london", "London"),
    ("organisation/crisis", "Crisis"),
]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # common English words: a topic never, a place or an organisation in capitals only;
        # names of two words, and rare words, as ever
        (
            "This post links to the Codex. Post Formats are in London, a crisis",
            "en-GB",
            ["place/london", "topic/codex", "topic/post-formats"],
        ),
        ("Crisis, the charity, helps in london", "en", ["organisation/crisis"]),
        # the article's language decides: "lien" is a common French word, "link" is not
        ("Un lien vers le Link", "fr", ["topic/link"]),
        ("A lien on the link", "en", ["topic/lien"]),
        # a language with no word list: nothing is left out
        ("post link lien", "sw", ["topic/lien", "topic/link", "topic/post"]),
        ("post link lien", None, ["topic/lien", "topic/link", "topic/post"]),
    ],
)
def test_common_words_are_left_out(text, language, expected):
    assert found(mentions.Matcher(COMMON), text, language) == expected


def test_capitals_are_read_in_accented_text_too():
    matcher = mentions.Matcher([("place/paris", "Paris"), ("topic/cafe", "Café")])
    assert found(matcher, "À Paris, un café", "fr") == ["place/paris"]
    assert found(matcher, "à paris, un Café", "fr") == []
    assert mentions.common_word("café", "fr") and not mentions.common_word("café", "sw")


def test_what_was_left_out_is_listed(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "topics" / "post.yaml").write_text("id: post\nname: Post\n")
    article = data / "articles" / SEED
    text = article.read_text("utf-8").replace("---\nThe 59th", "---\nIn this post: the 59th")
    article.write_text(text, "utf-8")
    (proposal,) = mentions.propose(data)
    assert proposal.left_out == {("topic/post", "Post"): 1}  # privacy is linked already
    assert all(h.ref != "topic/post" for h in proposal.mentions)
    assert mentions.review([proposal])[-1] == (
        'left out as common words (articles): "Post" (topic/post) in 1'
    )


def test_the_wordpress_theme_test_data(tmp_path):
    """WordPress's block theme test export (real, tests/fixtures/real): its categories
    "Text", "Blocks", "Design", "Border" were proposed wherever "text color" or "inner
    blocks" is written (18 proposals, 3 right); now only "Block spacing", two words."""
    data = tmp_path / "data"
    (data / "organisations").mkdir(parents=True)
    shutil.copy(DATA / "dataset.yaml", data)
    (data / "organisations" / "mia-mga.yaml").write_text("id: mia-mga\nname: MIA-MGA\n")
    imported = CliRunner().invoke(
        cli, ["import", str(BLOCKS), "--data", str(data), "--skip-invalid"]
    )
    assert imported.exit_code == 0, imported.output
    proposals = mentions.propose(data)
    proposed = {(p.ref, h.ref) for p in proposals for h in p.about + p.mentions}
    assert proposed == {("article/posts-lists", "topic/block-spacing")}
    left = {ref for p in proposals for ref, _ in p.left_out}
    assert {"topic/text", "topic/blocks", "topic/design", "topic/border"} <= left


def test_names_in_urls_are_not_mentions():
    matcher = mentions.Matcher(
        [("topic/wordpress", "WordPress"), ("topic/css", "css"), ("organisation/un", "UN")]
    )
    text = (
        "![a](https://wpthemetestdata.files.wordpress.com/2008/06/css.jpg) see "
        "www.css-tricks.com/UN, <http://un.org/UN> and ftp://wordpress.example/css"
    )
    assert found(matcher, text) == []
    linked = '[The WordPress handbook](https://make.wordpress.org/ "CSS at the UN")'
    assert found(matcher, linked) == ["organisation/un", "topic/css", "topic/wordpress"]


def test_names_in_every_language_are_matched_in_articles_of_that_language():
    """The six-language test dataset: a French and an Arabic article name the Commission
    in their own language (a language map) and UN Headquarters (a `name@ar` CSV column)."""
    found = {
        p.ref: {(f.ref, f.name) for f in p.about + p.mentions}
        for p in mentions.propose(FIXTURES / "languages")
    }
    commission = "organisation/commission-for-social-development"
    assert (commission, "Commission du développement social") in found[
        "article/commission-examine-technologies-numeriques"
    ]
    arabic = found["article/lajna-tabhath-dawr-altiknulujiyat"]
    assert (commission, "لجنة التنمية الاجتماعية") in arabic
    assert ("place/united-nations-headquarters", "مقر الأمم المتحدة") in arabic
