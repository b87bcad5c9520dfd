"""A page of a long list for the portal's pages: Django's `Paginator`, with the links a page shows.

A list that grows with the programme (clusters, reports, overdue slots) is shown a page at a time, so that a
page costs the same queries and about the same bytes for 7 clusters or 3,000. The links keep every other
parameter of the request (filters, `as_of`), so that paging never loses what the reader chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict


@dataclass(frozen=True)
class Pager:
    """One page of a list: its items, where it stands, and the links to the pages around it (None where
    there is none)."""

    page: Page[Any]
    param: str
    first_url: str | None
    previous_url: str | None
    next_url: str | None
    last_url: str | None

    @property
    def items(self) -> list[Any]:
        return list(self.page.object_list)

    @property
    def number(self) -> int:
        return self.page.number

    @property
    def pages(self) -> int:
        return self.page.paginator.num_pages

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def start(self) -> int:
        return self.page.start_index()

    @property
    def end(self) -> int:
        return self.page.end_index()


def page_link(query: QueryDict, param: str, number: int) -> str:
    """The query string of page `number` (`param`), every other parameter kept; page 1 leaves `param` out."""
    params = query.copy()
    params.pop(param, None)
    if number > 1:
        params[param] = str(number)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def paginate(request: HttpRequest, items: Any, *, per_page: int, param: str = "page") -> Pager:
    """The page of `items` the request asks for (`?<param>=N`; a number out of range gives the nearest
    page). `items` is anything Django's `Paginator` takes: a queryset, a list, or an object with `count()`
    and slicing."""
    page = Paginator(items, per_page).get_page(request.GET.get(param))
    pages = page.paginator.num_pages

    def link(number: int, show: bool) -> str | None:
        return page_link(request.GET, param, number) if show else None

    return Pager(
        page=page,
        param=param,
        first_url=link(1, page.number > 2),
        previous_url=link(page.number - 1, page.has_previous()),
        next_url=link(page.number + 1, page.has_next()),
        last_url=link(pages, page.number < pages - 1),
    )
