//! A service's dump on a cluster: the pod annotations by which k8up runs it, and what becomes of
//! the live volume beside it.
//!
//! k8up's backup job looks for pods carrying `k8up.io/backupcommand` among those its `Schedule`'s
//! label selectors select, runs that command in the container `k8up.io/backupcommand-container`
//! names (through the API server's `exec`, no shell added: the annotation is split into words,
//! quotes keeping a word whole) and stores its standard output as `/<namespace>-<container><ext>`
//! (`ext` from `k8up.io/file-extension`), under the host name `<namespace>`. A chart places pod
//! annotations where it likes (Bitnami PostgreSQL: `primary.podAnnotations`), so the preset says
//! where with the tagged record `backup_command { container, command }` in its chart payload; the
//! command is the chart's own form of the preset's `dump` (it must log in with what the chart's
//! container has in its environment), and the file extension is the one of `dump.file`.
//!
//! Invariants: the record expands to the annotations only while a backup on the cluster copies the
//! service's dump, and to nothing otherwise (no pod is dumped for nobody); a word the annotation
//! cannot carry is E1290, never altered. While the dump is backed up and the volume is not, the
//! claim the chart creates carries `k8up.io/backup: "false"`: the `Schedule` of the dump selects
//! the release's pods by its instance label, which the chart's claim carries too, and a data
//! directory copied file by file while the database writes it is not a backup.

