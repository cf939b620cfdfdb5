"""Where the client finds its server and key, as the ``strata`` command does.

In order: the arguments, ``STRATA_ENDPOINT``/``STRATA_TOKEN``; then the CLI's config file
(``$STRATA_CONFIG_DIR/config.json``, else ``~/.config/strata/config.json``) with its current
context; then the local server (the address in ``DATA_DIR/endpoint``, else
``http://127.0.0.1:7878``, and ``DATA_DIR/admin.token``). A saved key is sent only to the
endpoint it was saved with, and the local admin key only to the local server on a loopback
address.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlparse

DEFAULT_ENDPOINT = "http://127.0.0.1:7878"


def _env_path(name: str) -> Optional[Path]:
    value = os.environ.get(name)
    return Path(value) if value else None


def data_dir() -> Path:
    """The local server's data folder: ``$STRATA_DATA_DIR``, else the user's data folder."""
    base = _env_path("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return _env_path("STRATA_DATA_DIR") or base / "strata"


def config_file() -> Path:
    """The file ``strata login`` and ``strata ctx`` write."""
    directory = _env_path("STRATA_CONFIG_DIR")
    if directory:
        return directory / "config.json"
    base = _env_path("XDG_CONFIG_HOME") or Path.home() / ".config"
    return base / "strata" / "config.json"


def load_config() -> Dict[str, Any]:
    try:
        value = json.loads(config_file().read_bytes())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def current_context(config: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The context ``strata ctx use`` chose, if any."""
    name = config.get("current_context")
    contexts = config.get("contexts") or {}
    context = contexts.get(name) if isinstance(contexts, dict) and name else None
    return context if isinstance(context, dict) else None


def _saved(config: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """The saved endpoint and key, the current context's taking the place of the login's."""
    context = current_context(config)
    if context and (context.get("endpoint") or context.get("token")):
        return context.get("endpoint") or config.get("endpoint"), context.get("token")
    return config.get("endpoint"), config.get("token")


def _same(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def _is_loopback(endpoint: str) -> bool:
    host = urlparse(endpoint.strip()).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_endpoint() -> str:
    try:
        text = (data_dir() / "endpoint").read_text().strip()
    except OSError:
        text = ""
    return text or DEFAULT_ENDPOINT


def resolve(endpoint: Optional[str] = None, token: Optional[str] = None) -> Tuple[str, Optional[str]]:
    """The endpoint and key to use."""
    endpoint = endpoint or os.environ.get("STRATA_ENDPOINT") or None
    token = token or os.environ.get("STRATA_TOKEN") or None
    saved_endpoint, saved_token = _saved(load_config())
    local = _local_endpoint()
    endpoint = endpoint or saved_endpoint or local
    if token:
        return endpoint, token
    if saved_token and saved_endpoint and _same(saved_endpoint, endpoint):
        return endpoint, saved_token
    if _same(endpoint, local) and _is_loopback(endpoint):
        try:
            return endpoint, (data_dir() / "admin.token").read_text().strip() or None
        except OSError:
            pass
    return endpoint, None
