"""Schema Registry errors with Confluent's HTTP status and error codes (the body is {"error_code", "message"})."""

from __future__ import annotations


class RegistryError(Exception):
    status = 500
    code = 50001

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error_code": self.code, "message": self.message}


def _kind(name: str, status: int, code: int) -> type[RegistryError]:
    return type(name, (RegistryError,), {"status": status, "code": code})


SubjectNotFound = _kind("SubjectNotFound", 404, 40401)
VersionNotFound = _kind("VersionNotFound", 404, 40402)
SchemaNotFound = _kind("SchemaNotFound", 404, 40403)
SubjectSoftDeleted = _kind("SubjectSoftDeleted", 404, 40404)
SubjectNotSoftDeleted = _kind("SubjectNotSoftDeleted", 404, 40405)
VersionSoftDeleted = _kind("VersionSoftDeleted", 404, 40406)
VersionNotSoftDeleted = _kind("VersionNotSoftDeleted", 404, 40407)
SubjectConfigNotFound = _kind("SubjectConfigNotFound", 404, 40408)
SubjectModeNotFound = _kind("SubjectModeNotFound", 404, 40409)
Incompatible = _kind("Incompatible", 409, 409)
InvalidSchema = _kind("InvalidSchema", 422, 42201)
InvalidVersion = _kind("InvalidVersion", 422, 42202)
InvalidCompatibility = _kind("InvalidCompatibility", 422, 42203)
InvalidMode = _kind("InvalidMode", 422, 42204)
NotPermitted = _kind("NotPermitted", 422, 42205)
ReferenceExists = _kind("ReferenceExists", 422, 42206)
IdConflict = _kind("IdConflict", 422, 42207)
StoreError = _kind("StoreError", 500, 50001)
UnknownLeader = _kind("UnknownLeader", 500, 50004)
Unauthorized = _kind("Unauthorized", 401, 40101)
