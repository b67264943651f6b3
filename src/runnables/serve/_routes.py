"""The HTTP endpoints of one served runnable, in LangServe's wire format."""

from __future__ import annotations

import inspect
import json
import logging
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeAlias, cast

import anyio
import attrs
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runnables._core.base import RunnableBase
from runnables._core.config import DEFAULT_RECURSION_LIMIT, RunnableConfig
from runnables.schema import SchemaError

from ._config import ConfigPolicy
from ._disconnect import cancelled_on_disconnect
from ._playground import playground_routes
from ._sse import EventStream, frame
from ._wire import FILTERS, DecodeError, decode, dumps, encode

__all__ = ["Limits", "PerRequestHook", "add_routes", "create_app"]

logger = logging.getLogger("runnables.serve")

#: Called with the request and the config the client asked for, before the runnable runs;
#: returns the config to run with (raise ``starlette.exceptions.HTTPException`` to refuse).
PerRequestHook: TypeAlias = Callable[
    [Request, RunnableConfig], "RunnableConfig | Awaitable[RunnableConfig]"
]

_BODY_KEYS: Mapping[str, frozenset[str]] = {
    "invoke": frozenset({"input", "config", "kwargs"}),
    "stream": frozenset({"input", "config", "kwargs"}),
    "batch": frozenset({"inputs", "config", "kwargs"}),
    "stream_log": frozenset({"input", "config", "kwargs", "diff", *FILTERS}),
    "stream_events": frozenset({"input", "config", "kwargs", *FILTERS}),
}


def _positive(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"Limits.{attribute.name} must be positive, got {value!r}")


@attrs.frozen
class Limits:
    """Bounds on one request: its body size in bytes, how deeply its JSON may nest (arrays
    and objects inside each other, the body itself counted), and its run time in seconds
    (``None``: no bound on the run time)."""

    max_body_bytes: int = attrs.field(default=1_000_000, validator=_positive)
    run_seconds: float | None = attrs.field(default=300.0, validator=_positive)
    max_depth: int = attrs.field(default=200, validator=_positive)


class _Refused(Exception):
    """A request the server will not run; becomes a JSON error response."""

    def __init__(self, status: int, detail: object) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> JSONResponse:
        return JSONResponse({"detail": self.detail}, status_code=self.status)


@attrs.frozen
class _Call:
    """A checked request: the input(s), the config(s) and the run options."""

    inputs: list[Any]
    configs: list[RunnableConfig]
    run_ids: list[uuid.UUID]
    options: dict[str, Any]


