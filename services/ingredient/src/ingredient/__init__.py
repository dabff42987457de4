"""ingredient: the ingredient and nutrient catalog service."""

from ingredient.app import create_app
from ingredient.settings import Settings

__all__ = ["Settings", "create_app"]
