"""The strata client: volumes, forks, snapshots, files and sandboxes over the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Union

import httpx

from . import _config
from .errors import NotFound, Unavailable, from_body


@dataclass(frozen=True)
class Volume:
    """A volume, a snapshot (named ``VOLUME@NAME``) or a moment of its history (``VOLUME@TIME``)."""

    id: str
    name: str
    state: str
    created_at: int
    updated_at: int
    used_bytes: int
    file_count: int
    snapshot_of: Optional[str] = None
    #: The most bytes its files may hold, and the most files; ``None``: no bound.
    quota_bytes: Optional[int] = None
    quota_files: Optional[int] = None
    #: For a fork, the id of the volume it was forked from.
    forked_from: Optional[str] = None
    #: For a moment of history, the instant it shows (ns since the epoch).
    moment_at: Optional[int] = None
    #: How long the volume keeps its past, if it says (ns); ``None``: the server's setting.
    history_ns: Optional[int] = None
    #: How its new blocks are compressed (``off``, ``zstd:LEVEL``), if it says; ``None``: the server's setting.
    compression: Optional[str] = None
    #: When it was last used (ns): the later of its last change and the last mount opened on it.
    last_used_at: int = 0

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "Volume":
        return cls(
            id=d["id"],
            name=d["name"],
            state=d["state"],
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            used_bytes=d["used_bytes"],
            file_count=d["file_count"],
            snapshot_of=d.get("snapshot_of"),
            quota_bytes=d.get("quota_bytes"),
            quota_files=d.get("quota_files"),
            forked_from=d.get("forked_from"),
            moment_at=d.get("moment_at"),
            history_ns=d.get("history_ns"),
            compression=d.get("compression"),
            last_used_at=d.get("last_used_at", 0),
        )


@dataclass(frozen=True)
class Org:
    """An organization: the bytes its volumes hold (forks whole; snapshots and history not) and its quota."""

    name: str
    created_at: int
    used_bytes: int
    #: The most bytes its volumes may hold together; ``None``: no bound.
    quota_bytes: Optional[int] = None
    #: When it encrypts its blocks, the number of the data key new ones are encrypted with.
    data_key: Optional[int] = None

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "Org":
        return cls(
            name=d["name"],
            created_at=d["created_at"],
            used_bytes=d.get("used_bytes", 0),
            quota_bytes=d.get("quota_bytes"),
            data_key=d.get("data_key"),
        )


@dataclass(frozen=True)
class StoreUsage:
    """The blocks a volume's layers name, their bytes, and the bytes the store keeps for them."""

    blocks: int
    bytes: int
    stored_bytes: int


@dataclass(frozen=True)
class HistoryPoint:
    """A window of changes: ``before`` (ns) names the volume just before them (``VOLUME@TIME``)."""

    before: int
    first_change: int
    last_change: int
    changes: int
    bytes: int

    @property
    def before_time(self) -> str:
        """``before`` as RFC 3339, as ``VOLUME@TIME`` and ``restore(to=...)`` take it."""
        return _rfc3339(self.before)


@dataclass(frozen=True)
class MergeConflict:
    """A path both the fork and the volume changed: what each did (added, removed, changed)."""

    path: str
    fork: str
    volume: str


@dataclass(frozen=True)
class MergeReport:
    """What a merge did, or would do: the fork's changes taken (path, change) and the conflicts."""

    applied: bool
    changes: List[Dict[str, str]]
    conflicts: List[MergeConflict]


Moment = Union[str, datetime]


def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def moment(at: Moment) -> str:
    """A moment as the API takes it: RFC 3339 for a datetime (UTC when naive), else as given."""
    if isinstance(at, datetime):
        utc = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return at


VolumeLike = Union[Volume, str]


def _ref(volume: VolumeLike) -> str:
    return volume.id if isinstance(volume, Volume) else volume


