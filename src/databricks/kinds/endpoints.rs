//! The calls of kinds whose API names an object by an id field rather than
//! in the path (`get?cluster_id=…`, then `create`, `edit` and `delete` with
//! the id in the body), driven by a per-kind [`Endpoints`] table.

use serde_json::{Map, Value};

use super::{created_id, found, gone};
use crate::databricks::client::Client;
use crate::databricks::error::Error;

/// One kind's endpoints and the field that carries its id.
pub struct Endpoints {
    pub get: &'static str,
    pub create: &'static str,
    pub edit: &'static str,
    pub delete: &'static str,
    /// The id field of requests and of the create response.
    pub id_field: &'static str,
}

impl Endpoints {
    /// The object with `id`; `None` when it does not exist.
    pub async fn get(&self, client: &Client, id: &str) -> Result<Option<Value>, Error> {
        found(client.get(self.get, &[(self.id_field, id)]).await)
    }

    /// Creates an object from `body`; returns its id.
    pub async fn create(&self, client: &Client, body: &Value) -> Result<String, Error> {
        let resp = client.post_create(self.create, body).await?;
        created_id(&resp, self.id_field, self.create)
    }

    /// Replaces the settings of object `id` with `body`.
    pub async fn edit(&self, client: &Client, id: &str, body: &Value) -> Result<(), Error> {
        let mut body = body.clone();
        if let Some(obj) = body.as_object_mut() {
            obj.insert(self.id_field.into(), Value::String(id.into()));
        }
        client.post(self.edit, &body).await?;
        Ok(())
    }

    /// Deletes object `id`; one already gone is not an error.
    pub async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        let mut body = Map::new();
        body.insert(self.id_field.into(), Value::String(id.into()));
        gone(client.post(self.delete, &Value::Object(body)).await)
    }
}
