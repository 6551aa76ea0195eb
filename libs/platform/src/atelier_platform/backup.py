"""`atelier backup` / `atelier restore`: every service database and the file store in one
tar archive with a manifest (docs/operations.md).

Archive members:
    manifest.json                 format, created_at (UTC), versions, and per member its size and sha256;
                                  per service its alembic revision and its tables' row counts
    databases/<service>.dump      PostgreSQL: `pg_dump --format=custom` of the service's database
    databases/<service>.sqlite    SQLite (the embedded mode): a copy made with SQLite's backup API
    files/<service>/<key>         the service's local file store (catalog images, generation assets)
    keys/<name>                   the data directory's keys and install secrets (when present)

Consistency: each database is dumped from one snapshot (PostgreSQL: an exported snapshot that
`pg_dump --snapshot` and the row counts share; SQLite: the backup API's copy), so each service
restores to a state it was in. Services are snapshotted one after another, so across services a
restore can be a moment apart; the outbox and inbox settle that as they do after any crash: an
event written before its producer's snapshot is in that producer's outbox (published again, and
consumers' inboxes skip what they already applied). The file stores are copied after every
database: a file a restored row names was written before that row, so it is in the archive.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa

from atelier_common.settings import is_sqlite, libpq_conninfo

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupError(Exception):
    """What the operator must fix; the CLI prints it on one line and exits non-zero."""


@dataclass(frozen=True)
class Store:
    """One service's data as this install's settings place it."""

    service: str
    database_url: str
    migrations: Path | None
    # Its local file store (None: no files, or an S3 bucket, which this archive does not copy).
    files: Path | None
    remote_files: str | None = None


# ---------------------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy PostgreSQL URL as a libpq URL without its password, and the environment
    carrying the password (never on a command line other users can read)."""
    parsed = sa.engine.make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return libpq_conninfo(url, password=None), env


def _connect(url: str, *, admin: bool = False, autocommit: bool = False) -> Any:
    """A psycopg connection to the service's database (`admin`: the server's `postgres` one)."""
    import psycopg

    dsn = libpq_conninfo(url, dbname="postgres") if admin else libpq_conninfo(url)
    return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def code_head(migrations: Path | None, url: str) -> str | None:
    if migrations is None:
        return None
    from alembic.script import ScriptDirectory

    from atelier_common.migrations import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(migrations, url)).get_heads()
    return heads[0] if heads else None


def known_revision(migrations: Path, url: str, revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from atelier_common.migrations import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config(migrations, url)).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown id
        return False


def _server_major(conn: Any) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _tool_major(tool: str) -> int:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1].split(".")[0])


# ----------------------------------------------------------------------------------------- backup


def _pg_snapshot(store: Store, target: Path) -> dict[str, Any]:
    """Dump the service's database from one exported snapshot, counting its rows in the same one."""
    dsn, env = _libpq(store.database_url)
    with _connect(store.database_url, autocommit=True) as conn:
        server = _server_major(conn)
        tool = _tool_major("pg_dump")
        if tool < server:
            raise BackupError(f"pg_dump {tool} cannot dump a PostgreSQL {server} server: install postgresql-client-{server}")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]) for t in tables}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        # The exporting transaction stays open until pg_dump has read everything from its snapshot.
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                        f"--file={target}", f"--dbname={dsn}"], env=env, check=True, capture_output=True)
        conn.execute("COMMIT")
    return {"engine": "postgresql", "server_version": server, "revision": revision, "tables": counts}


def _sqlite_snapshot(store: Store, target: Path) -> dict[str, Any]:
    source = _sqlite_path(store.database_url)
    if not source.exists():
        raise BackupError(f"{store.service}: no database at {source} (is this the install's data directory?)")
    # The backup API copies a consistent database while the platform keeps writing (WAL readers
    # never block the writer).
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return {"engine": "sqlite", **_sqlite_contents(target)}


def _sqlite_contents(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]) for t in tables}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    conn.close()
    return {"revision": revision, "tables": counts}


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = Path(dirpath) / name
            if path.is_file() and not name.startswith("."):  # skip half-written temporaries
                yield path


