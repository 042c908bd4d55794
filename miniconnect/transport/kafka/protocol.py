"""Admin protocol pieces aiokafka lacks: OffsetDelete (API key 47) and the error codes the admin calls check."""

from __future__ import annotations

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Int16, Int32, Schema, String


class OffsetDeleteResponse_v0(Response):
    API_KEY = 47
    API_VERSION = 0
    SCHEMA = Schema(
        ("error_code", Int16),
        ("throttle_time_ms", Int32),
        (
            "topics",
            Array(("name", String("utf-8")), ("partitions", Array(("partition_index", Int32), ("error_code", Int16)))),
        ),
    )


class OffsetDeleteRequest_v0(RequestStruct):
    API_KEY = 47
    API_VERSION = 0
    RESPONSE_TYPE = OffsetDeleteResponse_v0
    SCHEMA = Schema(
        ("group_id", String("utf-8")), ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32))))
    )


class OffsetDeleteRequest(Request[OffsetDeleteRequest_v0]):
    API_KEY = 47

    def __init__(self, group_id: str, topics: list[tuple[str, list[int]]]):
        self._group_id, self._topics = group_id, topics

    def build(self, request_struct_class: type[OffsetDeleteRequest_v0]) -> OffsetDeleteRequest_v0:
        return request_struct_class(self._group_id, self._topics)


NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
GROUP_SUBSCRIBED_TO_TOPIC = 86
UNKNOWN_MEMBER_ID = 25
ILLEGAL_GENERATION = 22
TOPIC_ALREADY_EXISTS = 36