use serde_json::{Map, Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Payload;
use spec_compiler::model::{Resource, Service};
use spec_compiler::source::Span;

/// The pod annotation holding the command k8up runs.
pub const COMMAND_ANNOTATION: &str = "k8up.io/backupcommand";
/// The pod annotation naming the container the command runs in.
pub const CONTAINER_ANNOTATION: &str = "k8up.io/backupcommand-container";
/// The pod annotation with the extension of the stored file.
pub const EXTENSION_ANNOTATION: &str = "k8up.io/file-extension";
/// The claim annotation by which k8up leaves a volume out of every backup.
pub const SKIP_ANNOTATION: &str = "k8up.io/backup";

/// The `backup_command { container, command }` record of a chart payload.
pub struct BackupCommand {
    /// The container of the pod the command runs in.
    pub container: String,
    /// The command and its arguments, writing the dump to standard output.
    pub command: Vec<String>,
}

/// The record in the service's chart payload, when there is one and it is well formed.
pub fn backup_command(service: &Resource<Service>) -> Option<BackupCommand> {
    read_record(service.spec.helm.as_ref()?.value.tagged("backup_command")?)
}

fn read_record(fields: &indexmap::IndexMap<String, Payload>) -> Option<BackupCommand> {
    let Some(Payload::Str(container)) = fields.get("container") else { return None };
    let Some(Payload::List(words)) = fields.get("command") else { return None };
    let command = words
        .iter()
        .map(|w| match w {
            Payload::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!command.is_empty() && !container.is_empty()).then(|| BackupCommand { container: container.clone(), command })
}

/// The extension k8up gives the stored dump: `.sql` of `postgres.sql`, nothing for a name
/// without one.
pub fn extension(file: &str) -> &str {
    file.rfind('.').filter(|&dot| dot > 0).map_or("", |dot| &file[dot..])
}

/// The path of the dump in the snapshots k8up takes of it.
pub fn stored_dump(namespace: &str, container: &str, file: &str) -> String {
    format!("/{namespace}-{container}{}", extension(file))
}

/// The words as one annotation that k8up splits back into the same words: a word with a space,
/// an empty word or one starting with a quote is quoted with a quote it does not hold. `Err` with
/// the first word no quoting carries (a control character, or both quotes beside a space).
pub fn join_words(words: &[String]) -> Result<String, &str> {
    let mut joined = Vec::new();
    for word in words {
        if word.chars().any(char::is_control) {
            return Err(word);
        }
        let plain = !word.is_empty()
            && !word.chars().any(char::is_whitespace)
            && !word.starts_with(['\'', '"', '‹', '«', '「', '『']);
        if plain {
            joined.push(word.clone());
        } else if !word.contains('\'') {
            joined.push(format!("'{word}'"));
        } else if !word.contains('"') {
            joined.push(format!("\"{word}\""));
        } else {
            return Err(word);
        }
    }
    Ok(joined.join(" "))
}

impl super::Lowering<'_, '_> {
    /// Whether a backup on this cluster copies the dump of `service`.
    pub(crate) fn dumped(&self, service: &str) -> bool {
        self.on.backups.iter().any(|b| b.spec.service() == Some(service))
    }

    /// Whether a backup on this cluster copies `storage`'s files.
    pub(crate) fn copied(&self, storage: &str) -> bool {
        self.on.backups.iter().any(|b| b.spec.storage() == Some(storage))
    }

    /// The pod annotations of `backup_command { … }`: the command, its container and the dump's
    /// extension while the service's dump is backed up, else nothing. `None` when refused.
    pub(crate) fn backup_command_annotations(
        &mut self,
        service: &Resource<Service>,
        fields: &indexmap::IndexMap<String, Payload>,
        span: Span,
    ) -> Option<Option<Value>> {
        let Some(record) = read_record(fields) else {
            self.diagnostics.push(
                Diagnostic::new(Code::E1206, span, "the Helm value `backup_command` is an incomplete tagged record")
                    .with_primary_label("in this `helm` payload")
                    .with_help("`backup_command { container = \"…\", command = [\"…\", …] }` names the container of the pod that holds the data and the command writing the dump to standard output there"),
            );
            return None;
        };
        let Some(dump) = service.spec.dump.as_ref() else { return Some(None) };
        let command = match join_words(&record.command) {
            Ok(command) => command,
            Err(word) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1290,
                        span,
                        format!("the backup command of service `{}` cannot be written as a k8up annotation", service.name),
                    )
                    .with_primary_label(format!("the word `{}` cannot be quoted for k8up", word.escape_debug()))
                    .with_help("k8up splits its annotation at spaces and quotes a word with `'` or `\"`, without escapes: a word may not hold a control character, nor both quotes beside a space; run a script the image holds instead"),
                );
                return None;
            }
        };
        // Charts may pass pod annotations through `tpl` (Bitnami's do) or not: no escape is right
        // for both, so a template opener is refused.
        if !self.refuse_template(
            &spec_compiler::model::types::Spanned { value: command.clone(), span },
            "a backup command",
            "the chart",
        ) {
            return None;
        }
        if !self.dumped(&service.name) {
            return Some(None);
        }
        let mut annotations = Map::new();
        annotations.insert(COMMAND_ANNOTATION.into(), json!(command));
        annotations.insert(CONTAINER_ANNOTATION.into(), json!(record.container));
        annotations.insert(EXTENSION_ANNOTATION.into(), json!(extension(&dump.value.file_name(&service.name))));
        Some(Some(Value::Object(annotations)))
    }

    /// The annotations of the claim of `storage` mounted by `service`: left out of k8up's copies
    /// while the service's dump is backed up and the volume itself is not.
    pub(crate) fn claim_annotations(&self, service: &Resource<Service>, storage: &str) -> Option<Value> {
        let skip = self.dumped(&service.name) && backup_command(service).is_some() && !self.copied(storage);
        skip.then(|| json!({ SKIP_ANNOTATION: "false" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words k8up's split (github.com/firepear/qsplit) reads back from an annotation.
    fn split(annotation: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut chars = annotation.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                continue;
            }
            if c == '\'' || c == '"' {
                words.push(chars.by_ref().take_while(|&d| d != c).collect());
                continue;
            }
            let mut word = c.to_string();
            while let Some(&d) = chars.peek() {
                if d == ' ' {
                    break;
                }
                word.push(d);
                chars.next();
            }
            words.push(word);
        }
        words
    }

    #[test]
    fn words_come_back_whole() {
        let words: Vec<String> =
            ["sh", "-c", "PGPASSWORD=\"$(cat \"$F\")\" pg_dumpall --clean", "", "it's"].map(String::from).into();
        let joined = join_words(&words).unwrap();
        assert_eq!(split(&joined), words, "{joined}");
    }

    #[test]
    fn a_word_no_quote_carries_is_refused() {
        assert!(join_words(&["a 'b' \"c\"".to_string()]).is_err());
        assert!(join_words(&["a\nb".to_string()]).is_err());
    }

    #[test]
    fn the_extension_is_the_file_names() {
        assert_eq!(stored_dump("data", "postgresql", "postgres.sql"), "/data-postgresql.sql");
        assert_eq!(stored_dump("data", "redis", "dump"), "/data-redis");
        assert_eq!(extension(".hidden"), "");
    }
}
