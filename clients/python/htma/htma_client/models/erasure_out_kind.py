from enum import StrEnum


class ErasureOutKind(StrEnum):
    TENANT = "tenant"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