@dataclass(frozen=True)
class VolumeMount:
    """One volume of a sandbox: ``volume_id`` (id or name), where, which folder, how."""

    volume_id: str
    mount_path: str
    subpath: Optional[str] = None
    read_only: bool = False


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of a sandbox; ``None`` takes the server's default. ``millicpus``:
    thousandths of a core; ``disk_mib``: the size of each writable folder (/root, /tmp)."""

    memory_mib: Optional[int] = None
    processes: Optional[int] = None
    millicpus: Optional[int] = None
    disk_mib: Optional[int] = None


@dataclass
class CreateSandboxParams:
    """What a sandbox mounts, the environment of its processes and its limits."""

    volumes: List[VolumeMount] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    #: "none" (a loopback of its own) or "outbound" (connections out, never to the host's loopback)
    network: str = "none"


@dataclass(frozen=True)
class ExecResponse:
    """What a command in a sandbox did. ``result`` is its standard output."""

    exit_code: int
    result: str
    stderr: str
    truncated: bool
    timed_out: bool


class _Http:
    def __init__(self, endpoint: str, token: Optional[str], timeout: float) -> None:
        # Several endpoints (URL1,URL2) are for failover in the CLI; the SDK uses the first.
        self.base = endpoint.split(",")[0].strip().rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, "/v1" + path, **kwargs)
        except httpx.TransportError as e:
            raise Unavailable(f"cannot reach the strata server at {self.base}: {e}", "unavailable") from e
        if response.is_success:
            return response
        raise from_body(response.status_code, response.content)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, **kwargs).json()

    def prefix(self, method: str, path: str, limit: int, **kwargs: Any) -> bytes:
        """The first ``limit`` bytes of the answer; the rest is not transferred."""
        out = bytearray()
        try:
            with self.client.stream(method, "/v1" + path, **kwargs) as response:
                if not response.is_success:
                    raise from_body(response.status_code, response.read())
                for chunk in response.iter_bytes():
                    out += chunk[: max(0, limit - len(out))]
                    if len(out) >= limit:
                        break
        except httpx.TransportError as e:
            raise Unavailable(f"cannot reach the strata server at {self.base}: {e}", "unavailable") from e
        return bytes(out)


def _seg(value: str) -> str:
    """One path segment, percent-encoded; dots too, so that `..` reaches the server as a
    value it refuses instead of a step up in the URL."""
    from urllib.parse import quote

    return quote(value, safe="").replace(".", "%2E")


class Volumes:
    """``strata.volume``: create, get, list and delete volumes."""

    def __init__(self, http: _Http) -> None:
        self._http = http

    def create(self, name: str) -> Volume:
        """Creates a volume; :class:`AlreadyExists` if the name is taken."""
        return Volume._from(self._http.json("POST", "/volumes", json={"name": name, "exist_ok": False}))

    def get(self, name: str, create: bool = False) -> Volume:
        """A volume by name or id; with ``create=True`` it is made if missing."""
        if create:
            return Volume._from(self._http.json("POST", "/volumes", json={"name": name, "exist_ok": True}))
        return Volume._from(self._http.json("GET", f"/volumes/{_seg(name)}"))

    def list(self) -> List[Volume]:
        return [Volume._from(v) for v in self._http.json("GET", "/volumes")]

    def set_quota(self, volume: VolumeLike, bytes: Optional[int] = None, files: Optional[int] = None) -> Volume:
        """Sets a volume's quota (``None``: no bound); a write past it raises :class:`QuotaExceeded`."""
        body = {"bytes": bytes, "files": files}
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/quota", json=body))

    def set_compression(self, volume: VolumeLike, compression: Optional[str]) -> Volume:
        """Sets how a volume's new blocks are compressed: ``off``, ``zstd``, ``zstd:LEVEL`` (``None``: the server's)."""
        body = {"compression": compression}
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/compression", json=body))

    def usage(self, volume: VolumeLike) -> StoreUsage:
        """The blocks a volume's layers name and what the store keeps for them (walks its chunks)."""
        d = self._http.json("GET", f"/volumes/{_seg(_ref(volume))}/usage")
        return StoreUsage(blocks=d["blocks"], bytes=d["bytes"], stored_bytes=d["stored_bytes"])

    def history(self, volume: VolumeLike, limit: int = 100) -> List[HistoryPoint]:
        """The windows of changes the volume's history keeps, newest first."""
        points = self._http.json("GET", f"/volumes/{_seg(_ref(volume))}/history", params={"limit": limit})
        return [HistoryPoint(**p) for p in points]

    def at(self, volume: str, when: Moment) -> Volume:
        """The volume as it was ``when`` (a datetime, RFC 3339, or before now as ``"-10m"``): a
        read-only volume to read, mount or fork, named ``VOLUME@TIME``."""
        return self.get(f"{volume}@{moment(when)}")

    def restore(self, volume: VolumeLike, to: Moment) -> Volume:
        """Returns the volume to a moment of its history, in one change; the tree before stays in history."""
        body = {"to": moment(to)}
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/restore", json=body))

    def set_history(self, volume: VolumeLike, keep: Optional[str]) -> Volume:
        """How long the volume keeps its past (``"24h"``, ``"0"`` for not at all; ``None``: the server's)."""
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/history", json={"keep": keep}))

    def delete(self, volume: VolumeLike, force: bool = False) -> None:
        """Deletes a volume and its snapshots; :class:`Conflict` while mounted or in a sandbox."""
        self._http.call("DELETE", f"/volumes/{_seg(_ref(volume))}", params={"force": str(force).lower()})


