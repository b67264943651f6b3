"""`RemoteRunnable[In, Out]`: a runnable served over HTTP (by runnables.serve or LangServe),
called through httpx as if it were local."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, final, overload

import attrs
import httpx

from runnables._core.base import RunnableBase
from runnables._core.stream import Stream
from runnables._core.streaming import closing_chunks
from runnables.errors import RunnablesError
from runnables.schema import Schema

from ._sse_reader import EventReader
from ._wire import FILTERS, decode, encode

if TYPE_CHECKING:
    from runnables._core.config import RunnableConfig
    from runnables._core.context import RunContext
    from runnables.tracing._events import StreamEvent
    from runnables.tracing._log import RunLog, RunLogPatch

__all__ = ["RemoteConnectionError", "RemoteError", "RemoteInputError", "RemoteRunnable"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
I1 = TypeVar("I1")
O1 = TypeVar("O1")


class RemoteError(RunnablesError):
    """The server refused or failed a call; ``status_code`` is the HTTP status (``None`` when
    no answer came) and ``detail`` what the server said."""

    def __init__(self, message: str, *, status_code: int | None, detail: object) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


class RemoteInputError(RemoteError, ValueError):
    """The server refused the input or the config (HTTP 422); ``errors`` lists every bad path."""

    @property
    def errors(self) -> list[str]:
        detail = self.detail
        return (
            [str(item) for item in cast("list[object]", detail)] if isinstance(detail, list) else []
        )


class RemoteConnectionError(RemoteError, ConnectionError):
    """No answer came from the server (refused connection, timeout, dropped stream)."""


def _refusal(url: str, status: int, body: bytes) -> RemoteError:
    try:
        detail: object = json.loads(body)["detail"]
    except (ValueError, KeyError, TypeError):
        detail = body.decode("utf-8", "replace")
    message = f"{url} answered {status}: {detail}"
    if status == 422:
        return RemoteInputError(message, status_code=status, detail=detail)
    return RemoteError(message, status_code=status, detail=detail)


def _stream_error(url: str, data: str) -> RemoteError:
    try:
        sent = json.loads(data)
        status, message = int(sent["status_code"]), str(sent["message"])
    except (ValueError, KeyError, TypeError):
        status, message = 500, data
    return RemoteError(
        f"{url} failed mid-stream ({status}): {message}", status_code=status, detail=message
    )


@contextmanager
def _answering(url: str) -> Generator[None]:
    """Turn "no answer from ``url``" (refused, timed out, dropped) into a typed error."""
    try:
        yield
    except httpx.TransportError as error:
        raise RemoteConnectionError(
            f"{url}: {error!r}", status_code=None, detail=str(error)
        ) from error


def _check_ended(url: str, reader: EventReader) -> None:
    if not reader.ended:
        raise RemoteConnectionError(f"{url}: the stream ended early", status_code=None, detail=None)


@final
@attrs.frozen(init=False)
class RemoteRunnable(RunnableBase[In, Out]):
    """A runnable served at ``url`` (e.g. ``"http://127.0.0.1:8000/joke"``), called over HTTP.

    Every call form works and composes as for a local runnable; ``astream_log``,
    ``astream_events`` and ``stream_events`` stream the server's own log and events. Declare
    the types with ``input_type``/``output_type`` (or subscript the class): outputs are then
    validated against ``output_type``. Refusals raise :class:`RemoteInputError` (422, every
    bad path) or :class:`RemoteError`; no answer at all raises
    :class:`RemoteConnectionError`. Each call opens its own HTTP connection, closed when the
    call ends or its stream is abandoned.
    """

    url: str
    declared_input: Any
    declared_output: Any
    headers: Mapping[str, str] = attrs.field(eq=False, hash=False, repr=False)
    timeout: float | None

    @overload
    def __init__(
        self: RemoteRunnable[I1, O1],
        url: str,
        *,
        input_type: type[I1],
        output_type: type[O1],
        headers: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
    ) -> None: ...
    @overload
    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
    ) -> None: ...
    def __init__(
        self,
        url: str,
        *,
        input_type: Any = Any,
        output_type: Any = Any,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
    ) -> None:
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            url.rstrip("/"), input_type, output_type, dict(headers or {}), timeout
        )

    @property
    def name(self) -> str:
        return f"RemoteRunnable({self.url})"

    @property
    def input_type(self) -> Any:
        return self.declared_input

    @property
    def output_type(self) -> Any:
        return self.declared_output

    # ------------------------------------------------------------- wire, no I/O

    def _body(self, input: object, ctx: RunContext, **extra: object) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if ctx.tags:
            config["tags"] = list(ctx.tags)
        if ctx.metadata:
            config["metadata"] = dict(ctx.metadata)
        if ctx.configurable:
            config["configurable"] = dict(ctx.configurable)
        return {"input": encode(input), "config": config, **extra}

    def _server_body(
        self, input: object, config: RunnableConfig | None, filters: dict[str, Any], **extra: object
    ) -> dict[str, Any]:
        """The body asking the server for its own events or log of a run."""
        from runnables._core.context import context_for

        return self._body(input, context_for(config), **filters, **extra)

    def _output(self, data: object) -> Any:
        value = decode(data)
        if self.declared_output is Any:
            return value
        return Schema[Any](self.declared_output, f"{self.name}Output").validate(value)

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise _refusal(str(response.url), response.status_code, response.content)
        return self._output(response.json()["output"])

    @staticmethod
    def _event(url: str, reader: EventReader, line: str) -> str | None:
        """The data of a completed ``data`` event, or ``None``; raises on an ``error`` one.

        Other events (``metadata``, and any a newer server may add) are skipped.
        """
        event = reader.line(line)
        if event is None:
            return None
        kind, data = event
        if kind == "end":
            reader.ended = True
        elif kind == "error":
            raise _stream_error(url, data)
        return data if kind == "data" else None

    def _client(self) -> httpx.Client:
        return httpx.Client(headers=dict(self.headers), timeout=self.timeout)

    def _aclient(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(headers=dict(self.headers), timeout=self.timeout)

    # ------------------------------------------------------------- sync driver

    def _post(self, endpoint: str, body: dict[str, Any]) -> Any:
        url = f"{self.url}/{endpoint}"
        with _answering(url), self._client() as client:
            return self._answer(client.post(url, json=body))

    def _events(self, endpoint: str, body: dict[str, Any]) -> Iterator[str]:
        url = f"{self.url}/{endpoint}"
        reader = EventReader()
        with (
            _answering(url),
            self._client() as client,
            client.stream("POST", url, json=body) as response,
        ):
            if response.status_code != 200:
                raise _refusal(url, response.status_code, response.read())
            for line in response.iter_lines():
                data = self._event(url, reader, line)
                if data is not None:
                    yield data
        _check_ended(url, reader)

    # ------------------------------------------------------------- async driver

    async def _apost(self, endpoint: str, body: dict[str, Any]) -> Any:
        url = f"{self.url}/{endpoint}"
        with _answering(url):
            async with self._aclient() as client:
                return self._answer(await client.post(url, json=body))

    async def _aevents(self, endpoint: str, body: dict[str, Any]) -> AsyncIterator[str]:
        url = f"{self.url}/{endpoint}"
        reader = EventReader()
        with _answering(url):
            async with (
                self._aclient() as client,
                client.stream("POST", url, json=body) as response,
            ):
                if response.status_code != 200:
                    raise _refusal(url, response.status_code, await response.aread())
                # Read on to the end after the `end` event (the server closes the stream then):
                # httpx reads through nested generators that an early close leaves unfinished.
                async with closing_chunks(response.aiter_lines()) as lines:
                    async for line in lines:
                        data = self._event(url, reader, line)
                        if data is not None:
                            yield data
        _check_ended(url, reader)

    # ------------------------------------------------------------- hooks

    def _invoke(self, input: In, ctx: RunContext) -> Out:
        output: Out = self._post("invoke", self._body(input, ctx))
        return output

    async def _ainvoke(self, input: In, ctx: RunContext) -> Out:
        output: Out = await self._apost("invoke", self._body(input, ctx))
        return output

    def _stream(self, input: In, ctx: RunContext) -> Iterator[Out]:
        for data in self._events("stream", self._body(input, ctx)):
            yield self._output(json.loads(data))

    async def _astream(self, input: In, ctx: RunContext) -> AsyncIterator[Out]:
        async with closing_chunks(self._aevents("stream", self._body(input, ctx))) as datas:
            async for data in datas:
                yield self._output(json.loads(data))

    # ------------------------------------------------------------- the server's own log and events

    def astream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the events of the run on the server, as it sends them."""
        filters = _filters(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        return Stream(self._aserver_events(input, config, filters))

    def stream_events(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> Iterator[StreamEvent]:
        """`astream_events` from sync code: the events of the run on the server."""
        filters = _filters(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        for data in self._events("stream_events", self._server_body(input, config, filters)):
            yield _stream_event(data)

    async def _aserver_events(
        self, input: In, config: RunnableConfig | None, filters: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        body = self._server_body(input, config, filters)
        async with closing_chunks(self._aevents("stream_events", body)) as datas:
            async for data in datas:
                yield _stream_event(data)

    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[True] = True,
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLogPatch]: ...
    @overload
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: Literal[False],
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLog]: ...
    def astream_log(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        diff: bool = True,
        with_streamed_output_list: bool = True,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> AsyncIterator[RunLogPatch] | AsyncIterator[RunLog]:
        """Stream the server's run log as patches, or (``diff=False``) the states they build.

        ``with_streamed_output_list`` is the server's choice (LangServe's wire has no field
        for it).
        """
        filters = _filters(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        return Stream(self._aserver_log(input, config, filters, diff))

    async def _aserver_log(
        self, input: In, config: RunnableConfig | None, filters: dict[str, Any], diff: bool
    ) -> AsyncIterator[Any]:
        from runnables.tracing._log import RunLogPatch

        body = self._server_body(input, config, filters, diff=True)
        log: RunLog | None = None
        async with closing_chunks(self._aevents("stream_log", body)) as datas:
            async for data in datas:
                patch = RunLogPatch(*decode(json.loads(data), strict=False)["ops"])
                if diff:
                    yield patch
                else:
                    log = (RunLogPatch() + patch) if log is None else log + patch
                    yield log


def _filters(*lists: Sequence[str] | None) -> dict[str, Any]:
    return {
        name: list(value) for name, value in zip(FILTERS, lists, strict=True) if value is not None
    }


def _stream_event(data: str) -> StreamEvent:
    return cast("StreamEvent", decode(json.loads(data), strict=False))
