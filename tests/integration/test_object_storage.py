"""The object storage backups go to: a real S3 server on loopback keeps what
rclone (the backup Job's client) uploads, lists it with its size, gives it back
byte for byte, refuses wrong keys, and drops what is past retention."""

import gzip
import os
import time
from pathlib import Path

import pytest

from tests.fixtures.s3 import ObjectStorage, rclone


def _backup_dir(where: Path) -> Path:
    """What a backup Job's pod holds before its upload: the dump and the files."""
    where.mkdir()
    (where / "database.sql.gz").write_bytes(gzip.compress(b"INSERT INTO orders VALUES (1);\n"))
    (where / "files.tar.gz").write_bytes(os.urandom(70_000))
    return where


def test_an_uploaded_backup_is_listed_with_its_size_and_comes_back_whole(
    object_storage: ObjectStorage, tmp_path: Path
) -> None:
    backup = _backup_dir(tmp_path / "backup")
    dest = f"store:{object_storage.bucket}/stores/shop-one/backup-20261210-101010"
    rclone(object_storage, tmp_path, "copy", "--s3-no-check-bucket", str(backup), dest)

    listed = rclone(object_storage, tmp_path, "lsl", f"store:{object_storage.bucket}/stores/")
    names = sorted(line.split()[-1] for line in listed.splitlines())
    assert names == [
        "shop-one/backup-20261210-101010/database.sql.gz",
        "shop-one/backup-20261210-101010/files.tar.gz",
    ]
    size = rclone(object_storage, tmp_path, "size", "--json", dest)
    expected = sum(p.stat().st_size for p in backup.iterdir())
    assert f'"bytes":{expected}' in size

    back = tmp_path / "restored"
    rclone(object_storage, tmp_path, "copy", "--s3-no-check-bucket", dest, str(back))
    for name in ("database.sql.gz", "files.tar.gz"):
        assert (back / name).read_bytes() == (backup / name).read_bytes()


def test_wrong_keys_are_refused(object_storage: ObjectStorage, tmp_path: Path) -> None:
    wrong = ObjectStorage(
        endpoint=object_storage.endpoint,
        bucket=object_storage.bucket,
        access_key_id=object_storage.access_key_id,
        secret_access_key="not-the-key",
    )
    with pytest.raises(RuntimeError, match="lsf"):
        rclone(wrong, tmp_path, "lsf", f"store:{object_storage.bucket}")


def test_backups_past_retention_are_removed_and_newer_ones_kept(
    object_storage: ObjectStorage, tmp_path: Path
) -> None:
    old, new = _backup_dir(tmp_path / "old"), _backup_dir(tmp_path / "new")
    ten_days_ago = time.time() - 10 * 86400
    for f in old.iterdir():
        os.utime(f, (ten_days_ago, ten_days_ago))  # rclone keeps a file's time
    store = f"store:{object_storage.bucket}/stores/shop-two"
    rclone(object_storage, tmp_path, "copy", "--s3-no-check-bucket", str(old), f"{store}/backup-a")
    rclone(object_storage, tmp_path, "copy", "--s3-no-check-bucket", str(new), f"{store}/backup-b")

    # What the backup Job runs after its upload (charts/medusa: medusa.uploadScript).
    rclone(object_storage, tmp_path, "delete", "--min-age", "7d", store)
    rclone(object_storage, tmp_path, "rmdirs", "--leave-root", store)

    left = rclone(object_storage, tmp_path, "lsf", "-R", store).split()
    assert sorted(left) == ["backup-b/", "backup-b/database.sql.gz", "backup-b/files.tar.gz"]
