"""The import's fast check of a product document (``surely_clean``) never passes what ``clean_document`` refuses."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.bench.catalog import product
from keel.catalog.service.common import surely_clean
from keel.platform.schemas import DOCUMENT_DEPTH, MAX_ROW_ID, clean_document

texts = st.text(alphabet=st.sampled_from(["a", "ü", "\x00", "\ud800", "\udc00", " ", "€"]), max_size=4)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([MAX_ROW_ID, MAX_ROW_ID + 1, -MAX_ROW_ID, -MAX_ROW_ID - 1]),
    texts,
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=30,
)


def refused(doc: Any) -> bool:
    try:
        clean_document(doc)
    except ValueError:
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(documents)
def test_a_document_surely_clean_is_clean(doc: Any) -> None:
    if surely_clean(doc):
        assert not refused(doc)


def nested(depth: int) -> Any:
    doc: Any = "x"
    for _ in range(depth):
        doc = [doc]
    return doc


def test_the_depth_limit_and_every_kind_of_bad_text_or_number_is_left_to_clean_document() -> None:
    assert surely_clean(nested(DOCUMENT_DEPTH))  # its deepest text is at the limit: allowed
    assert refused(nested(DOCUMENT_DEPTH + 1)) and not surely_clean(nested(DOCUMENT_DEPTH + 1))
    bad: list[Any] = [{"a": "x\x00"}, {"a\x00": 1}, ["\ud800"], {"n": MAX_ROW_ID + 1}, [-MAX_ROW_ID - 1]]
    for doc in [*bad, {1: "a"}, {"s": {1}}]:
        assert not surely_clean(doc)
    assert refused({"a": "x\x00"}) and refused({"n": MAX_ROW_ID + 1})
    assert not refused({1: "a"})  # clean_document takes a key's text: the fast check only declines to judge


def test_the_bench_catalogs_products_are_surely_clean() -> None:
    rng = random.Random(3)
    docs = [product(i, rng, 3) for i in range(50)]
    assert all(surely_clean(d) and not refused(d) for d in docs)
