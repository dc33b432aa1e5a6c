//! Where a credential is delivered, and its marker kept beside it: a key of
//! a Databricks secret scope (the marker in the sibling key
//! `<key>.mortar-credential`), or a key of a Kubernetes Secret in the
//! controller's namespace (the marker in the annotation
//! `rotation.mortar.dev/<key>`; the Secret is made when missing, its other
//! keys kept). Values read back are wrapped in [`Secret`] at once and only
//! ever fingerprinted.

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;

use super::RotationError;
use super::marker::{Marker, annotation, fingerprint, scope_marker_key};
use crate::databricks::kinds::{str_field, take_array};
use crate::databricks::{Client, Secret};

/// The controller's namespace in a cluster, for Kubernetes Secret deliveries.
#[derive(Clone)]
pub struct KubeTarget {
    pub client: kube::Client,
    pub namespace: String,
}

impl std::fmt::Debug for KubeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTarget")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// One delivery target.
pub enum Target<'a> {
    Scope {
        client: &'a Client,
        scope: String,
        key: String,
    },
    Kube {
        kube: &'a KubeTarget,
        name: String,
        key: String,
    },
}

fn databricks(step: &'static str) -> impl FnOnce(crate::databricks::Error) -> RotationError {
    move |source| RotationError::Databricks { step, source }
}

impl Target<'_> {
    /// `secret scope etl/key` or `Kubernetes Secret name/key`.
    pub fn describe(&self) -> String {
        match self {
            Target::Scope { scope, key, .. } => format!("secret scope {scope}/{key}"),
            Target::Kube { name, key, .. } => format!("Kubernetes Secret {name}/{key}"),
        }
    }

    /// The marker; `None` when none was written. A missing secret scope is
    /// an error (nothing can be delivered there); a missing Kubernetes
    /// Secret is made on the first delivery.
    pub async fn read_marker(&self) -> Result<Option<Marker>, RotationError> {
        let text = match self {
            Target::Scope { client, scope, key } => {
                let listed = client
                    .get("/api/2.0/secrets/list", &[("scope", scope)])
                    .await
                    .map_err(|e| match e.is_not_found() {
                        true => RotationError::ScopeMissing {
                            scope: scope.clone(),
                            workspace: client.name().to_string(),
                        },
                        false => RotationError::Databricks {
                            step: "cannot read the delivery target",
                            source: e,
                        },
                    })?;
                let marker_key = scope_marker_key(key);
                let present = take_array(listed, "secrets")
                    .iter()
                    .any(|s| str_field(s, "key").as_deref() == Some(marker_key.as_str()));
                if !present {
                    return Ok(None);
                }
                match scope_value(client, scope, &marker_key).await? {
                    Some(bytes) => String::from_utf8(bytes).ok(),
                    None => return Ok(None),
                }
            }
            Target::Kube { kube, name, key } => {
                let Some(secret) = kube_get(kube, name).await? else {
                    return Ok(None);
                };
                match secret
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(&annotation(key)))
                {
                    Some(text) => Some(text.clone()),
                    None => return Ok(None),
                }
            }
        };
        text.as_deref()
            .and_then(Marker::parse)
            .map(Some)
            .ok_or_else(|| RotationError::MarkerUnreadable {
                target: self.describe(),
            })
    }

    /// The fingerprint of the value delivered now (`None` when there is none).
    pub async fn delivered_fingerprint(&self) -> Result<Option<String>, RotationError> {
        let bytes = match self {
            Target::Scope { client, scope, key } => scope_value(client, scope, key).await?,
            Target::Kube { kube, name, key } => kube_get(kube, name)
                .await?
                .and_then(|s| s.data)
                .and_then(|mut d| d.remove(key))
                .map(|b| b.0),
        };
        Ok(bytes
            .and_then(|b| String::from_utf8(b).ok())
            .map(Secret::new)
            .map(|s| fingerprint(s.expose())))
    }

    /// Writes the marker.
    pub async fn write_marker(&self, marker: &Marker) -> Result<(), RotationError> {
        match self {
            Target::Scope { client, scope, key } => {
                client
                    .post(
                        "/api/2.0/secrets/put",
                        &json!({"scope": scope, "key": scope_marker_key(key), "string_value": marker.to_text()}),
                    )
                    .await
                    .map_err(databricks("cannot write the rotation marker"))?;
                Ok(())
            }
            Target::Kube { kube, name, key } => {
                let patch =
                    json!({"metadata": {"annotations": {annotation(key): marker.to_text()}}});
                kube_patch(kube, name, patch).await
            }
        }
    }

    /// Writes the credential's value.
    pub async fn put_value(&self, value: &Secret) -> Result<(), RotationError> {
        match self {
            Target::Scope { client, scope, key } => {
                client
                    .post(
                        "/api/2.0/secrets/put",
                        &json!({"scope": scope, "key": key, "string_value": value.expose()}),
                    )
                    .await
                    .map_err(databricks("cannot deliver the credential"))?;
                Ok(())
            }
            Target::Kube { kube, name, key } => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(value.expose());
                kube_patch(kube, name, json!({"data": {key.as_str(): encoded}})).await
            }
        }
    }
}

/// A secret-scope value, decoded; `None` when the key is not there.
async fn scope_value(
    client: &Client,
    scope: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, RotationError> {
    let got = match client
        .get("/api/2.0/secrets/get", &[("scope", scope), ("key", key)])
        .await
    {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(databricks("cannot read the delivery target")(e)),
    };
    Ok(str_field(&got, "value")
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok()))
}

fn kube_error(name: &str, what: &'static str) -> impl FnOnce(kube::Error) -> RotationError {
    let name = name.to_string();
    move |source| RotationError::Kube { name, what, source }
}

async fn kube_get(kube: &KubeTarget, name: &str) -> Result<Option<KubeSecret>, RotationError> {
    let api: Api<KubeSecret> = Api::namespaced(kube.client.clone(), &kube.namespace);
    api.get_opt(name)
        .await
        .map_err(kube_error(name, "cannot read it"))
}

/// Merges `patch` into Secret `name`, making the Secret first when missing.
async fn kube_patch(
    kube: &KubeTarget,
    name: &str,
    patch: serde_json::Value,
) -> Result<(), RotationError> {
    let api: Api<KubeSecret> = Api::namespaced(kube.client.clone(), &kube.namespace);
    if kube_get(kube, name).await?.is_none() {
        let fresh = KubeSecret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_string(),
                        "mortar".to_string(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".into()),
            ..KubeSecret::default()
        };
        match api.create(&PostParams::default(), &fresh).await {
            Ok(_) => {}
            // Made meanwhile (another writer): patch it as it is.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(kube_error(name, "cannot create it")(e)),
        }
    }
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(kube_error(name, "cannot write it"))?;
    Ok(())
}
