"""Plain-word search answers from a word index and finds exactly what a substring search of each message would.

A word matches inside other words, a quoted phrase across words, deleted mail is never found, mail that arrives
after a search is found by the next one (and by a search already under way), negation and other filters combine
as before, and a capped store with churn does not grow the index. The property test compares the index with a
plain substring search of each message's search text for random mail, queries, deletions and arrivals.
"""

from __future__ import annotations

import threading
import tracemalloc
from datetime import datetime, timezone
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_lite.message import Envelope, Message, SmtpFacts
from mailtrap_lite.search import parse_query
from mailtrap_lite.store import MessageStore

ENVELOPE = Envelope("app@example.com", ("qa@example.org",))


def plain(subject: str, body: str, sender: str = "App <app@example.com>") -> bytes:
    return f"From: {sender}\r\nTo: qa@example.org\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


def store_with(*raws: bytes, max_messages: int = 0) -> MessageStore:
    store = MessageStore(max_messages=max_messages)
    for raw in raws:
        store.add(raw, ENVELOPE)
    return store


def search(store: MessageStore, query: str) -> list[Message]:
    """The messages ``query`` finds, newest first (the path the search API takes)."""
    matches, _, _ = store.page(0, 0, parse_query(query).predicate(store))
    return matches


def subjects(store: MessageStore, query: str) -> list[str]:
    return [m.subject for m in search(store, query)]


def naive(store: MessageStore, query: str) -> list[str]:
    """What the search must return: each text term as a substring of each stored message's search text."""
    terms = parse_query(query).terms
    return [
        m.id for m in store.newest_first() if all((t.value in m.search_text) != t.negated for t in terms)
    ]


def found_ids(store: MessageStore, query: str) -> list[str]:
    return [m.id for m in search(store, query)]


def test_a_word_is_found_inside_longer_words_whatever_its_case() -> None:
    store = store_with(plain("Your INVOICES", "attached"), plain("Receipt", "no match here"))
    assert subjects(store, "voice") == ["Your INVOICES"]
    assert subjects(store, "Voi") == ["Your INVOICES"]
    assert subjects(store, "app@example") == ["Receipt", "Your INVOICES"]  # the sender's address is searched too
    assert subjects(store, "nothing") == []


def test_a_quoted_phrase_matches_across_words_and_only_in_that_order() -> None:
    store = store_with(
        plain("Weekly", "the weekly   report\r\nis ready"),
        plain("Reversed", "report weekly"),
        plain("Apart", "weekly sales report"),
    )
    assert subjects(store, '"weekly report"') == ["Weekly"]
    assert subjects(store, '"ekly rep"') == ["Weekly"]  # the phrase may start and end inside words
    assert subjects(store, '"weekly report is ready"') == ["Weekly"]
    assert subjects(store, '"WEEKLY  Report"') == ["Weekly"]
    assert subjects(store, '"weekly sales report"') == ["Apart"]
    assert subjects(store, '"report weekly"') == ["Reversed"]


def test_a_phrase_may_run_from_the_subject_into_the_body() -> None:
    store = store_with(plain("Order shipped", "today by courier"))
    assert subjects(store, '"shipped today"') == ["Order shipped"]


def test_deleted_and_evicted_mail_is_never_found() -> None:
    store = store_with(plain("First", "needle"), plain("Second", "needle"), max_messages=3)
    assert subjects(store, "needle") == ["Second", "First"]  # the index is built now
    store.delete([store.snapshot()[0].id])
    assert subjects(store, "needle") == ["Second"]
    for number in range(3):
        store.add(plain(f"Filler {number}", "hay"), ENVELOPE)  # evicts "Second"
    assert subjects(store, "needle") == []
    store.clear()
    assert subjects(store, "hay") == []


def test_after_most_mail_is_deleted_the_rest_is_still_found() -> None:
    store = store_with(*(plain(f"Number {n}", f"common unique{n}") for n in range(10)))
    assert len(subjects(store, "common")) == 10
    store.delete([m.id for m in store.snapshot()[:8]])  # the next search drops the deleted mail from the index
    assert subjects(store, "common") == ["Number 9", "Number 8"]
    assert subjects(store, "unique8") == ["Number 8"]
    assert subjects(store, "unique1") == []
    store.add(plain("Number 10", "common unique10"), ENVELOPE)
    assert subjects(store, "common") == ["Number 10", "Number 9", "Number 8"]


