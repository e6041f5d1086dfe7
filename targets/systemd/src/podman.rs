//! podman options shared by the systemd back end and the NixOS one (whose containers also run
//! under podman): health checks, and the restic image that backs up hosts without restic.
//!
//! Options come back unescaped, one argument each: the NixOS back end writes them as Nix strings
//! (the oci-containers module quotes them for the shell), the systemd back end through
//! [`crate::escape::exec_arg`].
//!
//! Health checks (podman-run(1), `--health-cmd`): the check runs inside the container. An `exec`
//! check of several words is podman's exec form, a JSON array run without a shell; anything else
//! is the `CMD-SHELL` form, so the image needs a `/bin/sh`: `http` tries busybox `wget` and then
//! `curl`, `tcp` tries `nc -z` and then bash's `/dev/tcp`. A failing check kills the container
//! (`--health-on-failure=kill`, podman 4.3 or later), so the unit's restart policy restarts it.

use indexmap::IndexMap;
use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::model::types::{Port, Spanned, Template};
use spec_compiler::model::{EnvValue, Health, Job, Resource, Service, Step};
use spec_compiler::source::Span;

use crate::escape::{shell_word, unit_refusal};

/// E1405 for each text of a container's command line (image, arguments, environment values,
/// volume paths) that no unit file can hold; `owner` names the service or step.
fn refusals<'t>(
    owner: &str,
    image: &'t Spanned<String>,
    args: &'t [Spanned<Template>],
    env: &'t IndexMap<String, Spanned<EnvValue>>,
    paths: impl Iterator<Item = (&'t str, Span)>,
) -> Vec<Diagnostic> {
    // A template's text is checked as written: what fills its holes is a host name or a number.
    let texts = std::iter::once((image.value.clone(), "the image".to_string(), image.span))
        .chain(args.iter().map(|arg| (arg.value.written(), "an argument".to_string(), arg.span)))
        .chain(env.iter().filter_map(|(key, value)| match &value.value {
            EnvValue::Text(text) => Some((text.clone(), format!("`{key}`"), value.span)),
            EnvValue::Template(template) => Some((template.written(), format!("`{key}`"), value.span)),
            _ => None,
        }))
        .chain(paths.map(|(path, span)| (path.to_string(), "a volume path".to_string(), span)));
    texts.filter_map(|(text, what, span)| unit_refusal(&text, &format!("{what} of {owner}"), span)).collect()
}

/// E1405 for each text of a service's podman command line that no unit file can hold.
pub fn service_refusals(service: &Resource<Service>) -> Vec<Diagnostic> {
    let spec = &service.spec;
    let Some(image) = &spec.image else { return Vec::new() };
    let paths = spec.volumes.iter().map(|(path, storage)| (path.as_str(), storage.span));
    refusals(&format!("service `{}`", service.name), image, &spec.args, &spec.env, paths)
}

/// E1405 for each text of a workflow step's podman command line that no unit file can hold.
pub fn step_refusals(workflow: &str, name: &str, step: &Step) -> Vec<Diagnostic> {
    let owner = format!("step `{name}` of workflow `{workflow}`");
    refusals(&owner, &step.image, &step.args, &step.env, std::iter::empty())
}

/// E1405 for each text of a job's podman command line that no unit file can hold.
pub fn job_refusals(job: &Resource<Job>) -> Vec<Diagnostic> {
    let spec = &job.spec;
    let paths = spec.volumes.iter().map(|(path, storage)| (path.as_str(), storage.span));
    refusals(&format!("job `{}`", job.name), &spec.image, &spec.args, &spec.env, paths)
}

/// The restic image for backups on hosts that are not NixOS.
pub const RESTIC_IMAGE: &str = "docker.io/restic/restic:0.17.3";

