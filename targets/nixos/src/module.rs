//! A NixOS module under construction: option definitions by attribute path, each with the spec
//! line it came from, refused when two definitions would clash.
//!
//! Nix rejects an attribute set that defines one path twice, or a path and a path below it. The
//! builder finds those clashes before anything is printed, so a module that prints always parses.
//! Attribute-set values are spread into their leaves (`services.nats.settings = { port = 1; }`
//! becomes `services.nats.settings.port = 1;`), so two sources may set different leaves of one set.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::nix::{Nix, attr_path, render};

/// One definition: a leaf path (already written as Nix), its value and its provenance comment
/// (an index into [`Module::provenances`]: consecutive definitions from one source share it).
struct Definition {
    path: String,
    value: Nix,
    provenance: usize,
}

/// A node of the tree of defined paths: one per path prefix, so a definition is checked in one
/// walk down its path (linear in its length, no prefix copied or hashed twice).
struct PathNode {
    children: FxHashMap<String, usize>,
    /// The definition set exactly here, if this path is a leaf.
    leaf: Option<usize>,
    /// The definition that made this node: the earliest one at or below it, named in a clash.
    first: usize,
}

/// The definitions of one module, in the order they were made.
#[derive(Default)]
pub struct Module {
    definitions: Vec<Definition>,
    /// The provenance comments, each stored once per run of definitions from one source.
    provenances: Vec<String>,
    /// The tree of defined paths; index 0 is the root once anything is defined.
    nodes: Vec<PathNode>,
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
    pub fn define(&mut self, mut path: Vec<String>, value: Nix, provenance: &str) -> Result<(), Clash> {
        self.spread(&mut path, value, provenance)
    }

    /// Defines the leaves of `value` below `path`, extending and restoring `path` as it goes.
    fn spread(&mut self, path: &mut Vec<String>, value: Nix, provenance: &str) -> Result<(), Clash> {
        match value {
            Nix::Attrs(entries) if !entries.is_empty() => {
                for (name, inner) in entries {
                    path.push(name);
                    let defined = self.spread(path, inner, provenance);
                    path.pop();
                    defined?;
                }
                Ok(())
            }
            value => self.define_leaf(path, value, provenance),
        }
    }

    fn define_leaf(&mut self, path: &[String], value: Nix, provenance: &str) -> Result<(), Clash> {
        let index = self.definitions.len();
        if self.nodes.is_empty() {
            self.nodes.push(PathNode { children: FxHashMap::default(), leaf: None, first: index });
        }
        // One walk: the path, and every path above it, must not be a leaf, and the path itself
        // must not exist at all (a leaf, or an attribute set with leaves below it). Nothing is
        // made before the first missing segment, and below it every node is new, so no clash can
        // follow: a refused definition leaves the tree as it was.
        let mut node = 0;
        let mut made = false;
        for segment in path {
            let existing = if made { None } else { self.nodes[node].children.get(segment).copied() };
            node = match existing {
                Some(child) if self.nodes[child].leaf.is_some() => return Err(self.clash(path, child)),
                Some(child) => child,
                None => {
                    made = true;
                    let child = self.nodes.len();
                    self.nodes.push(PathNode { children: FxHashMap::default(), leaf: None, first: index });
                    self.nodes[node].children.insert(segment.clone(), child);
                    child
                }
            };
        }
        if !made {
            return Err(self.clash(path, node));
        }
        self.nodes[node].leaf = Some(index);
        if self.provenances.last().is_none_or(|last| last != provenance) {
            self.provenances.push(provenance.to_string());
        }
        let provenance = self.provenances.len() - 1;
        self.definitions.push(Definition { path: attr_path(path), value, provenance });
        Ok(())
    }

    /// The clash of `path` with the definitions at or below `node`.
    fn clash(&self, path: &[String], node: usize) -> Clash {
        let earlier = self.nodes[node].leaf.unwrap_or(self.nodes[node].first);
        Clash {
            path: attr_path(path),
            earlier: self.definitions.get(earlier).map_or_else(String::new, |d| self.provenances[d.provenance].clone()),
        }
    }

    /// The provenance of every definition, each once, in order.
    pub fn sources(&self) -> Vec<String> {
        let mut seen = FxHashSet::default();
        self.provenances.iter().filter(|p| seen.insert(p.as_str())).cloned().collect()
    }

    /// Prints the module: a function of the module arguments returning one attribute set, with a
    /// provenance comment wherever the source changes.
    pub fn render(&self, header: &str) -> String {
        let mut out = String::from(header);
        out.push_str("{ config, lib, pkgs, ... }:\n{\n");
        let mut last_provenance: Option<&str> = None;
        for definition in &self.definitions {
            let provenance = self.provenances[definition.provenance].as_str();
            if last_provenance != Some(provenance) {
                if last_provenance.is_some() {
                    out.push('\n');
                }
                out.push_str("  # from ");
                out.push_str(provenance);
                out.push('\n');
                last_provenance = Some(provenance);
            }
            out.push_str("  ");
            out.push_str(&definition.path);
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
