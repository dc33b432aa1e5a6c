//! Service principals (SCIM `ServicePrincipals`): unique display names;
//! `applicationId` is their identity (set by the server, or given on Azure)
//! and not compared; entitlements and roles patched value by value.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{Desired, KindAdapter, LiveObject, scim};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct ServicePrincipalAdapter;

const RESOURCE: &str = "ServicePrincipals";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const SCALARS: &[&str] = &["displayName", "externalId", "active"];

impl KindAdapter for ServicePrincipalAdapter {
    fn kind(&self) -> Kind {
        Kind::ServicePrincipal
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        spec.get("displayName")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(scim::list(client, RESOURCE, names))
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<LiveObject>, Error>> {
        Box::pin(scim::get(client, RESOURCE, id))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(scim::create(client, RESOURCE, SCHEMA, desired.spec))
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(scim::update(client, RESOURCE, id, desired.spec, SCALARS))
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(scim::delete(client, RESOURCE, id))
    }

    fn normalize(&self, live: &Value) -> Value {
        scim::canonical(live, SCALARS)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        scim::canonical(spec, SCALARS)
    }
}