@attrs.frozen
class _Served:
    """One runnable behind its endpoints."""

    runnable: RunnableBase[Any, Any]
    policy: ConfigPolicy
    per_request: PerRequestHook | None
    limits: Limits

    async def _body(self, request: Request) -> dict[str, object]:
        declared = request.headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.limits.max_body_bytes
        ):
            raise _Refused(413, f"body is larger than {self.limits.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.limits.max_body_bytes:
                    raise _Refused(413, f"body is larger than {self.limits.max_body_bytes} bytes")
                chunks.append(chunk)
        except ClientDisconnect:
            # Nobody is left to answer: one line in the log, not a traceback per connection.
            logger.info("client left POST %s before sending its whole body", request.url.path)
            raise _Refused(400, "the client left before sending its whole body") from None
        try:
            body: object = json.loads(b"".join(chunks))
        except ValueError as error:
            raise _Refused(422, [f"$: body is not JSON ({error})"]) from None
        except RecursionError:  # (Python 3.11's parser stops at its recursion limit)
            raise _Refused(422, [self._too_deep]) from None
        if _depth(body, self.limits.max_depth) > self.limits.max_depth:
            raise _Refused(422, [self._too_deep])
        if not isinstance(body, dict):
            raise _Refused(422, [f"$: expected a JSON object, got {type(body).__name__}"])
        return cast("dict[str, object]", body)

    @property
    def _too_deep(self) -> str:
        return f"$: body is nested deeper than {self.limits.max_depth} levels (Limits.max_depth)"

    def _input(self, value: object, where: str, errors: list[str]) -> object:
        try:
            return self.runnable.input_schema.validate(decode(value))
        except (SchemaError, DecodeError) as error:
            errors.extend(where + message[1:] for message in error.errors)
        except RecursionError:
            errors.append(f"{where}: nested too deeply")
        return None

    async def _call(self, request: Request, endpoint: str) -> _Call:
        body = await self._body(request)
        errors = [
            f"$.{key}: unknown key (expected some of {sorted(_BODY_KEYS[endpoint])})"
            for key in body
            if key not in _BODY_KEYS[endpoint]
        ]
        if body.get("kwargs"):
            errors.append("$.kwargs: keyword arguments are not supported")
        if endpoint == "batch":
            inputs, configs = self._batch(body, errors)
        else:
            if "input" not in body:
                errors.append("$.input: missing")
                inputs = [None]
            else:
                inputs = [self._input(body["input"], "$.input", errors)]
            configs = [self.policy.check(body.get("config"), "$.config", errors)]
        options = self._options(body, endpoint, errors)
        if errors:
            raise _Refused(422, errors)
        if self.per_request is not None:
            configs = [await _hook(self.per_request, request, config) for config in configs]
        where = (
            ["$.config"] if endpoint != "batch" else [f"$.config[{i}]" for i in range(len(configs))]
        )
        missing = [
            m for c, w in zip(configs, where, strict=True) for m in self.policy.missing(c, w)
        ]
        if missing:
            raise _Refused(422, missing)
        run_ids = [uuid.uuid4() for _ in configs]
        configs = [
            cast("RunnableConfig", {**config, "run_id": run_id})
            for config, run_id in zip(configs, run_ids, strict=True)
        ]
        return _Call(inputs, configs, run_ids, options)

    def _batch(
        self, body: dict[str, object], errors: list[str]
    ) -> tuple[list[object], list[RunnableConfig]]:
        raw = body.get("inputs")
        if not isinstance(raw, list):
            errors.append("$.inputs: expected a list of inputs")
            return [], []
        items = cast("list[object]", raw)
        inputs = [self._input(item, f"$.inputs[{i}]", errors) for i, item in enumerate(items)]
        sent = body.get("config")
        if isinstance(sent, list):
            many = cast("list[object]", sent)
            if len(many) != len(items):
                errors.append(f"$.config: {len(many)} configs for {len(items)} inputs")
            return inputs, [
                self.policy.check(one, f"$.config[{i}]", errors) for i, one in enumerate(many)
            ]
        one = self.policy.check(sent, "$.config", errors)
        return inputs, [cast("RunnableConfig", dict(one)) for _ in items]

    @staticmethod
    def _options(body: dict[str, object], endpoint: str, errors: list[str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if endpoint not in ("stream_log", "stream_events"):
            return options
        if body.get("diff", True) is not True:
            errors.append("$.diff: only the patch form (true) is sent over HTTP")
        for key in FILTERS:
            value = body.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(
                isinstance(item, str) for item in cast("list[object]", value)
            ):
                errors.append(f"$.{key}: expected a list of strings or null")
            else:
                options[key] = value
        return options

    def _deadline(self) -> float:
        seconds = self.limits.run_seconds
        return math.inf if seconds is None else seconds

    async def invoke(self, request: Request) -> Response:
        try:
            call = await self._call(request, "invoke")
        except _Refused as refused:
            return refused.response()
        return await self._answer(request, call, self._invoke)

    async def batch(self, request: Request) -> Response:
        try:
            call = await self._call(request, "batch")
        except _Refused as refused:
            return refused.response()
        return await self._answer(request, call, self._batch_run)

    async def _invoke(self, call: _Call) -> dict[str, Any]:
        output = await self.runnable.ainvoke(call.inputs[0], call.configs[0])
        return {"output": encode(output), "metadata": _metadata(call.run_ids[0])}

    async def _batch_run(self, call: _Call) -> dict[str, Any]:
        outputs = await self.runnable.abatch(call.inputs, call.configs)
        metadata = {
            "run_ids": [str(run_id) for run_id in call.run_ids],
            "responses": [_metadata(run_id) for run_id in call.run_ids],
        }
        return {"output": encode(outputs), "metadata": metadata}

    async def _answer(
        self,
        request: Request,
        call: _Call,
        run: Callable[[_Call], Awaitable[dict[str, Any]]],
    ) -> Response:
        """Run ``call`` within the time limit, cancelled if the client leaves; a failure is
        logged, never shown to the client."""
        async with cancelled_on_disconnect(request.receive) as departure:
            try:
                with anyio.move_on_after(self._deadline()):
                    return _json(await run(call))
            except Exception:  # inside the task group, so that it is not wrapped in a group
                logger.exception("run failed: POST %s", request.url.path)
                return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        if departure.left:
            logger.info("client left POST %s: run %s cancelled", request.url.path, _ids(call))
            return Response(status_code=499)  # nobody reads it; the status names what happened
        return self._timed_out(request)

    def _timed_out(self, request: Request) -> Response:
        message = f"run took longer than {self.limits.run_seconds} seconds"
        logger.warning("%s: POST %s", message, request.url.path)
        return JSONResponse({"detail": message}, status_code=504)

    async def _stream_response(
        self, request: Request, endpoint: str, chunks: Callable[[_Call], AsyncIterator[str]]
    ) -> Response:
        try:
            call = await self._call(request, endpoint)
        except _Refused as refused:
            return refused.response()
        path = request.url.path
        run_id = call.run_ids[0]

        async def produce() -> AsyncIterator[bytes]:
            if endpoint == "stream":  # as LangServe: the others send it only with feedback on
                yield frame("metadata", json.dumps({"run_id": str(run_id)}))
            try:
                with anyio.move_on_after(self._deadline()) as deadline:
                    async for data in chunks(call):
                        yield frame("data", data)
                if deadline.cancelled_caught:
                    message = f"run took longer than {self.limits.run_seconds} seconds"
                    logger.warning("%s: POST %s", message, path)
                    yield frame("error", json.dumps({"status_code": 504, "message": message}))
                    return
            except Exception:
                logger.exception("run failed: POST %s", path)
                error = {"status_code": 500, "message": "Internal Server Error"}
                yield frame("error", json.dumps(error))
                return
            yield frame("end")

        def disconnected() -> None:
            logger.info("client left POST %s: run %s cancelled", path, run_id)

        return EventStream(produce, disconnected)

    async def stream(self, request: Request) -> Response:
        async def chunks(call: _Call) -> AsyncIterator[str]:
            async for chunk in self.runnable.astream(call.inputs[0], call.configs[0]):
                yield dumps(chunk)

        return await self._stream_response(request, "stream", chunks)

    async def stream_log(self, request: Request) -> Response:
        async def chunks(call: _Call) -> AsyncIterator[str]:
            async for patch in self.runnable.astream_log(
                call.inputs[0], call.configs[0], diff=True, **call.options
            ):
                yield dumps({"ops": list(patch.ops)})

        return await self._stream_response(request, "stream_log", chunks)

    async def stream_events(self, request: Request) -> Response:
        async def chunks(call: _Call) -> AsyncIterator[str]:
            async for event in self.runnable.astream_events(
                call.inputs[0], call.configs[0], version="v2", **call.options
            ):
                yield dumps(event)

        return await self._stream_response(request, "stream_events", chunks)

    async def input_schema(self, request: Request) -> Response:
        return JSONResponse(self.runnable.input_schema.json_schema())

    async def output_schema(self, request: Request) -> Response:
        return JSONResponse(self.runnable.output_schema.json_schema())

    async def config_schema(self, request: Request) -> Response:
        return JSONResponse(self.policy.json_schema(f"{self.runnable.name}Config"))


def _metadata(run_id: uuid.UUID) -> dict[str, Any]:
    return {"run_id": str(run_id), "feedback_tokens": []}


def _ids(call: _Call) -> str:
    return ", ".join(str(run_id) for run_id in call.run_ids)


def _json(content: object) -> Response:
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, media_type="application/json")


async def _hook(hook: PerRequestHook, request: Request, config: RunnableConfig) -> RunnableConfig:
    result = hook(request, config)
    if inspect.isawaitable(result):
        return await result
    return result


def add_routes(
    app: Starlette,
    runnable: RunnableBase[Any, Any],
    *,
    path: str = "",
    configurable: Mapping[str, Any] | None = None,
    max_concurrency: int | None = None,
    recursion_limit: int = DEFAULT_RECURSION_LIMIT,
    per_request: PerRequestHook | None = None,
    limits: Limits | None = None,
) -> None:
    """Serve ``runnable`` on ``app`` under ``path``, as LangServe's ``add_routes`` does.

    Adds ``POST {path}/invoke``, ``/batch``, ``/stream``, ``/stream_log``, ``/stream_events``
    and ``GET {path}/input_schema``, ``/output_schema``, ``/config_schema``, and the
    ``GET {path}/playground/`` page, which runs the runnable from a browser.

    Args:
        app: the Starlette (or FastAPI) application to add the routes to.
        runnable: what to serve.
        path: the prefix, e.g. ``"/joke"``; empty serves at the root.
        configurable: ``configurable`` keys a client may set, with their types, besides the
            runnable's own ``config_specs`` (which a client may always set).
        max_concurrency: the server's cap on ``max_concurrency`` (and its default).
        recursion_limit: the highest ``recursion_limit`` a client may ask for.
        per_request: runs before the runnable with the request and the client's config and
            returns the config to run with (authentication, per-user settings); once per
            input of a batch. Input and config are checked first, so it sees only valid ones.
        limits: body size and run time bounds (``Limits()`` by default).
    """
    if path and (not path.startswith("/") or path.endswith("/")):
        raise ValueError(f"path must start with '/' and not end with one, got {path!r}")
    served = _Served(
        runnable,
        ConfigPolicy.of(runnable, configurable or {}, max_concurrency, recursion_limit),
        per_request,
        Limits() if limits is None else limits,
    )
    app.router.routes.extend(
        [
            Route(f"{path}/invoke", served.invoke, methods=["POST"]),
            Route(f"{path}/batch", served.batch, methods=["POST"]),
            Route(f"{path}/stream", served.stream, methods=["POST"]),
            Route(f"{path}/stream_log", served.stream_log, methods=["POST"]),
            Route(f"{path}/stream_events", served.stream_events, methods=["POST"]),
            Route(f"{path}/input_schema", served.input_schema, methods=["GET"]),
            Route(f"{path}/output_schema", served.output_schema, methods=["GET"]),
            Route(f"{path}/config_schema", served.config_schema, methods=["GET"]),
            *playground_routes(path),
        ]
    )


def create_app(
    runnable: RunnableBase[Any, Any],
    *,
    path: str = "",
    configurable: Mapping[str, Any] | None = None,
    max_concurrency: int | None = None,
    recursion_limit: int = DEFAULT_RECURSION_LIMIT,
    per_request: PerRequestHook | None = None,
    limits: Limits | None = None,
) -> Starlette:
    """A Starlette app serving ``runnable`` (see :func:`add_routes` for the arguments)."""
    app = Starlette()
    add_routes(
        app,
        runnable,
        path=path,
        configurable=configurable,
        max_concurrency=max_concurrency,
        recursion_limit=recursion_limit,
        per_request=per_request,
        limits=limits,
    )
    return app


def _depth(value: object, limit: int) -> int:
    """How deeply the arrays and objects of parsed JSON nest (a scalar: 0), counted without
    recursion and only as far as one level past `limit`."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Iterable[object] = cast("dict[str, object]", item).values()
        elif isinstance(item, list):
            children = cast("list[object]", item)
        else:
            continue
        deepest = max(deepest, level)
        if level > limit:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest
