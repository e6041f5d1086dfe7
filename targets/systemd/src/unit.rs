//! A unit or networkd file as sections of settings, printed in systemd's INI syntax
//! (systemd.syntax(7)). Values arrive escaped; the printer adds the header and provenance.

/// One file: its sections, in order.
#[derive(Default)]
pub struct UnitFile {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl UnitFile {
    /// Adds `key=value` to `section`, creating the section on first use.
    pub fn set(&mut self, section: &str, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.sections.iter_mut().find(|(name, _)| name == section) {
            Some((_, settings)) => settings.push((key.to_string(), value)),
            None => self.sections.push((section.to_string(), vec![(key.to_string(), value)])),
        }
    }

    /// Starts a new section even if one of that name exists (`[WireGuardPeer]` repeats).
    pub fn repeat(&mut self, section: &str) {
        self.sections.push((section.to_string(), Vec::new()));
    }

    /// Adds `key=value` to the last section.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        if let Some((_, settings)) = self.sections.last_mut() {
            settings.push((key.to_string(), value.into()));
        }
    }

    /// Prints the file after a header and a provenance comment.
    pub fn render(&self, header: &str, provenance: &str) -> String {
        let mut out = format!("{header}# from {provenance}\n");
        for (name, settings) in &self.sections {
            out.push_str(&format!("\n[{name}]\n"));
            for (key, value) in settings {
                out.push_str(&format!("{key}={value}\n"));
            }
        }
        out
    }
}
