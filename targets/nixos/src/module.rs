//! A NixOS module under construction: option definitions by attribute path, each with the spec
//! line it came from, refused when two definitions would clash.
//!
//! Nix rejects an attribute set that defines one path twice, or a path and a path below it. The
//! builder finds those clashes before anything is printed, so a module that prints always parses.
//! Attribute-set values are spread into their leaves (`services.nats.settings = { port = 1; }`
//! becomes `services.nats.settings.port = 1;`), so two sources may set different leaves of one set.

use std::collections::{HashMap, HashSet};

use crate::nix::{Nix, attr_path, render};

/// One definition: a leaf path, its value and its provenance comment.
struct Definition {
    path: Vec<String>,
    value: Nix,
    provenance: String,
}

/// The definitions of one module, in the order they were made.
#[derive(Default)]
pub struct Module {
    definitions: Vec<Definition>,
    leaves: HashMap<Vec<String>, usize>,
    interior: HashSet<Vec<String>>,
}

/// A definition refused because an earlier one sets the same path, or a path above or below it.
pub struct Clash {
    /// The path refused.
    pub path: String,
    /// Where the earlier definition came from.
    pub earlier: String,
}

impl Module {
    /// Defines `path = value`, spreading attribute sets into their leaves.
    pub fn define(&mut self, path: Vec<String>, value: Nix, provenance: &str) -> Result<(), Clash> {
        match value {
            Nix::Attrs(entries) if !entries.is_empty() => {
                for (name, inner) in entries {
                    let mut inner_path = path.clone();
                    inner_path.push(name);
                    self.define(inner_path, inner, provenance)?;
                }
                Ok(())
            }
            value => self.define_leaf(path, value, provenance),
        }
    }

    fn define_leaf(&mut self, path: Vec<String>, value: Nix, provenance: &str) -> Result<(), Clash> {
        let clash = |module: &Module, at: &[String]| -> Clash {
            let earlier = module
                .leaves
                .iter()
                .find(|(p, _)| p.starts_with(at) || at.starts_with(p))
                .and_then(|(_, &i)| module.definitions.get(i))
                .map_or_else(String::new, |d| d.provenance.clone());
            Clash { path: attr_path(&path), earlier }
        };
        if self.leaves.contains_key(&path) || self.interior.contains(&path) {
            return Err(clash(self, &path));
        }
        for end in 1..path.len() {
            if self.leaves.contains_key(&path[..end]) {
                return Err(clash(self, &path[..end]));
            }
        }
        for end in 1..path.len() {
            self.interior.insert(path[..end].to_vec());
        }
        self.leaves.insert(path.clone(), self.definitions.len());
        self.definitions.push(Definition { path, value, provenance: provenance.to_string() });
        Ok(())
    }

    /// The provenance of every definition, each once, in order.
    pub fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = Vec::new();
        for definition in &self.definitions {
            if !sources.contains(&definition.provenance) {
                sources.push(definition.provenance.clone());
            }
        }
        sources
    }

    /// Prints the module: a function of the module arguments returning one attribute set, with a
    /// provenance comment wherever the source changes.
    pub fn render(&self, header: &str) -> String {
        let mut out = String::from(header);
        out.push_str("{ config, lib, pkgs, ... }:\n{\n");
        let mut last_provenance: Option<&str> = None;
        for definition in &self.definitions {
            if last_provenance != Some(definition.provenance.as_str()) {
                if last_provenance.is_some() {
                    out.push('\n');
                }
                out.push_str("  # from ");
                out.push_str(&definition.provenance);
                out.push('\n');
                last_provenance = Some(&definition.provenance);
            }
            out.push_str("  ");
            out.push_str(&attr_path(&definition.path));
            out.push_str(" = ");
            render(&definition.value, 2, &mut out);
            out.push_str(";\n");
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn clashing_paths_are_refused() {
        let mut module = Module::default();
        assert!(module.define(path("services.a.enable"), Nix::Bool(true), "x.spec:1").is_ok());
        assert!(module.define(path("services.a.port"), Nix::Int(1), "x.spec:2").is_ok());
        let again = module.define(path("services.a.enable"), Nix::Bool(false), "x.spec:3");
        assert!(again.is_err_and(|c| c.earlier == "x.spec:1"));
        assert!(module.define(path("services.a"), Nix::Bool(true), "x.spec:4").is_err());
        assert!(module.define(path("services.a.enable.x"), Nix::Bool(true), "x.spec:5").is_err());
    }

    #[test]
    fn attribute_sets_spread_into_leaves() {
        let mut module = Module::default();
        let settings = Nix::Attrs(vec![("port".into(), Nix::Int(1)), ("http".into(), Nix::Int(2))]);
        assert!(module.define(path("services.nats.settings"), settings, "x.spec:1").is_ok());
        assert!(module.define(path("services.nats.settings.jetstream"), Nix::Bool(true), "x.spec:2").is_ok());
        let text = module.render("");
        assert!(text.contains("services.nats.settings.port = 1;"), "{text}");
    }
}
