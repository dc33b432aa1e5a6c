"""Unity Catalog catalogs, schemas and grants through the SDK."""

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service import catalog

from conftest import USER_NAME

P = catalog.Privilege


def test_catalogs_and_schemas(w):
    created = w.catalogs.create(name="Sales", comment="revenue")
    assert created.name == "sales" and created.owner == "admin@example.com"
    with pytest.raises(ResourceAlreadyExists):
        w.catalogs.create(name="sales")
    for i in range(3):
        w.catalogs.create(name=f"cat{i}")
    assert {c.name for c in w.catalogs.list(max_results=2)} == {"sales", "cat0", "cat1", "cat2"}

    schema = w.schemas.create(name="raw", catalog_name="sales")
    assert schema.full_name == "sales.raw"
    assert {s.name for s in w.schemas.list(catalog_name="sales")} == {"default", "information_schema", "raw"}
    w.schemas.update("sales.raw", comment="landing")
    assert w.schemas.get("sales.raw").comment == "landing"
    w.catalogs.update("sales", comment="money")
    assert w.catalogs.get("sales").comment == "money"

    w.schemas.delete("sales.raw")
    with pytest.raises(NotFound):
        w.schemas.get("sales.raw")
    w.catalogs.delete("sales", force=True)
    with pytest.raises(NotFound):
        w.catalogs.get("sales")


def test_grants(w):
    w.catalogs.create(name="main2")
    w.groups.create(display_name="analysts")
    result = w.grants.update("CATALOG", "main2", changes=[
        catalog.PermissionsChange(principal="analysts", add=[P.USE_CATALOG, P.SELECT, P.BROWSE]),
        catalog.PermissionsChange(principal=USER_NAME, add=[P.USE_CATALOG]),
    ])
    got = {a.principal: [p.value for p in a.privileges] for a in result.privilege_assignments}
    assert got["analysts"] == ["BROWSE", "SELECT", "USE_CATALOG"]
    # Lower-case securable types are accepted.
    current = w.grants.get("catalog", "main2")
    assert {a.principal for a in current.privilege_assignments} == {"analysts", USER_NAME}
    w.grants.update("catalog", "main2", changes=[
        catalog.PermissionsChange(principal="analysts", remove=[P.ALL_PRIVILEGES])])
    assert [a.principal for a in w.grants.get("catalog", "main2").privilege_assignments] == [USER_NAME]
    with pytest.raises(InvalidParameterValue):
        w.grants.update("catalog", "main2", changes=[
            catalog.PermissionsChange(principal=USER_NAME, add=[P.SELECT], remove=[P.SELECT])])
    with pytest.raises(InvalidParameterValue):
        w.grants.update("catalog", "main2", changes=[
            catalog.PermissionsChange(principal=USER_NAME, add=[P.CREATE_CATALOG])])
    w.schemas.create(name="s", catalog_name="main2")
    effective = w.grants.get_effective("schema", "main2.s", principal=USER_NAME)
    priv = effective.privilege_assignments[0].privileges[0]
    assert (priv.privilege.value, priv.inherited_from_name) == ("USE_CATALOG", "main2")
