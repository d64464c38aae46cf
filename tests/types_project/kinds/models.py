"""A column of every type a seed plan draws besides numbers, text and moments; one it cannot draw."""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, HStoreField, IntegerRangeField
from django.db import models


class PickledField(models.TextField):
    """Stores base64 of a pickle, as a pickled-object field does; reads the object back."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else pickle.loads(base64.b64decode(value))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return None if value is None else base64.b64encode(pickle.dumps(value, protocol=4)).decode()


class PointField(models.Field):
    """A geometric point: no generator draws one."""

    def db_type(self, connection: Any) -> str:
        return "point"


class Host(models.Model):
    name = models.CharField(max_length=40)
    address = models.GenericIPAddressField(unique=True)
    fixed_address = models.GenericIPAddressField()
    document = models.JSONField()
    settings = models.JSONField()
    defaulted = models.JSONField(default=dict)
    tags = ArrayField(models.CharField(max_length=20))
    ports = ArrayField(models.IntegerField())
    slots = IntegerRangeField()
    window = DateTimeRangeField()
    planned = DateTimeRangeField()
    uptime = models.DurationField()
    timeout = models.DurationField()
    blob = models.BinaryField()
    magic = models.BinaryField()
    price = models.DecimalField(max_digits=20, decimal_places=4)
    cost = models.DecimalField(max_digits=6, decimal_places=2)
    state = PickledField()
    attrs = HStoreField()
    object_pk = models.CharField(max_length=40)
    object_id = models.PositiveIntegerField()
    code = models.TextField()
    serial = models.JSONField(unique=True)
    flag = models.BooleanField()

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    where = PointField()

    def __str__(self) -> str:
        return str(self.pk)


class Switch(models.Model):
    """A unique boolean: two rows at most."""

    on = models.BooleanField(unique=True)

    def __str__(self) -> str:
        return str(self.on)
