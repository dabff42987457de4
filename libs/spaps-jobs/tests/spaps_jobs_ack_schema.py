"""Tables shared by the acknowledgement tests and their worker app (``spaps_jobs_ack_app``)."""

from __future__ import annotations

from spaps_jobs import Outbox, SqlInbox
from sqlalchemy import Column, Integer, MetaData, String, Table


class AckSchema:
    """The outbox (with confirmations), the consumer's inbox, its effects and duplicates."""

    def __init__(self) -> None:
        self.metadata = MetaData()
        self.outbox = Outbox(self.metadata, confirmations=True)
        self.inbox = SqlInbox(self.metadata, outbox=self.outbox)
        self.effects = Table(
            "effects",
            self.metadata,
            Column("message_id", String(64), primary_key=True),
            Column("pid", Integer, nullable=False),
        )
        self.duplicates = Table(
            "duplicates",
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("message_id", String(64), nullable=False),
        )