def test_the_first_search_of_a_large_store_finds_all_of_it_and_so_do_the_next() -> None:
    store = store_with(*(plain(f"Number {n}", "needle" if n % 2 else "hay") for n in range(300)))
    latest = store.latest(parse_query("needle").predicate(store))  # the newest few are read, nothing is indexed
    assert latest is not None and latest.subject == "Number 299"
    expected = [f"Number {n}" for n in range(299, 0, -2)]
    assert subjects(store, "needle") == expected  # the newest read directly, then the index built for the rest
    assert subjects(store, "needle") == expected  # all from the index


def test_mail_stored_after_a_search_is_found_by_the_next_one() -> None:
    store = store_with(plain("Early", "needle"))
    assert subjects(store, "needle") == ["Early"]
    store.add(plain("Late", "a needle too"), ENVELOPE)
    assert subjects(store, "needle") == ["Late", "Early"]
    assert subjects(store, '"needle too"') == ["Late"]


def test_a_search_already_under_way_sees_mail_that_arrives_meanwhile() -> None:
    store = store_with(plain("Early", "needle"))
    since = store.last_seq
    predicate = parse_query("needle").predicate(store)
    assert predicate(store.snapshot()[0])  # the index answered this predicate here
    store.add(plain("Late", "needle"), ENVELOPE)
    store.add(plain("Other", "hay"), ENVELOPE)
    found, reached = store.wait_for(predicate, count=1, timeout=0, since_seq=since)
    assert reached and [m.subject for m in found] == ["Late"]


def test_negated_words_and_other_filters_combine_with_the_index() -> None:
    store = store_with(
        plain("Invoice 1", "pay now", "Billing <billing@shop.test>"),
        plain("Invoice 2", "paid, thanks", "Billing <billing@shop.test>"),
        plain("Newsletter", "pay less", "News <news@shop.test>"),
    )
    assert subjects(store, "-invoice") == ["Newsletter"]
    assert subjects(store, "pay -invoice") == ["Newsletter"]
    assert subjects(store, 'from:billing -"pay now"') == ["Invoice 2"]
    store.set_read([store.snapshot()[0].id], True)
    assert subjects(store, "invoice is:unread") == ["Invoice 2"]
    assert subjects(store, '""') == ["Newsletter", "Invoice 2", "Invoice 1"]  # an empty phrase matches everything


def test_html_bodies_and_attachment_names_are_searched() -> None:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["Subject"] = "Your order"
    message.set_content("<p>Thanks for <b>shopping</b></p>", subtype="html")
    message.add_attachment(b"%PDF", "application", "pdf", filename="Receipt-2024.pdf")
    store = store_with(message.as_bytes())
    assert subjects(store, '"for shopping"') == ["Your order"]
    assert subjects(store, "receipt-2024") == ["Your order"]
    assert subjects(store, "<b>") == []


def test_searches_while_mail_arrives_find_everything_stored_before_they_began() -> None:
    store = store_with(*(plain(f"Old {n}", "needle") for n in range(200)))
    arrived = 0

    def deliver() -> None:
        nonlocal arrived
        for number in range(2000):
            store.add(plain(f"New {number}", "needle" if number % 2 else "hay"), ENVELOPE)
            arrived += 1

    sender = threading.Thread(target=deliver)
    sender.start()
    try:
        while sender.is_alive():
            before = 200 + arrived // 2  # needles stored before this search began, at least
            found = subjects(store, "needle")
            assert len(found) >= before
            assert not [s for s in found if s.startswith("New ") and int(s.split()[1]) % 2 == 0]
    finally:
        sender.join()
    assert len(subjects(store, "needle")) == 200 + 1000


