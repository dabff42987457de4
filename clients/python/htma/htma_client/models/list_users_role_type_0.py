from enum import StrEnum


class ListUsersRoleType0(StrEnum):
    LAB_ADMIN = "lab_admin"
    PATIENT = "patient"
    PRACTITIONER = "practitioner"

    def __str__(self) -> str:
        return str(self.value)
