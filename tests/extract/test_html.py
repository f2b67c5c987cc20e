"""HTML → visible text: what the recipient reads, plus hidden content, on hostile input too."""

from __future__ import annotations

import pytest

from scanner.extract.html import MAX_DEPTH, html_to_text
from scanner.extract.markup import ITEM_BREAK


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # digits split across inline tags are rejoined, as the recipient reads them
        ("4111<span>1111</span><b>1111</b>1111", "4111111111111111"),
        ("<p>SSN <font color=red>078</font>-<i>05</i>-<u>1120</u></p>", "SSN 078-05-1120"),
        ("<a href='x'>FR76</a><custom-el>3000</custom-el>", "FR763000"),
        # entities: numeric, hex, named, in text and split over tags
        ("&#x34;&#52;&#x31;1", "4411"),
        ("Num&eacute;ro&nbsp;fiscal &amp; co", "Numéro\xa0fiscal & co"),
        ("&#52;<b>&#49;</b>&#x31;&#x31;", "4111"),
        # never-rendered content is dropped
        ("<head><title>T1</title><style>p{color:red}</style></head><body>seen</body>", "seen"),
        ("a<script>var n='4111111111111111'</script>b", "ab"),
        ("a<!-- 4111111111111111 -->b", "ab"),
        ("a<template><p>4111</p></template>b", "ab"),
        ("<style>unclosed 4111", ""),
        # noscript is displayed by mail clients (they run no script): kept
        ("a<noscript>4111</noscript>b", "a4111b"),
        # block elements and <br> break lines; table cells are spaced
        ("<p>one</p><p>two</p>", "one\ntwo"),
        ("<div>a</div><div>b<br>c</div>", "a\nb\nc"),
        ("<ul><li>x</li><li>y</li></ul>", "x\ny"),
        ("<h1>Title</h1>body", "Title\nbody"),
        ("<table><tr><td>IBAN</td><td>FR76</td></tr><tr><td>2</td></tr></table>", "IBAN FR76\n2"),
        # whitespace collapses outside <pre>; NBSP is kept for the detectors
        ("a \n\t  b", "a b"),
        ("<pre>a   b\n\n  c</pre>", "a   b\nc"),  # runs kept inside a line; lines trimmed
        ("<img src=x alt='card 4111'>", "card 4111"),
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_visible_text(html: str, text: str) -> None:
    result = html_to_text(html)
    assert result.text == text
    assert not result.flattened


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # hidden content is scanned, as a paragraph of its own where it stands...
        ("<p>hello</p><div style='display:none'>078-05-1120</div>", "hello\n078-05-1120"),
        ("<p>hi</p><span hidden>secret</span>", "hi\nsecret"),
        ("<p>hi</p><p style='font-size:0px'>tiny</p>", "hi\ntiny"),
        ("<p>hi</p><p style='visibility: hidden'>v</p>", "hi\nv"),
        ("<p>hi</p><p style='mso-hide:all'>o</p>", "hi\no"),
        ("<p>hi</p><p style='opacity:0;'>o</p>", "hi\no"),
        # ...not after the footer, whose legal words would suppress a value beside them...
        ("<div hidden>SSN 1</div><p>body</p><p>RCS Paris</p>", "SSN 1\nbody\nRCS Paris"),
        ("<p>a <span hidden>SSN 1</span> b</p><p>RCS</p>", "a  b\nSSN 1\nRCS"),
        # ...and hidden junk cannot split a number the recipient sees whole
        ("4111<span style='display:none'>zz</span>1111", "41111111\nzz"),
        # nested hidden elements are one paragraph; a normal style is not hidden
        ("<div style='display:none'>a<p style='display:none'>b</p>c</div>", "a\nb\nc"),
        ("<p style='font-size:0.9em'>small</p>", "small"),
    ],
)
def test_hidden_content_is_scanned(html: str, text: str) -> None:
    assert html_to_text(html).text == text


@pytest.mark.parametrize(
    "html",
    [
        "<div><p>unclosed <b>bold <i>both</div> 4111",
        "<table><tr><td>4111</table></td></tr>",
        "</p></div></span>4111",
        "<p a='" + "x" * 2_000_000 + "'>4111",
        "<" * 100_000 + "4111",
        "<!--" + "x" * 100_000 + "4111",
        "<div>" * 10_000 + "4111",
    ],
)
def test_hostile_html_survives(html: str) -> None:
    assert "4111" in html_to_text(html).text or html.startswith("<!--")


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 100_000 + "4111<span>1111</span>",  # lexbor is quadratic on these
        "<i></p>" * 50_000 + "4111<span>1111</span>",
        "<a><b></a>" * 50_000 + "4111<span>1111</span>",
        "<ul><li>" * 50_000 + "4111<span>1111</span>",
        "<b>x</b>" * 300_000 + "4111<span>1111</span>",  # too many tags
    ],
)
def test_too_deep_or_big_is_read_flat(html: str) -> None:
    result = html_to_text(html)
    assert result.flattened
    assert "41111111" in result.text


def test_depth_just_under_the_bound_is_parsed() -> None:
    html = "<div>" * (MAX_DEPTH - 5) + "4111<span>1111</span>"
    result = html_to_text(html)
    assert not result.flattened
    assert result.text == "41111111"


def test_flat_reading_drops_script_style_comments() -> None:
    html = "<div>" * (MAX_DEPTH + 1) + "<script>9999</script><!-- 8888 --><style>7777</style>a&amp;b<p>c"
    result = html_to_text(html)
    assert result.flattened
    assert result.text == "a&b\nc"


@pytest.mark.parametrize(
    ("html", "item"),
    [
        ("<p title='SSN 536-22-8843'>x</p>", "SSN 536-22-8843"),
        ("<input value='4111 1111 1111 1111'>", "4111 1111 1111 1111"),
        ("<input placeholder='n° 1 85'>", "n° 1 85"),
        ("<a aria-label='card 41111'>x</a>", "card 41111"),
        ("<div data-ssn='536228843'>x</div>", "536228843"),
        ("<a href='https://x.test/c?card=4111%201111&amp;q=1'>x</a>", "card=4111 1111"),
        ("<a href='mailto:a@b.test?body=SSN%20536-22-8843'>x</a>", "body=SSN 536-22-8843"),
        ("<img src='https://x.test/p.gif?n=%2535362%2536'>", "n=53626"),
        ("<head><title>Ref 536-22-8843</title></head>", "Ref 536-22-8843"),
        ("<p>x</p><!-- SSN 536-22-8843 -->", "SSN 536-22-8843"),
        ("<!--[if mso]><p>card 41111</p><![endif]-->", "card 41111"),
        ("<style>.a:after{content:'SSN 536-22-8843'}</style>", "SSN 536-22-8843"),
        ("<span style='content:\"4\\31 111\"'>x</span>", "41111"),
    ],
)
def test_markup_a_recipient_receives_is_collected(html: str, item: str) -> None:
    assert item in html_to_text(html).markup.split(ITEM_BREAK)


def test_markup_without_an_identifier_s_digits_is_not_kept() -> None:
    html = "<a href='https://example.test/a?page=12&id=345' title='Home'>x</a><img width='600' alt='logo'>"
    assert html_to_text(html).markup == ""


def test_flat_documents_keep_their_markup() -> None:
    html = "<div>" * 600 + "<a title='SSN 536-22-8843'>x</a><!-- 41111 -->"
    result = html_to_text(html)
    assert result.flattened
    assert result.markup.split(ITEM_BREAK) == ["SSN 536-22-8843", "41111"]
