"""How a JSON API v1 route is declared: its method, path, scope and models, in one place.

```python
bp = ApiBlueprint("goals_api")

@bp.operation("POST", "/clinics/<slug>/goals", scope=Scope.GOALS_WRITE, body=NewGoal,
              responses={201: GoalOpened, 404: None}, summary="Open a patient's goal")
def open_goal(call: Call) -> Reply:
    given = call.body_as(NewGoal)
    ...
    return Reply(201, GoalOpened(...))
```

The declaration is what the route does and what the OpenAPI document says
(`app.api.openapi`), so the two cannot drift. Before the handler runs, every operation:
1. reads the URL's arguments and the query string into their models (400). This comes
   first, so that nothing unchecked reaches the database, not even the token lookup;
   it tells a caller without a token only what the public document says;
2. authenticates the bearer token for the clinic in the URL (401) and checks the
   operation's scope (403);
3. reads the body into its model (400 naming the field, 413 for too many rows);
4. for a POST with an `Idempotency-Key`, replays an earlier answer instead of running
   again (`app.api.retries`).
A GET's answer carries an `ETag` and answers 304 to a matching `If-None-Match`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel

from app.api import retries
from app.api.bodies import MAX_BODY_BYTES, BodyError, parse_body, parse_path, parse_query
from app.api.common import Refused, authorised_caller
from app.api.problems import on_failure, problem
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.clinics.tokens import Caller, Scope
from app.core.clock import Clock
from app.runtime import get_runtime

API_PREFIX = "/api/v1"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Operation:
    """One method on one path, as declared."""

    method: str
    rule: str  # the Flask rule under /api/v1, e.g. "/clinics/<slug>/patients"
    endpoint: str
    scope: Scope
    summary: str
    description: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    path: type[BaseModel] | None
    #: Status → the model of its body; None for a problem document (or no body: 204, 304).
    responses: Mapping[int, type[BaseModel] | None]


@dataclass(frozen=True)
class Call:
    """What a handler is given: who calls, for which clinic, with what."""

    caller: Caller
    actor: Actor
    clock: Clock
    #: The URL's arguments other than the clinic's slug.
    args: Mapping[str, Any]
    body: BaseModel | None = None
    query: BaseModel | None = None
    path: BaseModel | None = None

    @property
    def clinic(self) -> Clinic:
        return self.caller.clinic

    def body_as(self, model: type[M]) -> M:
        """The body, read as `model` (the operation's `body`)."""
        if not isinstance(self.body, model):
            raise TypeError(f"this operation's body is not a {model.__name__}")
        return self.body

    def query_as(self, model: type[M]) -> M:
        """The query string, read as `model` (the operation's `query`)."""
        if not isinstance(self.query, model):
            raise TypeError(f"this operation's query is not a {model.__name__}")
        return self.query

    def path_as(self, model: type[M]) -> M:
        """The URL's arguments, read as `model` (the operation's `path`)."""
        if not isinstance(self.path, model):
            raise TypeError(f"this operation's path is not a {model.__name__}")
        return self.path


@dataclass(frozen=True)
class Reply:
    """A handler's answer: a status and a body (a model), or a problem."""

    status: int
    body: BaseModel | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    problem: Mapping[str, Any] | None = None

    @classmethod
    def error(cls, status: int, detail: str, **extensions: Any) -> Reply:
        """A problem document; `detail` says what is wrong and never repeats input."""
        return cls(status, problem={"detail": detail} | extensions)

    def render(self) -> Response:
        if self.problem is not None:
            response = problem(self.status, **self.problem)[0]
        elif self.body is None:
            response = Response(status=self.status)
        else:
            response = Response(
                self.body.model_dump_json(), status=self.status, mimetype="application/json"
            )
        response.headers.update(self.headers)
        return response


Handler = Callable[[Call], Reply]


class ApiBlueprint(Blueprint):
    """A blueprint of /api/v1 whose routes are `operation`s, which it remembers."""

    def __init__(self, name: str) -> None:
        super().__init__(name, __name__, url_prefix=API_PREFIX)
        self.operations: list[Operation] = []
        self.register_error_handler(Exception, on_failure)

    def operation(
        self,
        method: str,
        rule: str,
        *,
        scope: Scope,
        summary: str,
        responses: Mapping[int, type[BaseModel] | None],
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        path: type[BaseModel] | None = None,
        tag: str = "",
    ) -> Callable[[Handler], Handler]:
        """Declare `handler` as `method` on `rule` for callers with `scope`."""
        if "<slug>" not in rule:
            raise ValueError(f"{rule}: every operation is for the clinic named by <slug>")

        def register(handler: Handler) -> Handler:
            declared = Operation(
                method=method.upper(),
                rule=rule,
                endpoint=f"{self.name}.{handler.__name__}",
                scope=scope,
                summary=summary,
                description=inspect.getdoc(handler) or "",
                tag=tag or self.name.removesuffix("_api"),
                body=body,
                query=query,
                path=path,
                responses=dict(responses),
            )
            self.operations.append(declared)

            def view(**args: Any) -> Response:
                return _run(declared, handler, args)

            self.add_url_rule(rule, handler.__name__, view, methods=[declared.method])
            return handler

        return register


def _run(operation: Operation, handler: Handler, args: dict[str, Any]) -> Response:
    slug = args.pop("slug")
    try:  # pure checks first: what the URL names never reaches the database unchecked
        path = parse_path(operation.path, args) if operation.path else None
        query = parse_query(operation.query, request.args) if operation.query else None
    except BodyError as exc:
        return problem(exc.status, str(exc), errors=exc.errors)[0]
    try:
        caller = authorised_caller(slug, operation.scope)
    except Refused as refused:
        return refused.response[0]
    raw = b""
    try:
        if operation.body is not None:
            request.max_content_length = MAX_BODY_BYTES
            raw = request.get_data(cache=False)
        body = parse_body(operation.body, raw) if operation.body else None
    except BodyError as exc:
        return problem(exc.status, str(exc), errors=exc.errors)[0]
    clock = get_runtime().clock
    actor = Actor(token_id=caller.token_id, address=request.remote_addr)
    call = Call(caller, actor, clock, args, body, query, path)
    if operation.method == "POST":
        return retries.once(caller.token_id, clock.now(), raw, lambda: handler(call).render())
    response = handler(call).render()
    if operation.method == "GET" and response.status_code == 200:
        response.add_etag()
        response.make_conditional(request)
    return response
