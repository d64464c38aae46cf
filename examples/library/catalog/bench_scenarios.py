"""The library's scenarios, registered with the harness's decorator: what the index is meant to speed
up, and a control it does not touch."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from catalog.models import Book
from django_index_bench.bench.scenarios import Case, MigrationScenario, ranked_by_count, register, spread

PAGE = 20


@register
class BooksByAuthor(MigrationScenario):
    name = "books_by_author"
    title = "An author's newest books"
    group = "catalog"
    description = (
        f"Book.objects.filter(author_id=A).order_by('-published')[:{PAGE}]; "
        "served by book_author_published_idx (author, published DESC) from migration 0002."
    )

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(Book.objects.all(), "author_id")
        return [Case(case, {"author_id": key, "books": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Book]:
        return Book.objects.filter(author_id=params["author_id"]).order_by("-published")[:PAGE]


@register
class BooksInGenre(MigrationScenario):
    name = "books_in_genre"
    title = "A genre's newest books (a control: no index serves it)"
    group = "catalog"
    description = f"Book.objects.filter(genre=G).order_by('-published')[:{PAGE}]; no index of 0002 serves it."

    def draw_cases(self) -> list[Case]:
        ranked = ranked_by_count(Book.objects.all(), "genre")
        return [Case(case, {"genre": key, "books": n}) for case, key, n in spread(ranked)]

    def queryset(self, params: dict[str, Any]) -> QuerySet[Book]:
        return Book.objects.filter(genre=params["genre"]).order_by("-published")[:PAGE]
