"""Paths in object stores and on web servers: ``s3://``, ``gs://``, ``az://``/``abfs://``, ``https://``.

Every remote path goes through fsspec (https://filesystem-spec.readthedocs.io), whose implementations take their
credentials from each cloud's usual environment, as that cloud's own tools do: ``AWS_ACCESS_KEY_ID``/``AWS_PROFILE``/
``~/.aws`` (and ``AWS_ENDPOINT_URL`` for S3-compatible stores) for s3fs, ``GOOGLE_APPLICATION_CREDENTIALS`` or
gcloud's application-default login for gcsfs, ``AZURE_STORAGE_ACCOUNT_NAME`` with a key, a connection string or
Azure's default credential chain for adlfs. The packages are the optional extra ``lossctl[cloud]``; a missing
one is a one-line usage error naming it, a missing credential an input error naming the variables to set.

This module imports nothing heavy: :func:`is_remote` is a string test, and fsspec loads on first use.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lossctl.errors import InputError, UsageError
from lossctl.text import show_name

_AWS = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the aws command"
_GOOGLE = "set GOOGLE_APPLICATION_CREDENTIALS or run 'gcloud auth application-default login'"
_AZURE = "set AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, or AZURE_STORAGE_CONNECTION_STRING"
_WEB = "give a URL the server serves without a login"
# scheme -> (the package fsspec needs for it, where its credentials come from)
SCHEMES: dict[str, tuple[str, str]] = {
    "s3": ("s3fs", _AWS),
    "s3a": ("s3fs", _AWS),
    "gs": ("gcsfs", _GOOGLE),
    "gcs": ("gcsfs", _GOOGLE),
    "az": ("adlfs", _AZURE),
    "abfs": ("adlfs", _AZURE),
    "abfss": ("adlfs", _AZURE),
    "http": ("aiohttp", _WEB),
    "https": ("aiohttp", _WEB),
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
EXTRA = "lossctl[cloud]"


def scheme_of(path: str) -> str | None:
    """The URL scheme of ``path`` (lower case) when it is one lossctl reads remotely, else ``None``."""
    found = _URL.match(path)
    scheme = found.group(1).lower() if found else None
    return scheme if scheme in SCHEMES else None


def is_remote(path: str) -> bool:
    return scheme_of(path) is not None


def is_url(path: str) -> bool:
    """Whether ``path`` starts with a URL scheme (``s3://``, ``https://``, ``ftp://``), read remotely or not."""
    return _URL.match(path) is not None


# Schemes that name the same store as another: one spelling each, so two spellings of one object compare equal
_ALIASES = {"s3a": "s3", "gcs": "gs", "az": "abfs", "abfss": "abfs"}


def canonical_url(url: str) -> str:
    """``url`` with its scheme in lower case and spelled one way for its store (``S3://``, ``s3a://`` as
    ``s3://``; ``gcs://`` as ``gs://``; ``az://``, ``abfss://`` as ``abfs://``), for comparing URLs by name."""
    scheme = scheme_of(url)
    if scheme is None:
        return url
    return f"{_ALIASES.get(scheme, scheme)}{url[len(scheme) :]}"


def web_path(path: str) -> str:
    """A web URL without its query and fragment (``https://h/p.parquet?X-Amz-Signature=...`` ->
    ``https://h/p.parquet``): what its name and extension are read from, a ``?`` there starting the query, not a
    glob. Any other path unchanged."""
    if scheme_of(path) in ("http", "https"):
        return path.split("#", 1)[0].split("?", 1)[0]
    return path


def check_scheme(path: str) -> None:
    """A URL whose scheme lossctl does not read (``hdfs://``, ``ftp://``, ``file://``) is a usage error saying
    which it reads, rather than a local file ``not found``; call it once ``path`` is known not to be a local file."""
    found = _URL.match(path)
    if found and not is_remote(path):
        raise UsageError(
            f"cannot read '{show_name(path)}': lossctl reads local paths and s3://, gs://, az://, abfs:// and "
            f"https:// URLs, not {found.group(1)}://"
        )


# The cloud SDKs log their retries and failures (gcsfs: a traceback per retry). With no handler configured,
# Python prints those records on stderr; a NullHandler on each, as libraries are advised to add, keeps them
# for a user who configures logging and off the command line's one-line errors.
_SDK_LOGGERS = ("gcsfs", "adlfs", "s3fs", "fsspec", "aiobotocore", "botocore", "google", "azure", "aiohttp")


@functools.cache
def _quiet_sdk_loggers() -> None:
    import logging

    for name in _SDK_LOGGERS:
        logging.getLogger(name).addHandler(logging.NullHandler())


def filesystem(url: str, verb: str = "read") -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it; a missing package is a usage error naming it."""
    _quiet_sdk_loggers()
    scheme = scheme_of(url) or ""
    package = SCHEMES[scheme][0] if scheme else "fsspec"
    try:
        from fsspec.core import url_to_fs

        with remote_errors(url, verb):  # some stores connect when the file system is made (adlfs, no account)
            # a scheme is case-insensitive (RFC 3986), fsspec's not
            fs, path = url_to_fs(scheme + url[len(scheme) :], **_store_options(scheme))
            if package == "s3fs":
                fs.retries = 2  # see _store_options; s3fs takes it as an attribute, not an argument
            return fs, path
    except ImportError as error:
        missing = package if getattr(error, "name", None) != "fsspec" and "fsspec" not in str(error) else "fsspec"
        raise UsageError(
            f"reading or writing {scheme}:// paths needs the package '{missing}': pip install '{EXTRA}'"
        ) from None


def _store_options(scheme: str) -> dict[str, Any]:
    """Bounded retries for S3. s3fs retries a failed request 5 times, each a botocore call that tries 5 times with
    a 15 s read timeout: an endpoint that accepts connections and never answers held a run for 7 minutes before its
    one-line error. Two of each (a transient failure is still retried, at both levels) bound it to about a minute;
    a user's own botocore retry settings (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``) are left to botocore."""
    if SCHEMES.get(scheme, ("",))[0] != "s3fs" or any(n in os.environ for n in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")):
        return {}
    return {"config_kwargs": {"retries": {"mode": "standard", "total_max_attempts": 2}}}


def full_url(url: str, fs: Any, path: str) -> str:
    """``path`` (as the file system lists it, often without the scheme) as a URL like the one the user gave."""
    if _URL.match(path):
        return path
    return fs.unstrip_protocol(path) if hasattr(fs, "unstrip_protocol") else path


def _first_line(error: BaseException) -> str:
    """The first line of ``error``'s text, with the line after it when it only announces it (botocore's
    ``Parameter validation failed:``, whose reason, ``Invalid bucket name ...``, is the next line)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


@contextmanager
def remote_errors(url: str, verb: str = "read") -> Iterator[None]:
    """Turn the exceptions of fsspec and the cloud SDKs into one-line input errors naming ``url``.

    The SDKs' credential errors are recognised by their class names (``NoCredentialsError`` of botocore,
    ``DefaultCredentialsError`` of google-auth, ``ClientAuthenticationError`` of azure-core), or by a
    ``ValueError`` that says credentials are missing (adlfs's), so that none of those packages is imported here.
    """
    try:
        yield
    except (InputError, UsageError):
        raise
    except FileNotFoundError as error:
        if verb == "write":  # the object is being made: what is missing is its bucket
            raise InputError(f"cannot write '{show_name(url)}': {_first_line(error)}") from None
        raise InputError(f"file '{show_name(url)}' not found") from None
    except PermissionError as error:
        if _error_code(error.__cause__) in _REFUSED_CREDENTIALS:
            raise InputError(
                f"cannot {verb} '{show_name(url)}': the credentials were refused ({_first_line(error)}); "
                f"{_credentials_hint(url)}"
            ) from None
        raise InputError(f"cannot {verb} '{show_name(url)}': permission denied ({_first_line(error)})") from None
    except Exception as error:
        names = {cls.__name__ for cls in type(error).__mro__}
        # adlfs without an account raises a plain ValueError ("... account_name with credentials!!")
        if any("Credential" in name or "Authentication" in name for name in names) or (
            isinstance(error, ValueError) and "credentials" in str(error)
        ):
            raise InputError(
                f"cannot {verb} '{show_name(url)}': no credentials ({_first_line(error)}); {_credentials_hint(url)}"
            ) from None
        if isinstance(error, OSError | ValueError | TimeoutError) or type(error).__module__.startswith(_SDK_ERRORS):
            raise InputError(f"cannot {verb} '{show_name(url)}': {_reason(error)}") from None
        raise


# S3's error codes for credentials it does not accept (a key unknown or expired, a secret that does not match),
# which s3fs raises as a PermissionError, as it does a refusal of valid credentials (AccessDenied)
_REFUSED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)


def _error_code(error: BaseException | None) -> str | None:
    """The error code of a botocore ``ClientError`` (``InvalidAccessKeyId``), read without importing botocore."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _credentials_hint(url: str) -> str:
    """Which variables give the credentials of ``url``'s store."""
    return SCHEMES.get(scheme_of(url) or "", ("", "configure the credentials of that store"))[1]


# The packages whose own exceptions (not OSErrors) tell a failed request: botocore's ClientError, and aiohttp's,
# which fsspec's web file system lets through (a 500 answer, a connection closed mid-body)
_SDK_ERRORS = ("botocore", "aiobotocore", "aiohttp")


def _reason(error: BaseException) -> str:
    """What went wrong, in one line: a web server's answer as its status (``HTTP 500 Internal Server Error``) and
    a body cut short as such, rather than aiohttp's text (which repeats the URL, or calls a short body a 400)."""
    status, message = getattr(error, "status", None), getattr(error, "message", None)
    if type(error).__module__.startswith("aiohttp"):
        if type(error).__name__ == "ClientPayloadError":
            return "the connection closed before the end of the file"
        if isinstance(status, int):
            return f"the server answered HTTP {status} {message if isinstance(message, str) else ''}".rstrip()
    return _first_line(error)


def read_bytes(url: str) -> bytes:
    """The whole content of one remote file."""
    fs, path = filesystem(url)
    with remote_errors(url):
        return bytes(fs.cat_file(path))


def check_output(url: str, dataset: bool = False) -> None:
    """Before any work: ``url`` is in a store lossctl writes to, names an object, its package is installed and,
    where the store can say so, its bucket exists, so that a run does not fail at the upload after printing its
    results. Unless it is to be a ``dataset`` (a prefix of objects), it must not hold objects below it: an object
    put beside them is hidden from readers, who see the directory, as a local output path may not be a directory."""
    scheme = scheme_of(url) or ""
    if SCHEMES.get(scheme, ("",))[0] == "aiohttp":
        raise UsageError(
            f"cannot write '{show_name(url)}': lossctl writes to local paths and object stores (s3://, gs://, az://), "
            "not to web servers"
        )
    fs, path = filesystem(url, "write")
    bucket, _, key = path.strip("/").partition("/")
    kind = "container" if SCHEMES[scheme][0] == "adlfs" else "bucket"
    if not key:
        raise UsageError(
            f"output '{show_name(url)}' names a {kind}, not a file in it; give a name: {url.rstrip('/')}/NAME"
        )
    with remote_errors(url, "write"):
        if _bucket_missing(fs, bucket):
            raise InputError(f"cannot write '{show_name(url)}': {kind} '{bucket}' does not exist")
    folder = _object_above(fs, path)
    if folder is not None:
        raise InputError(
            f"cannot write '{show_name(url)}': '{show_name(full_url(url, fs, folder))}' is not a directory"
        )
    if not dataset and _holds_objects(fs, path):
        raise UsageError(f"output path '{show_name(url)}' is a directory")


def _object_above(fs: Any, path: str) -> str | None:
    """The object, if any, whose name is a folder of ``path`` (``b/p.parquet`` for ``b/p.parquet/out.json``): an
    object put below it would make readers of ``p.parquet`` see a directory, as a local file cannot be one. One
    request per folder level; a store that refuses to answer is no answer, and the upload will tell."""
    bucket, _, key = path.strip("/").partition("/")
    parts = key.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join([bucket, *parts[:depth]])
        try:
            if fs.isfile(folder):
                return folder
        except Exception:
            return None
    return None


def _holds_objects(fs: Any, path: str) -> bool:
    """Whether objects lie below ``path/`` (the dataset of a Dask run's ``--per-sample``, say); a store that
    refuses to list is no answer, and the upload will tell."""
    try:
        return bool(fs.isdir(path))
    except Exception:
        return False


def _bucket_missing(fs: Any, bucket: str) -> bool:
    """Whether the store answers that ``bucket`` does not exist. Asked of S3 only, whose HeadBucket says so (404)
    without listing anything; a refusal (403: a user who may put objects but not read the bucket) is no answer,
    and the upload will tell. fsspec's ``exists`` cannot be used: any failed probe makes it say ``False``."""
    if not hasattr(fs, "call_s3"):
        return False
    try:
        fs.call_s3("head_bucket", Bucket=bucket)
    except FileNotFoundError:
        return True
    except PermissionError:
        return False
    return False


def upload(local: Path, url: str) -> None:
    """Copy the finished local file ``local`` to ``url``; the object appears only once the upload completes."""
    fs, path = filesystem(url, "write")
    with remote_errors(url, "write"):
        fs.put_file(str(local), path)


def remove(url: str) -> None:
    """Delete the object ``url``; raises :class:`InputError`."""
    fs, path = filesystem(url, "write")
    with remote_errors(url, "write"):
        fs.rm(path)