def backup(stores: list[Store], data_dir: Path, out: Path, *, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Write the archive to `out` (atomically: a partial archive never carries the final name)."""
    created_at = datetime.now(UTC)
    members: dict[str, dict[str, Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".atelier-backup-", dir=out.parent) as work:
        workdir = Path(work)
        # The databases first, then the files (module doc: a restored row's file is in the archive).
        for store in stores:
            sqlite = is_sqlite(store.database_url)
            member = f"databases/{store.service}.{'sqlite' if sqlite else 'dump'}"
            target = workdir / member
            target.parent.mkdir(parents=True, exist_ok=True)
            info = (_sqlite_snapshot if sqlite else _pg_snapshot)(store, target)
            info.update(member=member, code_head=code_head(store.migrations, store.database_url))
            services[store.service] = info
            members[member] = {"size": target.stat().st_size, "sha256": _sha256(target)}
            say(f"{store.service}: {sum(info['tables'].values())} rows in {len(info['tables'])} tables "
                f"(revision {info['revision']})")
        partial = out.with_name(f".{out.name}.partial")
        mode = "w:gz" if out.name.endswith((".gz", ".tgz")) else "w"
        with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]  # mode is one of tarfile's literals
            files: list[tuple[str, Path]] = []
            for store in stores:
                services[store.service]["files"] = None
                if store.remote_files:
                    services[store.service]["files"] = {"skipped": store.remote_files}
                elif store.files is not None and store.files.is_dir():
                    found = [(f"files/{store.service}/{p.relative_to(store.files).as_posix()}", p)
                             for p in _walk(store.files)]
                    services[store.service]["files"] = {"count": len(found)}
                    files += found
            keys = data_dir / "keys"
            if keys.is_dir():
                files += [(f"keys/{p.relative_to(keys).as_posix()}", p) for p in _walk(keys)]
            # Read each file once: its hash and its archived bytes are the same bytes.
            blobs: list[tuple[str, bytes, int]] = []
            for name, path in files:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:  # deleted since it was listed: it is not part of the backup
                    continue
                members[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                blobs.append((name, data, path.stat().st_mode & 0o777 if path.exists() else 0o600))
            manifest = {
                "format": FORMAT,
                "created_at": created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "versions": {"atelier": _version(), "pg_dump": _pg_dump_version()},
                "services": services,
                "members": members,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode(), 0o600)
            for store in stores:
                member = services[store.service]["member"]
                tar.add(workdir / member, arcname=member)
            for name, data, mode_bits in blobs:
                _add_bytes(tar, name, data, mode_bits)
        partial.chmod(0o600)  # it holds private keys and every customer's data
        partial.replace(out)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _version() -> str:
    try:
        return importlib.metadata.version("atelier-platform")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _pg_dump_version() -> str | None:
    if shutil.which("pg_dump") is None:
        return None
    return subprocess.run(["pg_dump", "--version"], capture_output=True, text=True).stdout.strip() or None


# ---------------------------------------------------------------------------------------- restore


def _write_member(archive: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, workdir: Path) -> tuple[int, str]:
    """Write a regular member under `workdir`, as tarfile's `data` filter would allow it (a relative
    path, no `..`, nothing outside `workdir`), and return its size and SHA-256 from the one read.
    Written here rather than by `extract(filter="data")`, which Python 3.11 has only from 3.11.4."""
    name = PurePosixPath(info.name)
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise BackupError(f"{archive}: member {info.name!r} is not a path inside the archive")
    target = workdir.joinpath(*name.parts)
    if not target.resolve().is_relative_to(workdir.resolve()):
        raise BackupError(f"{archive}: member {info.name!r} is not a path inside the archive")
    source = tar.extractfile(info)
    if source is None:
        raise BackupError(f"{archive}: member {info.name!r} is not a regular file")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def read_verified(archive: Path, workdir: Path) -> dict[str, Any]:
    """Extract `archive` into `workdir` and check every member against the manifest."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    try:
        with tarfile.open(archive, "r:*") as tar:
            try:
                manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]  # a regular member
            except (KeyError, AttributeError, ValueError) as exc:
                raise BackupError(f"{archive}: not an Atelier backup (no readable {MANIFEST})") from exc
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{archive}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
            expected: dict[str, dict[str, Any]] = manifest["members"]
            seen: set[str] = set()
            for info in tar:
                if info.name == MANIFEST:
                    continue
                if info.name not in expected or not info.isfile():
                    raise BackupError(f"{archive}: member {info.name!r} is not in the manifest")
                size, digest = _write_member(archive, tar, info, workdir)
                if size != expected[info.name]["size"] or digest != expected[info.name]["sha256"]:
                    raise BackupError(f"{archive}: {info.name} does not match its checksum (damaged archive)")
                seen.add(info.name)
    except tarfile.TarError as exc:
        raise BackupError(f"{archive}: not an Atelier backup (not a readable tar archive)") from exc
    if missing := sorted(set(expected) - seen):
        raise BackupError(f"{archive}: missing members {', '.join(missing[:5])}")
    return dict(manifest)


