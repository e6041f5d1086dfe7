//! Canary rollouts on a cluster against Argo Rollouts' own API: every `Rollout` the back end
//! writes (the rollouts case, the k8s-platform example's and the tour's canaries) passes the
//! validators of `@kubernetes-models/argo-rollouts` (generated from the Argo Rollouts CRDs: types,
//! required fields, enums; `.ci/run` installs them), which a broken Rollout fails. Each Rollout's
//! controller is on its cluster: a service there installs the argo-helm chart `argo-rollouts`.
//! Without node or the package the test prints SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `.ci/run` installs the Argo Rollouts validators.
fn argo_validators() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let module = home.join(".cache/spec-validate/argo-rollouts/node_modules/@kubernetes-models/argo-rollouts");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    (node && module.exists()).then_some(module)
}

/// Runs the Argo Rollouts validators over `objects` (JSON), printing `PASS`/`FAIL` per object.
fn validate_with_argo(module: &Path, dir: &Path, objects: &[Value]) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    let input = dir.join("objects.json");
    std::fs::write(&input, serde_json::to_string(objects).expect("json")).expect("write");
    let script = dir.join("validate.mjs");
    let api = module.join("argoproj.io/v1alpha1/index.js");
    std::fs::write(
        &script,
        format!(
            "import fs from 'fs';\n\
             const api = await import({api:?});\n\
             for (const o of JSON.parse(fs.readFileSync({input:?}))) {{\n\
               const kind = api[o.kind];\n\
               try {{ new kind(o).validate(); console.log('PASS', o.kind, o.metadata.namespace, o.metadata.name); }}\n\
               catch (e) {{ console.log('FAIL', o.kind, o.metadata.namespace, o.metadata.name, e.message); }}\n\
             }}\n",
            api = api.display().to_string(),
            input = input.display().to_string(),
        ),
    )
    .expect("write");
    let output = Command::new("node").arg(&script).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_rollout_passes_the_argo_rollouts_validators() {
    let Some(module) = argo_validators() else {
        eprintln!(
            "SKIPPED: node or @kubernetes-models/argo-rollouts is missing (see .ci/run); \
             the Argo Rollouts objects were NOT validated"
        );
        return;
    };
    let estates = [
        workspace().join("specs/targets/kubernetes/rollouts_budgets_autoscalers_and_tiers_generate_cleanly.spec"),
        workspace().join("examples/k8s-platform"),
        workspace().join("examples/tour"),
    ];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-argo-rollouts");
    let mut objects = Vec::new();
    for estate in &estates {
        let files = spec_testkit::generate(&Kubernetes, estate);
        let before = objects.len();
        let found = files.iter().flat_map(|(_, contents)| spec_testkit::yaml_documents(contents));
        objects.extend(found.filter(|o| o["apiVersion"] == "argoproj.io/v1alpha1" && o["kind"] == "Rollout"));
        assert!(objects.len() > before, "{}: no Rollout written", estate.display());
        // The controller carrying them out is installed on the same cluster.
        let (_, compilation) = spec_testkit::compile_path(estate, None);
        for rollout in &objects[before..] {
            let name = rollout["metadata"]["name"].as_str().expect("name");
            let service = compilation.model.services.iter().find(|s| s.name == name).expect("the Rollout's service");
            let controller = compilation.model.services.iter().find(|s| {
                s.spec.on.value.name == service.spec.on.value.name
                    && s.spec.helm.as_ref().is_some_and(|h| {
                        h.value.chart.value == "https://argoproj.github.io/argo-helm"
                            && h.value.name.as_ref().is_some_and(|n| n.value == "argo-rollouts")
                    })
            });
            assert!(controller.is_some(), "{}: no Argo Rollouts controller beside Rollout {name}", estate.display());
        }
    }
    let report = validate_with_argo(&module, &dir, &objects);
    let failed: Vec<&str> = report.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(report.lines().count(), objects.len(), "{report}");
    // The validators refuse what Argo Rollouts would: a weight that is no integer, a replica count
    // that is no number.
    let mut broken = objects[0].clone();
    broken["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = Value::from("25%");
    broken["spec"]["replicas"] = Value::from("four");
    let report = validate_with_argo(&module, &dir.join("broken"), &[broken]);
    assert!(report.starts_with("FAIL") && report.contains("setWeight") && report.contains("replicas"), "{report}");
}
