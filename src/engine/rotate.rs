//! Credential rotation composed: the workspace's client, the service
//! principal's id from the app's inventory, the delivery target, the audit
//! sinks and the identity Mortar acts as, handed to [`crate::rotation::run`].

use crate::manifest::credentials::{CredentialRotation, Delivery};
use crate::manifest::render::RenderedApp;
use crate::rotation::issuer::Principal;
use crate::rotation::run::{self, Checked, Context, StepName};
use crate::rotation::{KubeTarget, RotationError, Target};

use super::Engine;

impl Engine {
    /// Looks at one of `app`'s rotations and carries out what is due:
    /// audited, triggered by the controller. `kube` is the controller's
    /// namespace, for deliveries to Kubernetes Secrets.
    pub async fn rotate(
        &self,
        app: &RenderedApp,
        rotation: &CredentialRotation,
        kube: Option<&KubeTarget>,
        revision: Option<&str>,
    ) -> Checked {
        match self.rotate_inner(app, rotation, kube, revision).await {
            Ok(checked) => checked,
            Err(e) => Checked {
                done: Vec::new(),
                next: None,
                failed: Some((StepName::Look, e)),
            },
        }
    }

    async fn rotate_inner(
        &self,
        app: &RenderedApp,
        rotation: &CredentialRotation,
        kube: Option<&KubeTarget>,
        revision: Option<&str>,
    ) -> Result<Checked, RotationError> {
        let workspace = &rotation.key.workspace;
        let client = self
            .clients
            .get(workspace)
            .ok_or_else(|| RotationError::NoWorkspace {
                workspace: workspace.clone(),
            })?;
        let scim_id = self
            .store
            .load(&app.name)?
            .get(&rotation.key)
            .map(|r| r.id.clone())
            .ok_or_else(|| RotationError::NotCreated {
                key: rotation.key.to_string(),
            })?;
        let target = match &rotation.deliver_to {
            Delivery::SecretScope { scope, key } => Target::Scope {
                client,
                scope: scope.clone(),
                key: key.clone(),
            },
            Delivery::KubernetesSecret { name, key } => Target::Kube {
                kube: kube.ok_or_else(|| RotationError::NoCluster { name: name.clone() })?,
                name: name.clone(),
                key: key.clone(),
            },
        };
        let audit = self
            .lock_state(None)
            .and_then(|()| self.audit_sinks())
            .map_err(|e| RotationError::AuditUnavailable(Box::new(e)))?;
        let me = client.identity().await.map_err(RotationError::Identity)?;
        let ctx = Context {
            client,
            app: &app.name,
            rotation,
            principal: Principal { scim_id },
            target,
            audit: audit.as_ref(),
            acting_as: super::describe_identity(&me),
            revision: revision.map(str::to_string),
        };
        Ok(run::check(&ctx).await)
    }
}