class Orgs:
    """Organizations: their usage, and their quotas (set with an admin key)."""

    def __init__(self, http: _Http) -> None:
        self._http = http

    def get(self, name: Optional[str] = None) -> Org:
        """The key's own organization, or ``name`` (another: admin keys only)."""
        if name is None:
            name = self._http.json("GET", "/whoami")["organization"]
        return Org._from(self._http.json("GET", f"/orgs/{_seg(name)}"))

    def set_quota(self, name: str, bytes: Optional[int] = None) -> Org:
        """Sets an organization's quota (``None``: no bound); a change past it raises :class:`QuotaExceeded`."""
        return Org._from(self._http.json("POST", f"/orgs/{_seg(name)}/quota", json={"bytes": bytes}))

    def encrypt(self, name: str) -> Org:
        """Makes an organization encrypt the blocks it stores from now on (admin keys; the server needs a master key)."""
        return Org._from(self._http.json("POST", f"/orgs/{_seg(name)}/encryption"))

    def rotate_key(self, name: str) -> Org:
        """Gives an organization a new data key for its new blocks; older ones read on."""
        return Org._from(self._http.json("POST", f"/orgs/{_seg(name)}/rotate-key"))

    def reencrypt(self, name: str) -> Dict[str, int]:
        """Rewrites an organization's blocks with its current data key: ``{data_key, rewritten, current}``."""
        return dict(self._http.json("POST", f"/orgs/{_seg(name)}/reencrypt"))


class Snapshots:
    """``strata.snapshot``: read-only points in time of a volume."""

    def __init__(self, http: _Http) -> None:
        self._http = http

    def create(self, volume: VolumeLike, name: str) -> Volume:
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/snapshots", json={"name": name}))

    def list(self, volume: VolumeLike) -> List[Volume]:
        return [Volume._from(v) for v in self._http.json("GET", f"/volumes/{_seg(_ref(volume))}/snapshots")]

    def delete(self, volume: VolumeLike, name: str, force: bool = False) -> None:
        self._http.call(
            "DELETE",
            f"/volumes/{_seg(_ref(volume))}/snapshots/{_seg(name)}",
            params={"force": str(force).lower()},
        )

    def restore(self, volume: VolumeLike, name: str) -> Volume:
        """Puts the volume back as it was at the snapshot; later changes are gone."""
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(volume))}/snapshots/{_seg(name)}/restore"))


class Files:
    """``strata.fs``: files of a volume without mounting it (paths start with ``/``)."""

    def __init__(self, http: _Http) -> None:
        self._http = http

    def put(self, volume: VolumeLike, path: str, data: bytes) -> Dict[str, Any]:
        """Writes a whole file, making missing folders; returns its attributes."""
        result: Dict[str, Any] = self._http.json(
            "PUT", f"/volumes/{_seg(_ref(volume))}/fs/content", params={"path": path}, content=data
        )
        return result

    def get(self, volume: VolumeLike, path: str, limit: Optional[int] = None) -> bytes:
        """A file's bytes; with ``limit``, only its first ``limit`` bytes are transferred."""
        route, params = f"/volumes/{_seg(_ref(volume))}/fs/content", {"path": path}
        if limit is not None:
            return self._http.prefix("GET", route, limit, params=params)
        return self._http.call("GET", route, params=params).content

    def list(self, volume: VolumeLike, path: str = "/") -> List[Dict[str, Any]]:
        """The entries of a folder: each with ``name`` and its attributes."""
        result: List[Dict[str, Any]] = self._http.json(
            "GET", f"/volumes/{_seg(_ref(volume))}/fs/list", params={"path": path}
        )
        return result


class SandboxFiles:
    """``sandbox.fs``: files anywhere inside a sandbox."""

    def __init__(self, http: _Http, sandbox_id: str) -> None:
        self._http, self._id = http, sandbox_id

    def upload_file(self, data: bytes, path: str) -> None:
        """Writes ``data`` to the absolute ``path`` inside the sandbox (folders are made)."""
        self._http.call("PUT", f"/sandboxes/{_seg(self._id)}/files", params={"path": path}, content=data)

    def download_file(self, path: str) -> bytes:
        return self._http.call("GET", f"/sandboxes/{_seg(self._id)}/files", params={"path": path}).content


class SandboxProcess:
    """``sandbox.process``: commands inside a sandbox."""

    def __init__(self, http: _Http, sandbox_id: str) -> None:
        self._http, self._id = http, sandbox_id

    def exec(self, command: str, timeout: Optional[int] = None) -> ExecResponse:
        """Runs ``sh -c command``; waits at most ``timeout`` seconds (default 60)."""
        body: Dict[str, Any] = {"command": command}
        if timeout is not None:
            body["timeout_secs"] = timeout
        r = self._http.json("POST", f"/sandboxes/{_seg(self._id)}/exec", json=body)
        return ExecResponse(r["exit_code"], r["stdout"], r["stderr"], r["truncated"], r["timed_out"])


