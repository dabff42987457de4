"""htma: the hair-tissue mineral analysis lab service."""

from htma.app import create_app
from htma.settings import Settings

__all__ = ["Settings", "create_app"]
