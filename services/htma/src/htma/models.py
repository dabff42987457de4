"""Every model of the service, imported once so the metadata is complete (Alembic, tests)."""

from htma.accounts.models import User
from htma.clinics.models import Clinic
from htma.db import Base
from htma.erasure.models import ErasureRequest
from htma.messaging.models import Message
from htma.panels.models import Panel
from htma.results.models import Result

__all__ = ["Base", "Clinic", "ErasureRequest", "Message", "Panel", "Result", "User"]