/// podman's health-check options for `health`, or why it has none.
pub fn health_options(health: &Health, ports: &IndexMap<String, Spanned<Port>>) -> Result<Vec<String>, String> {
    let port =
        |name: &str| ports.get(name).map(|p| p.number).ok_or_else(|| format!("the port `{name}` is not declared"));
    let command: Vec<String> = match health {
        Health::Http { port: name, path, .. } => {
            let path = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
            let url = shell_word(&format!("http://127.0.0.1:{}{path}", port(&name.value.0)?));
            let shell = format!("wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url}");
            vec!["CMD-SHELL".into(), shell]
        }
        Health::Tcp { port: name, .. } => {
            let number = port(&name.value.0)?;
            let shell = format!("nc -z 127.0.0.1 {number} || bash -c 'exec 3<>/dev/tcp/127.0.0.1/{number}'");
            vec!["CMD-SHELL".into(), shell]
        }
        Health::Exec { command, .. } if command.is_empty() => return Err("the command is empty".into()),
        // podman reads a first word of `CMD`, `CMD-SHELL` or `NONE` as its own keyword, and a
        // one-word array as shell text: both go through the shell form, with the words quoted.
        Health::Exec { command, .. }
            if command.len() == 1 || ["CMD", "CMD-SHELL", "NONE"].contains(&command[0].to_uppercase().as_str()) =>
        {
            let words: Vec<String> = command.iter().map(|w| shell_word(w)).collect();
            vec!["CMD-SHELL".into(), format!("exec {}", words.join(" "))]
        }
        Health::Exec { command, .. } => command.clone(),
    };
    let json = serde_json::to_string(&command).map_err(|e| e.to_string())?;
    let timing = health.timing();
    let mut options = vec![
        format!("--health-cmd={json}"),
        format!("--health-interval={}s", timing.every_seconds(HEALTH_INTERVAL)),
        format!("--health-timeout={}s", timing.timeout_seconds().unwrap_or(HEALTH_TIMEOUT)),
        format!("--health-retries={}", timing.failures()),
    ];
    if let Some(start) = timing.start_seconds() {
        options.push(format!("--health-start-period={start}s"));
    }
    options.push("--health-on-failure=kill".into());
    Ok(options)
}

/// Seconds between podman's checks when the health check gives no `every`.
const HEALTH_INTERVAL: u64 = 30;

/// Seconds one podman check may take when the health check gives no `timeout`.
const HEALTH_TIMEOUT: u64 = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use spec_compiler::model::types::{LocalName, Transport};
    use spec_compiler::source::Span;

    fn spanned<T>(value: T) -> Spanned<T> {
        Spanned { value, span: Span::default() }
    }

    fn exec_check(command: Vec<String>) -> Health {
        Health::Exec { command, every: None, timeout: None, failures: None, start: None }
    }

    #[test]
    fn timing_becomes_podman_options() {
        use spec_compiler::model::types::Duration;
        let ports = IndexMap::new();
        let check = Health::Exec {
            command: vec!["true".into()],
            every: Some(spanned(Duration(15_000))),
            timeout: Some(spanned(Duration(2_000))),
            failures: Some(spanned(5)),
            start: Some(spanned(Duration(120_000))),
        };
        let options = health_options(&check, &ports).expect("an exec check");
        assert_eq!(
            options[1..],
            [
                "--health-interval=15s",
                "--health-timeout=2s",
                "--health-retries=5",
                "--health-start-period=120s",
                "--health-on-failure=kill"
            ]
        );
        let defaults = health_options(&exec_check(vec!["true".into()]), &ports).expect("an exec check");
        assert_eq!(
            defaults[1..],
            ["--health-interval=30s", "--health-timeout=10s", "--health-retries=3", "--health-on-failure=kill"]
        );
    }

    #[test]
    fn checks_become_podman_commands() {
        let mut ports = IndexMap::new();
        ports.insert("api".to_string(), spanned(Port { number: 5001, protocol: Transport::Tcp }));
        let http = Health::Http {
            port: spanned(LocalName("api".into())),
            path: "/v0/it's".into(),
            every: None,
            timeout: None,
            failures: None,
            start: None,
        };
        let options = health_options(&http, &ports).expect("an http check");
        assert_eq!(
            options[0],
            r#"--health-cmd=["CMD-SHELL","wget -q -O /dev/null 'http://127.0.0.1:5001/v0/it'\\''s' || curl -fsS -o /dev/null 'http://127.0.0.1:5001/v0/it'\\''s'"]"#
        );
        let exec = exec_check(vec!["pg_isready".into(), "-q".into()]);
        assert_eq!(health_options(&exec, &ports).expect("exec")[0], r#"--health-cmd=["pg_isready","-q"]"#);
        let keyword = exec_check(vec!["cmd".into(), "x".into()]);
        assert_eq!(
            health_options(&keyword, &ports).expect("exec")[0],
            r#"--health-cmd=["CMD-SHELL","exec 'cmd' 'x'"]"#
        );
        assert!(health_options(&exec_check(vec![]), &ports).is_err());
        let unknown = Health::Tcp {
            port: spanned(LocalName("db".into())),
            every: None,
            timeout: None,
            failures: None,
            start: None,
        };
        assert!(health_options(&unknown, &ports).is_err());
    }
}
