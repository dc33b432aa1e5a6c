"""SQL warehouses through the SDK."""

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service import sql


def test_warehouse_lifecycle(w):
    wh = w.warehouses.create(name="bi", cluster_size="Small", max_num_clusters=2,
                             auto_stop_mins=15).result()
    assert wh.state == sql.State.RUNNING
    assert wh.creator_name == "admin@example.com"
    assert wh.enable_photon is True
    assert wh.odbc_params.path == f"/sql/1.0/warehouses/{wh.id}"

    w.warehouses.edit(wh.id, name="bi", cluster_size="Medium", auto_stop_mins=20).result()
    got = w.warehouses.get(wh.id)
    assert (got.cluster_size, got.auto_stop_mins) == ("Medium", 20)
    # Fields left out of an edit keep their values.
    w.warehouses.edit(wh.id, max_num_clusters=3).result()
    got = w.warehouses.get(wh.id)
    assert (got.name, got.cluster_size, got.max_num_clusters) == ("bi", "Medium", 3)

    w.warehouses.stop(wh.id).result()
    assert w.warehouses.get(wh.id).state == sql.State.STOPPED
    w.warehouses.delete(wh.id)
    with pytest.raises(NotFound):
        w.warehouses.get(wh.id)


def test_warehouse_list_pages(w):
    ids = {w.warehouses.create(name=f"wh-{i}", cluster_size="X-Small").response.id for i in range(5)}
    assert {x.id for x in w.warehouses.list(page_size=2)} == ids


def test_warehouse_validation(w):
    with pytest.raises(InvalidParameterValue):
        w.warehouses.create(name="bad", cluster_size="Gigantic")
