from __future__ import annotations

from django.db import models

from project.apps.tenants.models import Tenant


class People(models.Model):
    """A user of the app: the person behind tracking rows and journal entries."""

    class Gender(models.TextChoices):
        MALE = "M", "Male"
        FEMALE = "F", "Female"
        OTHER = "O", "Other"

    # No related_name: the wellness task relies on the default reverse accessor `people_set`.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    peoplecode = models.CharField(max_length=50)
    peoplename = models.CharField(max_length=120)
    loginid = models.CharField(max_length=50, unique=True)
    email = models.EmailField(max_length=254)
    mobno = models.CharField(max_length=20)
    gender = models.CharField(max_length=1, choices=Gender.choices)
    dateofbirth = models.DateField()
    dateofjoin = models.DateField()
    designation = models.CharField(max_length=80)
    department = models.CharField(max_length=80)
    enable = models.BooleanField(default=True)
    isverified = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "peoples_people"

    def __str__(self) -> str:
        return f"{self.peoplename} ({self.peoplecode})"
