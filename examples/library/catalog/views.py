from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from catalog.models import Book


def author_books(request: HttpRequest, author_id: int) -> JsonResponse:
    books = Book.objects.filter(author_id=author_id).order_by("-published")[:20]
    return JsonResponse({"books": [{"title": b.title, "published": b.published.isoformat()} for b in books]})
