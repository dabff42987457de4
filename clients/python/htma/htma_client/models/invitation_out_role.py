from enum import StrEnum


class InvitationOutRole(StrEnum):
    PATIENT = "patient"
    PRACTITIONER = "practitioner"

    def __str__(self) -> str:
        return str(self.value)
