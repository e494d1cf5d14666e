from django.apps import AppConfig


class HatchDjangoAppConfig(AppConfig):
    name = "hatch_django_app"
