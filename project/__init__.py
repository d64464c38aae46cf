"""The Django project under test: the apps, models, views and migrations of the change we measure."""