def test_a_capped_store_with_churn_does_not_grow_the_index() -> None:
    store = MessageStore(max_messages=50)

    def churn(rounds: int, first: int) -> None:
        for round_number in range(first, first + rounds):
            for number in range(50):  # every word unique to its message: kept forever, they would pile up
                words = " ".join(f"w{round_number}x{number}x{k}" for k in range(20))
                store.add(plain("Churn", words), ENVELOPE)
            assert len(subjects(store, f"w{round_number}x")) == 50

    churn(10, 0)
    tracemalloc.start()
    try:
        churn(5, 10)
        settled, _ = tracemalloc.get_traced_memory()
        churn(20, 15)
        grown = tracemalloc.get_traced_memory()[0] - settled
    finally:
        tracemalloc.stop()
    # Kept forever, the words of those 1,000 messages take about 2 MB; dropped, about 0.13 MB remains (the deleted
    # mail the next clean-up waits for).
    assert grown < 500_000, f"{grown} bytes more after 1,000 more messages through a store of 50"


# -- the property: the index answers exactly what a substring search of each message does ------------------------

letters = st.sampled_from([*"abcAB", "é", "ß", "İ", "1"])
words = st.text(letters, min_size=1, max_size=5)
text = st.lists(words, max_size=8).map(" ".join)
spacing = st.sampled_from([" ", "  ", "\r\n", "\t"])


@st.composite
def messages(draw: st.DrawFn) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{draw(words)} <{draw(st.sampled_from(['ab', 'ba']))}@example.com>"
    message["Subject"] = draw(text)
    body = draw(spacing).join(draw(st.lists(words, max_size=12)))
    kind = draw(st.sampled_from(["plain", "html", "attachment"]))
    message.set_content(f"<p>{body}</p>" if kind == "html" else body, subtype="html" if kind == "html" else "plain")
    if kind == "attachment":
        message.add_attachment(b"data", "application", "octet-stream", filename=f"{draw(words)}.bin")
    return message


@st.composite
def queries(draw: st.DrawFn, store: MessageStore) -> str:
    stored = store.snapshot()
    from_stored = draw(st.booleans())
    if stored and from_stored:  # a piece of a stored message's text, in any case, spaces and all
        source = draw(st.sampled_from(stored)).search_text
        start = draw(st.integers(0, len(source)))
        piece = source[start:start + draw(st.integers(0, 12))]
        value = piece.upper() if draw(st.booleans()) else piece
    else:
        value = draw(st.one_of(words, text))
    negation = draw(st.sampled_from(["", "", "-"]))
    extra = draw(st.sampled_from(["", " a", " -b", ' "a b"']))
    return f'{negation}"{value}"{extra}'


operations = st.lists(st.one_of(messages(), st.sampled_from(["delete", "search", "flood"])), max_size=30)


@settings(max_examples=150, deadline=None)
@given(operations=operations, data=st.data())
def test_the_index_finds_exactly_what_a_substring_search_of_each_message_finds(
    operations: list[EmailMessage | str], data: st.DataObject
) -> None:
    store = MessageStore(max_messages=3)  # small, so mail is evicted and deleted postings are dropped
    previous = '""'
    for operation in [*operations, "search"]:
        if isinstance(operation, EmailMessage):
            store.add(operation.as_bytes(), ENVELOPE)  # made here: the MIME boundary is random
        elif operation == "flood":  # more new mail than a search reads before it turns to the index
            for _ in range(70):
                store.add(plain("Flood", "a b"), ENVELOPE)
        elif operation == "delete" and len(store):
            store.delete([data.draw(st.sampled_from(store.snapshot())).id])
        elif operation == "search":
            query = data.draw(queries(store))
            for again in (previous, query):  # the previous one again: a phrase's answers are kept for its next search
                assert found_ids(store, again) == naive(store, again), again
            previous = query


def test_search_text_is_the_lower_cased_words_of_the_message_joined_by_single_spaces() -> None:
    raw = plain("Mixed   Case\tSubject", "Body\r\n  TEXT")
    message = Message("id", raw, ENVELOPE, SmtpFacts(), datetime.now(timezone.utc))
    assert message.search_text == "app <app@example.com> qa@example.org mixed case subject body text"
