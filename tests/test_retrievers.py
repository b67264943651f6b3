"""Retrievers, embeddings and the in-memory vector store (api.md §6)."""

from __future__ import annotations

import math
import pickle
import threading
import time
from typing import Any

import anyio
import attrs
import pytest

from conftest import Peak, Recorder
from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from runnables.documents import Document
from runnables.retrievers import (
    BaseEmbeddings,
    BaseRetriever,
    Embeddings,
    HashingEmbeddings,
    InMemoryVectorStore,
    VectorStoreRetriever,
)

TEXTS = [
    "harrison worked at kensho",
    "bears like to eat honey",
    "the cat sat on the mat",
    "kensho is a company in cambridge",
]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def format_docs(docs: list[Document]) -> str:
    """Format the docs."""
    return ", ".join(doc.page_content for doc in docs)


@pytest.fixture
def store() -> InMemoryVectorStore:
    return InMemoryVectorStore.from_texts(TEXTS, embedding=HashingEmbeddings())


# --------------------------------------------------------------------------- embeddings


def test_hashing_embeddings_are_deterministic_and_normalised() -> None:
    emb = HashingEmbeddings()
    first = emb.embed_query("Where did Harrison work?")
    assert first == HashingEmbeddings().embed_query("Where did Harrison work?")
    assert first == emb.embed_documents(["Where did Harrison work?"])[0]
    assert len(first) == 256
    assert math.isclose(math.sqrt(sum(v * v for v in first)), 1.0)
    assert emb.embed_query("where did harrison work") == emb.embed_query("WHERE did Harrison work")


def test_hashing_embeddings_size_and_empty_text() -> None:
    emb = HashingEmbeddings(size=16)
    assert len(emb.embed_query("hello world")) == 16
    assert emb.embed_query("") == [0.0] * 16
    assert emb.embed_query("   !!! ") == [0.0] * 16
    with pytest.raises(ValueError, match="size"):
        HashingEmbeddings(size=0)


def test_hashing_embeddings_values_are_stable_across_processes() -> None:
    # blake2b, not hash(): these exact numbers must never change between runs.
    vector = HashingEmbeddings(size=8).embed_query("kensho")
    assert vector == HashingEmbeddings(size=8).embed_query("kensho")
    assert [round(v, 6) for v in vector] == [
        round(v, 6) for v in HashingEmbeddings(size=8)._embed("kensho")
    ]
    assert sum(1 for v in vector if v != 0.0) > 1


def test_similar_texts_score_higher_than_unrelated_ones() -> None:
    emb = HashingEmbeddings()
    query = emb.embed_query("where did harrison work?")
    related = emb.embed_query("harrison worked at kensho")
    unrelated = emb.embed_query("bears like to eat honey")
    assert cosine(query, related) > cosine(query, unrelated)
    # character n-grams: "worked" and "working" share pieces
    assert cosine(emb.embed_query("working"), emb.embed_query("worked")) > cosine(
        emb.embed_query("working"), emb.embed_query("honey")
    )
    assert math.isclose(cosine(related, related), 1.0)


def test_embeddings_protocol_and_base_async_defaults() -> None:
    assert isinstance(HashingEmbeddings(), Embeddings)
    assert isinstance(HashingEmbeddings(), BaseEmbeddings)

    class Constant(BaseEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, float(len(t))] for t in texts]

    assert Constant().embed_query("abc") == [1.0, 3.0]
    assert anyio.run(Constant().aembed_query, "ab") == [1.0, 2.0]
    assert anyio.run(Constant().aembed_documents, ["a"]) == [[1.0, 1.0]]


@pytest.mark.anyio
async def test_hashing_embeddings_async(anyio_backend: str) -> None:
    emb = HashingEmbeddings()
    assert await emb.aembed_query("honey") == emb.embed_query("honey")
    assert await emb.aembed_documents(["a", "b"]) == emb.embed_documents(["a", "b"])


# --------------------------------------------------------------------------- the store


def test_store_add_and_search(store: InMemoryVectorStore) -> None:
    assert len(store) == 4
    docs = store.similarity_search("where did harrison work?", k=1)
    assert docs == [Document("harrison worked at kensho")]
    assert repr(docs) == "[Document(page_content='harrison worked at kensho')]"
    assert store.similarity_search("what do bears eat?", k=1) == [
        Document("bears like to eat honey")
    ]


