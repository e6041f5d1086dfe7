//! The template layers a string crosses on its way to a cluster, one function each.
//!
//! - Helm `tpl`: app-template passes env values through `tpl`, so a literal `{{` would start a
//!   Go template action. [`helm_tpl`] writes it as `{{ "{{" }}`, which renders back to `{{`
//!   (text outside actions, including a bare `}}`, is copied verbatim).
//! - Untemplated chart fields and Argo Workflows step arguments: we cannot escape for them
//!   (Argo substitutes `{{…}}` in arguments with no escape syntax), so [`template_free`] lets the
//!   lowering refuse such strings with a diagnostic instead.
//! - Flux `postBuild` substitution of `${var}`: switched off per object by [`FLUX_SUBSTITUTE`], so
//!   no string needs rewriting for it.
//! - YAML quoting is [`spec_yaml`]'s job.
//!
//! `tests/validate.rs` renders hostile strings through real Helm's `tpl` to prove the escape.

/// The annotation that turns Flux's variable substitution off for one object, so a `${…}` in a
/// value reaches the cluster as written.
pub const FLUX_SUBSTITUTE: (&str, &str) = ("kustomize.toolkit.fluxcd.io/substitute", "disabled");

/// A string as a Helm `tpl` pass reads it back: every `{{` is written as an action that prints it.
/// Helm's `tpl` is Go's text/template, the engine of Prometheus's templates too, so this is the
/// Prometheus back end's escape, kept in one place.
pub fn helm_tpl(text: &str) -> String {
    spec_target_prometheus::escape::template_text(text)
}

/// Whether a string holds no template opener (`{{`), so a templating consumer copies it as is.
pub fn template_free(text: &str) -> bool {
    !text.contains("{{")
}
