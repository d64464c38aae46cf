"""A library catalogue: authors and their books. The page that lists an author's newest books is the
query the index of migration 0002 is meant to serve."""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2)
    joined = models.DateField()

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    class Genre(models.TextChoices):
        FICTION = "fiction", "Fiction"
        HISTORY = "history", "History"
        SCIENCE = "science", "Science"
        POETRY = "poetry", "Poetry"
        CHILDREN = "children", "Children"

    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=20, unique=True)
    genre = models.CharField(max_length=20, choices=Genre.choices)
    published = models.DateTimeField()
    pages = models.IntegerField()
    in_print = models.BooleanField()
    edition = models.SmallIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["author", "-published"], name="book_author_published_idx")]

    def __str__(self) -> str:
        return self.title