def test_store_k(store: InMemoryVectorStore) -> None:
    assert len(store.similarity_search("kensho")) == 4
    assert len(store.similarity_search("kensho", k=2)) == 2
    assert len(store.similarity_search("kensho", k=10)) == 4
    assert store.similarity_search("kensho", k=0) == []
    with pytest.raises(ValueError, match="k must be"):
        store.similarity_search("kensho", k=-1)


def test_store_scores_are_cosine_similarities_best_first(store: InMemoryVectorStore) -> None:
    scored = store.similarity_search_with_score("harrison worked at kensho", k=4)
    assert scored[0][0] == Document("harrison worked at kensho")
    assert scored[0][1] == pytest.approx(1.0)
    scores = [score for _, score in scored]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 - 1e-9 <= s <= 1.0 + 1e-9 for s in scores)
    emb = HashingEmbeddings()
    query = emb.embed_query("harrison worked at kensho")
    for doc, score in scored:
        assert score == pytest.approx(cosine(query, emb.embed_query(doc.page_content)))


def test_store_metadata_ids_documents_and_delete() -> None:
    store = InMemoryVectorStore(HashingEmbeddings())
    ids = store.add_texts(["alpha beta", "gamma delta"], [{"n": 1}, {"n": 2}])
    assert len(ids) == 2
    assert len(set(ids)) == 2
    assert store.similarity_search("gamma", k=1) == [Document("gamma delta", {"n": 2})]
    more = store.add_documents([Document("epsilon", {"n": 3}, id="e"), Document("zeta")])
    assert more[0] == "e"
    assert store.get_by_ids(["e", "missing", ids[0]]) == [
        Document("epsilon", {"n": 3}, id="e"),
        Document("alpha beta", {"n": 1}),
    ]
    assert store.add_texts(["eta"], ids=["x"]) == ["x"]
    store.delete(["x", "e", "nope"])
    assert len(store) == 3
    with pytest.raises(ValueError, match="metadatas"):
        store.add_texts(["a"], [{}, {}])
    assert "InMemoryVectorStore" in repr(store)


def test_store_from_documents_and_by_vector() -> None:
    emb = HashingEmbeddings()
    store = InMemoryVectorStore.from_documents([Document("red apples"), Document("blue sky")], emb)
    assert store.similarity_search_by_vector(emb.embed_query("apples"), k=1) == [
        Document("red apples")
    ]


def test_store_is_thread_safe() -> None:
    store = InMemoryVectorStore(HashingEmbeddings(size=32))

    def add(n: int) -> None:
        for i in range(20):
            store.add_texts([f"text {n} {i}"])
            store.similarity_search("text", k=3)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 80


@pytest.mark.anyio
async def test_store_async_search(anyio_backend: str, store: InMemoryVectorStore) -> None:
    assert await store.asimilarity_search("harrison", k=1) == [
        Document("harrison worked at kensho")
    ]
    scored = await store.asimilarity_search_with_score("honey", k=2)
    assert scored == store.similarity_search_with_score("honey", k=2)


# --------------------------------------------------------------------------- the retriever


def test_seed_retriever() -> None:
    retriever = InMemoryVectorStore.from_texts(
        ["harrison worked at kensho"], embedding=HashingEmbeddings()
    ).as_retriever()
    result = retriever.invoke("where did harrison work?")
    assert result == [Document(page_content="harrison worked at kensho")]
    assert repr(result) == "[Document(page_content='harrison worked at kensho')]"