def _pg_is_empty(url: str) -> bool:
    name = sa.engine.make_url(url).database
    with _connect(url, admin=True, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return True
    with _connect(url) as conn:
        return bool(conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0)


def _sqlite_is_empty(url: str) -> bool:
    path = _sqlite_path(url)
    if not path.exists():
        return True
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    conn.close()
    return int(count) == 0


def occupied(stores: list[Store]) -> list[str]:
    """What of the target install already holds data (a restore would mix or overwrite it)."""
    found = []
    for store in stores:
        if not (_sqlite_is_empty if is_sqlite(store.database_url) else _pg_is_empty)(store.database_url):
            found.append(f"{store.service} database")
        if store.files is not None and store.files.is_dir() and any(_walk(store.files)):
            found.append(f"{store.service} files ({store.files})")
    return found


def _recreate_pg(url: str) -> None:
    name = sa.engine.make_url(url).database
    with _connect(url, admin=True, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_quote(str(name))} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {_quote(str(name))}")


def _restore_pg(store: Store, dump: Path) -> None:
    _recreate_pg(store.database_url)
    dsn, env = _libpq(store.database_url)
    result = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                             f"--dbname={dsn}", str(dump)], env=env, capture_output=True, text=True)
    if result.returncode:
        raise BackupError(f"{store.service}: pg_restore failed: {result.stderr.strip().splitlines()[-1:]}")


def _restore_sqlite(store: Store, copy: Path) -> None:
    path = _sqlite_path(store.database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    staged = path.with_name(f".{path.name}.restoring")
    shutil.copyfile(copy, staged)
    staged.replace(path)


def _restored_counts(store: Store) -> dict[str, Any]:
    if is_sqlite(store.database_url):
        return _sqlite_contents(_sqlite_path(store.database_url))
    with _connect(store.database_url) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]) for t in tables}
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
    return {"revision": row[0] if row else None, "tables": counts}


def restore(stores: list[Store], data_dir: Path, archive: Path, *, force: bool = False,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Restore `archive` onto this install: refused when it holds data unless `force`."""
    by_name = {store.service: store for store in stores}
    with tempfile.TemporaryDirectory(prefix=".atelier-restore-") as work:
        workdir = Path(work)
        manifest = read_verified(archive, workdir)
        say(f"{archive}: {len(manifest['members'])} members verified (backup of {manifest['created_at']})")
        unknown = sorted(set(manifest["services"]) - set(by_name))
        if unknown:
            raise BackupError(f"the backup has services this version does not know: {', '.join(unknown)}")
        for name, info in manifest["services"].items():
            store = by_name[name]
            if store.migrations is not None and info["revision"] and not known_revision(
                    store.migrations, store.database_url, info["revision"]):
                raise BackupError(f"{name}: the backup is at migration {info['revision']}, which this version does "
                                  "not have (restore it with the version that made it)")
        if not force and (taken := occupied([by_name[name] for name in manifest["services"]])):
            raise BackupError(f"the target install is not empty ({'; '.join(taken)}): restore onto an empty "
                              "install, or pass --force to replace it")
        for name, info in manifest["services"].items():
            store = by_name[name]
            source = workdir / info["member"]
            if info["engine"] == "sqlite" and not is_sqlite(store.database_url):
                raise BackupError(f"{name}: an embedded (SQLite) backup cannot be restored onto PostgreSQL")
            if info["engine"] == "postgresql" and is_sqlite(store.database_url):
                raise BackupError(f"{name}: a PostgreSQL backup cannot be restored onto the embedded mode's SQLite")
            (_restore_sqlite if info["engine"] == "sqlite" else _restore_pg)(store, source)
            restored = _restored_counts(store)
            if restored["tables"] != info["tables"] or restored["revision"] != info["revision"]:
                raise BackupError(f"{name}: the restored database does not match the backup's row counts")
            head = code_head(store.migrations, store.database_url)
            note = "" if restored["revision"] == head else f" (this version's head is {head}: run `atelier migrate`)"
            say(f"{name}: {sum(restored['tables'].values())} rows restored, at revision {restored['revision']}{note}")
            _restore_files(workdir / "files" / name, store, force=force)
        keys = workdir / "keys"
        if keys.is_dir():
            _restore_tree(keys, data_dir / "keys", overwrite=force)
    return manifest


def _restore_files(source: Path, store: Store, *, force: bool) -> None:
    if not source.is_dir():
        return
    if store.files is None:
        raise BackupError(f"{store.service}: the backup has files but this install keeps them in "
                          f"{store.remote_files or 'no local store'}: copy them there from the archive by hand")
    if force and store.files.is_dir():
        shutil.rmtree(store.files)
    _restore_tree(source, store.files, overwrite=True)


def _restore_tree(source: Path, target: Path, *, overwrite: bool) -> None:
    for path in _walk(source):
        dest = target / path.relative_to(source)
        if dest.exists() and not overwrite:
            continue  # this install's own key or secret stays (the caller chose not to --force)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