class Sandbox:
    """A process tree on the server's machine with volumes mounted in it."""

    def __init__(self, http: _Http, data: Dict[str, Any]) -> None:
        self._http = http
        self.id: str = data["id"]
        self.state: str = data["state"]
        self.created_at: int = data["created_at"]
        self.volumes: List[VolumeMount] = [
            VolumeMount(v["volume_id"], v["mount_path"], v.get("subpath"), v["read_only"]) for v in data["volumes"]
        ]
        self.limits = SandboxLimits(**data["limits"])
        self.network: str = data.get("network", "none")
        self.fs = SandboxFiles(http, self.id)
        self.process = SandboxProcess(http, self.id)

    def delete(self) -> None:
        """Kills every process and unmounts the volumes; their data stays."""
        self._http.call("DELETE", f"/sandboxes/{_seg(self.id)}")

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        """Deletes the sandbox, however the block ended (unless it is gone already)."""
        try:
            self.delete()
        except NotFound:
            pass

    def __repr__(self) -> str:
        return f"Sandbox(id={self.id!r}, state={self.state!r})"


class Sandboxes:
    """``strata.sandbox``: list and find sandboxes (create them with :meth:`Strata.create`)."""

    def __init__(self, http: _Http) -> None:
        self._http = http

    def create(self, params: Optional[CreateSandboxParams] = None) -> Sandbox:
        params = params or CreateSandboxParams()
        body = {
            "volumes": [{k: v for k, v in vars(m).items() if v is not None} for m in params.volumes],
            "env": params.env,
            "limits": {k: v for k, v in vars(params.limits).items() if v is not None},
            "network": params.network,
        }
        return Sandbox(self._http, self._http.json("POST", "/sandboxes", json=body))

    def get(self, sandbox_id: str) -> Sandbox:
        return Sandbox(self._http, self._http.json("GET", f"/sandboxes/{_seg(sandbox_id)}"))

    def list(self) -> List[Sandbox]:
        return [Sandbox(self._http, s) for s in self._http.json("GET", "/sandboxes")]


class Strata:
    """A client of one strata server.

    Without arguments it finds the server and key as the ``strata`` command does:
    ``STRATA_ENDPOINT``/``STRATA_TOKEN``, then the CLI's config file and its current
    context, then the local server and its admin key (loopback only).
    """

    def __init__(self, endpoint: Optional[str] = None, token: Optional[str] = None, timeout: float = 120.0) -> None:
        self.endpoint, token = _config.resolve(endpoint, token)
        self._http = _Http(self.endpoint, token, timeout)
        self.volume = Volumes(self._http)
        self.org = Orgs(self._http)
        self.snapshot = Snapshots(self._http)
        self.fs = Files(self._http)
        self.sandbox = Sandboxes(self._http)

    @property
    def context_volume(self) -> Optional[str]:
        """The volume of the CLI's current context (``strata ctx use``), if any."""
        context = _config.current_context(_config.load_config())
        volume = context.get("volume") if context else None
        return volume if isinstance(volume, str) else None

    def fork(self, source: VolumeLike, name: str) -> Volume:
        """A new volume ``name`` with exactly ``source``'s content, made at once at any size."""
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(source))}/fork", json={"name": name}))

    def promote(self, fork: VolumeLike) -> Volume:
        """Makes a fork its source volume (same name and id); returns the source, which keeps
        its last tree as the snapshot ``SOURCE@before-promote-SECONDS``."""
        return Volume._from(self._http.json("POST", f"/volumes/{_seg(_ref(fork))}/promote"))

    def merge(
        self,
        fork: VolumeLike,
        into: Optional[VolumeLike] = None,
        prefer: Optional[str] = None,
        dry_run: bool = False,
    ) -> MergeReport:
        """Applies a fork's changes since it was made to its source (or ``into``) as it is now,
        in one change. Paths both changed are conflicts: nothing is applied unless ``prefer``
        is ``"fork"`` or ``"volume"``; ``dry_run`` only reports."""
        body = {"into": _ref(into) if into else None, "prefer": prefer, "dry_run": dry_run}
        r = self._http.json("POST", f"/volumes/{_seg(_ref(fork))}/merge", json=body)
        return MergeReport(
            applied=r["applied"],
            changes=r["changes"],
            conflicts=[MergeConflict(**c) for c in r["conflicts"]],
        )

    def create(self, params: Optional[CreateSandboxParams] = None) -> Sandbox:
        """Starts a sandbox; returns once every volume is mounted."""
        return self.sandbox.create(params)

    def close(self) -> None:
        self._http.client.close()

    def __enter__(self) -> "Strata":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
