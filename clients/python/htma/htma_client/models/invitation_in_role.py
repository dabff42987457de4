from enum import StrEnum


class InvitationInRole(StrEnum):
    PATIENT = "patient"
    PRACTITIONER = "practitioner"

    def __str__(self) -> str:
        return str(self.value)
