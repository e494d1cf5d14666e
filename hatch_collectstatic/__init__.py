"""Hatchling build hook ``collectstatic`` (see :mod:`hatch_collectstatic.hooks`)."""
