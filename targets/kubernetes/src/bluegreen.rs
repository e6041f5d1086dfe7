//! Blue-green rollouts on a cluster: two releases of the generic chart and a switch.
//!
//! A service with `rollout = blue-green { active, blue, green }` is installed twice, as the
//! releases `<service>-blue` and `<service>-green`, each running its colour's image (the service's
//! `image` by default), with values files `helm/<cluster>/<service>-<colour>.values.yaml`. The
//! switch is a ClusterIP `Service` named after the service itself in `k8s/<cluster>/rollouts.yaml`,
//! selecting the pods of the active colour's release: `service.NAME.host` (the Service's DNS name)
//! reaches the active colour, and flipping `active` cuts clients over at once, while the idle
//! colour keeps running for a rollback.
//!
//! Refused: a port exposed beyond the cluster or an ingress route (E1231: each colour would claim
//! them, and the switch is not exposed yet), and a volume (E1232: each release would claim a
//! volume of its own, splitting the data between the colours).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Spanned;
use spec_compiler::model::{Colour, Resource, Rollout, Service};

use crate::values::{Release, split_image};

/// The two colours, blue first.
pub const COLOURS: [Colour; 2] = [Colour::Blue, Colour::Green];

/// The release of one colour of a service.
pub fn colour_release(service: &str, colour: Colour) -> String {
    format!("{service}-{}", colour.name())
}

/// The releases a service's pods belong to: one per colour of a blue-green rollout, else the
/// service's own.
pub fn releases_of(service: &Resource<Service>) -> Vec<String> {
    match service.spec.rollout.as_ref().map(|r| &r.value) {
        Some(Rollout::BlueGreen { .. }) => {
            [Colour::Blue, Colour::Green].into_iter().map(|c| colour_release(&service.name, c)).collect()
        }
        _ => vec![service.name.clone()],
    }
}

/// The release a service's clients reach: the active colour's, or the service's own.
pub fn active_release(service: &Resource<Service>) -> String {
    match service.spec.rollout.as_ref().map(|r| &r.value) {
        Some(Rollout::BlueGreen { active, .. }) => colour_release(&service.name, active.value),
        _ => service.name.clone(),
    }
}

impl super::Lowering<'_, '_> {
    /// The releases a service is installed as, each with its name: the one release, or one per
    /// colour of a blue-green rollout (`None` when the rollout cannot be generated).
    pub fn colour_releases(&mut self, service: &Resource<Service>, release: Release) -> Option<Vec<(String, Release)>> {
        let Some(rollout) = &service.spec.rollout else { return Some(vec![(service.name.clone(), release)]) };
        let Rollout::BlueGreen { blue, green, .. } = &rollout.value else {
            return Some(vec![(service.name.clone(), release)]);
        };
        if service.spec.helm.is_some() {
            return Some(vec![(service.name.clone(), release)]);
        }
        let mut ok = true;
        let outside =
            service.spec.expose.ports().into_iter().filter(|p| *p.audience != spec_compiler::model::Audience::Cluster);
        let refused: Vec<_> = outside
            .map(|p| (p.span, "an exposed port"))
            .chain(service.spec.ingress.values().map(|r| (r.span, "an ingress route")))
            .collect();
        for (span, what) in refused {
            ok = false;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1231,
                    span,
                    format!("{what} of blue-green service `{}` is not generated on a cluster", service.name),
                )
                .with_primary_label("both colours would claim it")
                .with_note("the switch between the colours is a ClusterIP Service, reached inside the cluster")
                .with_help("reach the service inside the cluster, or roll it out with `rolling { … }`"),
            );
        }
        for storage in service.spec.volumes.values() {
            ok = false;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1232,
                    storage.span,
                    format!("blue-green service `{}` mounts storage `{}`", service.name, storage.name),
                )
                .with_primary_label("each colour would claim a volume of its own")
                .with_note("the two releases would split the data between two claims")
                .with_help("keep the state in a service of its own that both colours need"),
            );
        }
        let mut colours = Vec::new();
        for (colour, own) in COLOURS.into_iter().zip([blue, green]) {
            let mut values = release.values.clone();
            // A colour naming a node is refused on a cluster by the graph rules (E0720).
            let image = own.as_ref().and_then(|r| Some(Spanned { value: r.value.image()?.to_string(), span: r.span }));
            if let Some(image) = &image {
                ok &= self.refuse_template(image, "the image", "the chart");
                set_image(&mut values, image);
            }
            colours.push((
                colour_release(&service.name, colour),
                Release {
                    url: release.url.clone(),
                    chart: release.chart.clone(),
                    version: release.version.clone(),
                    values,
                },
            ));
        }
        ok.then_some(colours)
    }

    /// The switch of each blue-green service on the generic chart: a ClusterIP Service named after
    /// the service, with its ports, selecting the active colour's pods.
    pub fn switches(&self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for service in &self.on.services {
            let Some(Rollout::BlueGreen { .. }) = service.spec.rollout.as_ref().map(|r| &r.value) else { continue };
            if service.spec.helm.is_some() || service.spec.ports.is_empty() {
                continue;
            }
            let active = crate::releases::release_name(&active_release(service));
            let ports: Vec<Value> = service
                .spec
                .ports
                .iter()
                .map(|(name, port)| {
                    let protocol = match port.value.protocol {
                        spec_compiler::model::types::Transport::Tcp => "TCP",
                        spec_compiler::model::types::Transport::Udp => "UDP",
                    };
                    json!({ "name": name, "port": port.value.number, "targetPort": port.value.number, "protocol": protocol })
                })
                .collect();
            let mut metadata = self.metadata(&service.name);
            metadata["namespace"] = json!(self.namespace_of(service.spec.namespace.as_ref()));
            let switch = json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": metadata,
                "spec": {
                    "type": "ClusterIP",
                    "ports": ports,
                    "selector": {
                        "app.kubernetes.io/name": active,
                        "app.kubernetes.io/instance": active,
                        "app.kubernetes.io/controller": "main",
                    },
                },
            });
            documents.push((format!("from {}", self.context.provenance(service.span)), switch));
        }
        documents
    }
}

/// Replaces the image of the generic chart's one container.
fn set_image(values: &mut Value, image: &Spanned<String>) {
    let (repository, tag) = split_image(&image.value);
    values["controllers"]["main"]["containers"]["app"]["image"] = json!({ "repository": repository, "tag": tag });
}
