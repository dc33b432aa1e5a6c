"""Workspace objects through the SDK: mkdirs, import (JSON and multipart),
export, get-status, list, delete."""

import base64

import pytest
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service import workspace

SOURCE = b"# Databricks notebook source\nprint('hello')\n"


def test_notebooks_files_and_folders(w):
    w.workspace.mkdirs("/Shared/app/jobs")
    w.workspace.upload("/Shared/app/jobs/etl.py", SOURCE, format=workspace.ImportFormat.AUTO)
    w.workspace.import_("/Shared/app/report", content=base64.b64encode(b"SELECT 1").decode(),
                        format=workspace.ImportFormat.SOURCE, language=workspace.Language.SQL)
    w.workspace.upload("/Shared/app/config.json", b'{"a": 1}', format=workspace.ImportFormat.RAW)

    nb = w.workspace.get_status("/Shared/app/jobs/etl")
    assert nb.object_type == workspace.ObjectType.NOTEBOOK
    assert nb.language == workspace.Language.PYTHON
    assert w.workspace.download("/Shared/app/jobs/etl").read() == SOURCE
    exported = w.workspace.export("/Shared/app/report", format=workspace.ExportFormat.SOURCE)
    assert base64.b64decode(exported.content) == b"SELECT 1"

    listed = {(o.path, o.object_type) for o in w.workspace.list("/Shared/app")}
    assert listed == {
        ("/Shared/app/jobs", workspace.ObjectType.DIRECTORY),
        ("/Shared/app/report", workspace.ObjectType.NOTEBOOK),
        ("/Shared/app/config.json", workspace.ObjectType.FILE),
    }
    recursive = {o.path for o in w.workspace.list("/Shared/app", recursive=True)}
    assert "/Shared/app/jobs/etl" in recursive

    with pytest.raises(ResourceAlreadyExists):
        w.workspace.upload("/Shared/app/config.json", b"{}", format=workspace.ImportFormat.RAW)
    w.workspace.upload("/Shared/app/config.json", b"{}", format=workspace.ImportFormat.RAW, overwrite=True)
    assert w.workspace.download("/Shared/app/config.json").read() == b"{}"

    with pytest.raises(NotFound):
        w.workspace.upload("/Shared/missing/x.py", SOURCE, format=workspace.ImportFormat.AUTO)
    with pytest.raises(Exception) as info:
        w.workspace.delete("/Shared/app")
    assert "DIRECTORY_NOT_EMPTY" in str(info.value) or "not empty" in str(info.value)
    w.workspace.delete("/Shared/app", recursive=True)
    with pytest.raises(NotFound):
        w.workspace.get_status("/Shared/app/jobs/etl")


def test_workspace_prefix_is_accepted(w):
    w.workspace.mkdirs("/Workspace/Shared/prefixed")
    assert w.workspace.get_status("/Shared/prefixed").object_type == workspace.ObjectType.DIRECTORY
