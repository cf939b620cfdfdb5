"""strata: persistent, forkable, shareable volumes for ephemeral sandboxes.

>>> from strata import Strata, CreateSandboxParams, VolumeMount
>>> strata = Strata()
>>> volume = strata.volume.get("work", create=True)
>>> sandbox = strata.create(CreateSandboxParams(volumes=[VolumeMount(volume.id, "/home/w")]))
>>> sandbox.process.exec("echo hi > /home/w/hi.txt").exit_code
0
"""

from .client import (
    CreateSandboxParams,
    ExecResponse,
    HistoryPoint,
    MergeConflict,
    MergeReport,
    Org,
    Sandbox,
    SandboxLimits,
    StoreUsage,
    Strata,
    Volume,
    VolumeMount,
)
from .errors import (
    AlreadyExists,
    Conflict,
    InternalError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    StrataError,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "Conflict",
    "CreateSandboxParams",
    "ExecResponse",
    "HistoryPoint",
    "InternalError",
    "InvalidInput",
    "MergeConflict",
    "MergeReport",
    "NotFound",
    "Org",
    "PermissionDenied",
    "QuotaExceeded",
    "Sandbox",
    "SandboxLimits",
    "StoreUsage",
    "Strata",
    "StrataError",
    "Unauthorized",
    "Unavailable",
    "Volume",
    "VolumeMount",
]