def test_retriever_is_a_retriever_runnable(store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever(k=2)
    assert isinstance(retriever, VectorStoreRetriever)
    assert isinstance(retriever, BaseRetriever)
    assert retriever.name == "VectorStoreRetriever"
    assert retriever.run_type == "retriever"
    assert retriever.k == 2
    assert retriever.tags == ("InMemoryVectorStore", "HashingEmbeddings")
    assert store.as_retriever(tags=["mine"]).tags == (
        "mine",
        "InMemoryVectorStore",
        "HashingEmbeddings",
    )
    assert retriever == store.as_retriever(k=2)
    assert retriever != store.as_retriever(k=3)
    assert retriever != InMemoryVectorStore(HashingEmbeddings()).as_retriever(k=2)
    assert hash(retriever) == hash(store.as_retriever(k=2))
    with pytest.raises(ValueError, match="k must be"):
        store.as_retriever(k=-2)


def test_retriever_invoke_batch_stream(store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever(k=1)
    assert retriever.invoke("harrison") == [Document("harrison worked at kensho")]
    assert retriever.batch(["harrison", "honey bears"]) == [
        [Document("harrison worked at kensho")],
        [Document("bears like to eat honey")],
    ]
    assert list(retriever.stream("honey")) == [[Document("bears like to eat honey")]]
    assert dict(retriever.batch_as_completed(["cat", "mat"])) == {
        0: [Document("the cat sat on the mat")],
        1: [Document("the cat sat on the mat")],
    }


def test_retriever_rejects_a_non_string_query(store: InMemoryVectorStore) -> None:
    with pytest.raises(TypeError, match="query string"):
        store.as_retriever().invoke(42)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_retriever_async(anyio_backend: str, store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever(k=1)
    assert await retriever.ainvoke("harrison") == [Document("harrison worked at kensho")]
    assert await retriever.abatch(["harrison", "honey"]) == [
        [Document("harrison worked at kensho")],
        [Document("bears like to eat honey")],
    ]
    chunks = [chunk async for chunk in retriever.astream("cat")]
    assert chunks == [[Document("the cat sat on the mat")]]


def test_retriever_schemas(store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever()
    assert retriever.input_schema.title == "VectorStoreRetrieverInput"
    assert retriever.input_schema.json_schema() == {
        "title": "VectorStoreRetrieverInput",
        "type": "string",
    }
    assert retriever.input_schema.type is str
    out = retriever.output_schema
    assert out.title == "VectorStoreRetrieverOutput"
    assert out.type == list[Document]
    schema = out.json_schema()
    assert schema["type"] == "array"
    item = schema["items"]
    if "$ref" in item:
        item = schema["$defs"][item["$ref"].rsplit("/", 1)[-1]]
    assert item["type"] == "object"
    assert "page_content" in item["properties"]
    assert out.validate([{"page_content": "x"}]) == [Document("x")]
    named = retriever.with_config(run_name="Docs")
    assert named.name == "Docs"
    assert named.input_schema.title == "DocsInput"


def test_retriever_composition(store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever(k=2)
    chain = retriever | format_docs
    assert chain.invoke("where did harrison work?").startswith("harrison worked at kensho, ")
    chain2 = retriever | RunnableLambda(format_docs)
    assert chain2.invoke("honey").startswith("bears like to eat honey")
    parallel = RunnableParallel(
        {"context": store.as_retriever(k=1) | format_docs, "question": RunnablePassthrough()}
    )
    assert parallel.invoke("where did harrison work?") == {
        "context": "harrison worked at kensho",
        "question": "where did harrison work?",
    }
    assert chain.input_schema.title == "VectorStoreRetrieverInput"


def test_retriever_runs_are_tagged_like_langchain(
    store: InMemoryVectorStore, recorder: Recorder
) -> None:
    chain = RunnableParallel(
        {"context": store.as_retriever().with_config(run_name="Docs"), "q": RunnablePassthrough()}
    )
    chain.invoke("harrison", {"callbacks": [recorder]})
    run = recorder.one("Docs")
    assert run.run_type == "retriever"
    assert run.tags == ["map:key:context", "InMemoryVectorStore", "HashingEmbeddings"]
    assert run.inputs == "harrison"
    assert run.outputs[0] == Document("harrison worked at kensho")


@pytest.mark.anyio
async def test_retriever_runs_are_tagged_async_and_streaming(
    anyio_backend: str, store: InMemoryVectorStore, recorder: Recorder
) -> None:
    retriever = store.as_retriever(k=1)
    await retriever.ainvoke("x", {"callbacks": [recorder], "tags": ["outer"]})
    async for _ in retriever.astream("x", {"callbacks": [recorder]}):
        pass
    runs = recorder.named("VectorStoreRetriever")
    assert sorted(tuple(r.tags) for r in runs) == [
        ("InMemoryVectorStore", "HashingEmbeddings"),
        ("outer", "InMemoryVectorStore", "HashingEmbeddings"),
    ]
    assert all(r.run_type == "retriever" for r in runs)


def test_store_and_retriever_pickle(store: InMemoryVectorStore) -> None:
    copy = pickle.loads(pickle.dumps(store))
    assert copy.similarity_search_with_score("kensho") == store.similarity_search_with_score(
        "kensho"
    )
    copy.add_texts(["more"])
    assert len(copy) == len(store) + 1
    retriever = pickle.loads(pickle.dumps(store.as_retriever(k=1)))
    assert isinstance(retriever, VectorStoreRetriever)
    assert retriever.invoke("harrison") == [Document("harrison worked at kensho")]


# --------------------------------------------------------------------------- custom retrievers


class KeywordRetriever(BaseRetriever):
    """Returns the documents containing the query word."""

    def _get_relevant_documents(self, query: str) -> list[Document]:
        return [Document(text) for text in TEXTS if query in text]


class AsyncRetriever(BaseRetriever):
    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        await anyio.sleep(0)
        return [Document(f"async:{query}")]

    def _get_relevant_documents(self, query: str) -> list[Document]:
        return [Document(f"sync:{query}")]


@attrs.frozen
class SlowRetriever(BaseRetriever):
    peak: Peak

    def _get_relevant_documents(self, query: str) -> list[Document]:
        self.peak.hold_sync(0.03)
        return [Document(query)]


def test_custom_retriever() -> None:
    retriever = KeywordRetriever()
    assert retriever.invoke("kensho") == [Document(TEXTS[0]), Document(TEXTS[3])]
    assert retriever.name == "KeywordRetriever"
    assert retriever.run_type == "retriever"
    assert retriever.tags == ()
    assert retriever.input_schema.title == "KeywordRetrieverInput"
    assert retriever == KeywordRetriever()


@pytest.mark.anyio
async def test_custom_retriever_async_paths(anyio_backend: str) -> None:
    assert await KeywordRetriever().ainvoke("honey") == [Document(TEXTS[1])]
    assert await AsyncRetriever().ainvoke("q") == [Document("async:q")]
    assert AsyncRetriever().invoke("q") == [Document("sync:q")]


def test_base_retriever_without_hook_fails() -> None:
    class Empty(BaseRetriever):
        pass

    with pytest.raises(NotImplementedError, match="_get_relevant_documents"):
        Empty().invoke("x")


def test_retriever_respects_max_concurrency(peak: Peak) -> None:
    retriever = SlowRetriever(peak)
    started = time.monotonic()
    out = retriever.batch([str(i) for i in range(6)], {"max_concurrency": 2})
    assert out == [[Document(str(i))] for i in range(6)]
    assert peak.peak <= 2
    assert time.monotonic() - started >= 0.05


@pytest.mark.anyio
async def test_retriever_respects_max_concurrency_async(anyio_backend: str, peak: Peak) -> None:
    retriever = SlowRetriever(peak)
    out = await retriever.abatch([str(i) for i in range(5)], {"max_concurrency": 2})
    assert out == [[Document(str(i))] for i in range(5)]
    assert peak.peak <= 2


def test_nested_calls_inside_retriever_are_children(recorder: Recorder) -> None:
    inner = RunnableLambda(lambda s: s.upper(), name="inner")

    class Nested(BaseRetriever):
        def _get_relevant_documents(self, query: str) -> list[Any]:
            return [Document(inner.invoke(query))]

    Nested().invoke("abc", {"callbacks": [recorder]})
    parent = recorder.one("Nested")
    child = recorder.one("inner")
    assert child.parent_id == parent.id


@pytest.mark.anyio
async def test_seed_retrieval_log_and_events(anyio_backend: str) -> None:
    retriever = InMemoryVectorStore.from_texts(
        ["harrison worked at kensho"], embedding=HashingEmbeddings()
    ).as_retriever()
    chain = RunnableParallel(
        {"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough()}
    )
    patches = [
        p async for p in chain.astream_log("where did harrison work?", include_names=["Docs"])
    ]
    state: Any = None
    for patch in patches:
        state = patch if state is None else state + patch
    entry = state.state["logs"]["Docs"]
    assert entry["type"] == "retriever"
    assert entry["tags"] == ["map:key:context", "InMemoryVectorStore", "HashingEmbeddings"]
    assert entry["final_output"] == {"documents": [Document("harrison worked at kensho")]}
    events = [
        e
        async for e in chain.astream_events("where did harrison work?", version="v2")
        if e["name"] == "Docs"
    ]
    assert [e["event"] for e in events] == ["on_retriever_start", "on_retriever_end"]
    assert events[-1]["data"]["output"] == [Document("harrison worked at kensho")]
