"""RFC 7807 problem details (``application/problem+json``) for every error the API returns."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.server.version import VERSION_HEADER, engine_version

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:metodika:problem:"

TITLES: dict[int, str] = {
    400: "Некорректный запрос",
    401: "Требуется вход в систему",
    403: "Недостаточно прав",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт",
    413: "Слишком большой запрос",
    415: "Неподдерживаемый формат данных",
    422: "Ошибка в данных запроса",
    429: "Слишком много запросов",
    500: "Внутренняя ошибка сервера",
    503: "Сервис недоступен",
}

# Russian texts for the pydantic error types fund staff meet most often.
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "обязательное поле не заполнено",
    "string_type": "ожидается строка",
    "int_type": "ожидается целое число",
    "int_parsing": "ожидается целое число",
    "float_parsing": "ожидается число",
    "bool_parsing": "ожидается логическое значение (true/false)",
    "bool_type": "ожидается логическое значение (true/false)",
    "string_too_short": "слишком короткое значение",
    "string_too_long": "слишком длинное значение",
    "string_pattern_mismatch": "значение не соответствует формату",
    "enum": "недопустимое значение",
    "literal_error": "недопустимое значение",
    "json_invalid": "некорректный JSON",
    "model_attributes_type": "ожидается объект",
    "dict_type": "ожидается объект",
    "list_type": "ожидается список",
    "extra_forbidden": "неизвестное поле",
    "date_parsing": "ожидается дата ГГГГ-ММ-ДД",
    "greater_than_equal": "значение меньше допустимого",
    "less_than_equal": "значение больше допустимого",
}


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Путь к полю: где находится ошибка (body, query, path …)")
    msg: str = Field(description="Что не так")


class Problem(BaseModel):
    """Описание ошибки по RFC 7807."""

    type: str = Field(description="Идентификатор вида ошибки")
    title: str = Field(description="Краткое название ошибки")
    status: int = Field(description="HTTP-статус")
    detail: str | None = Field(default=None, description="Пояснение")
    errors: list[FieldError] | None = Field(default=None, description="Ошибки в отдельных полях")


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": TITLES[code], "content": {PROBLEM_MEDIA_TYPE: {}}}
    for code in (401, 403, 404, 422)
}


class ProblemError(Exception):
    """Raise to answer with a problem document (domain errors with field paths)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.kind, self.headers = status, detail, errors, kind, headers


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    default_kind = (
        HTTPStatus(status).phrase.lower().replace(" ", "-")
        if status in HTTPStatus._value2member_map_
        else "error"
    )
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (kind or default_kind),
        "title": TITLES.get(status, "Ошибка"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    all_headers = {VERSION_HEADER: engine_version(), **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=all_headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        msg = VALIDATION_MESSAGES.get(err.get("type", ""), err.get("msg", "недопустимое значение"))
        out.append({"loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())], "msg": msg})
    return out


WEB_PREFIX = "/web"


def _web_page(request: Request, status: int, message: str) -> Response | None:
    """Pages under /web answer with an HTML error page, never a JSON problem document."""
    if request.url.path != WEB_PREFIX and not request.url.path.startswith(WEB_PREFIX + "/"):
        return None
    from api.web.common import error_page  # the web layer imports this module: import late

    return error_page(request, status, message)


def _field_text(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        loc = [str(p) for p in err["loc"] if p not in ("body", "query", "path", "form")]
        parts.append(f"{'.'.join(loc) or 'запрос'}: {err['msg']}")
    return "; ".join(parts)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
            else None
        )
        web = _web_page(request, exc.status_code, detail or TITLES.get(exc.status_code, "Ошибка"))
        return web or problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        web = _web_page(request, 422, "Ошибка в адресе или форме — " + _field_text(errors))
        return web or problem_response(
            422, "Исправьте поля, перечисленные в errors", errors=errors, kind="validation"
        )

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        web = _web_page(request, exc.status, exc.detail)
        if web is not None:
            web.headers.update(exc.headers or {})
            return web
        return problem_response(exc.status, exc.detail, errors=exc.errors, kind=exc.kind, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # no details: they may contain data; the traceback goes to the server log by uvicorn
        message = "Произошла непредвиденная ошибка; обратитесь к администратору"
        return _web_page(request, 500, message) or problem_response(500, message)
