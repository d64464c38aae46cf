from __future__ import annotations

from django.urls import path

from catalog.views import author_books

urlpatterns = [path("authors/<int:author_id>/books/", author_books)]
