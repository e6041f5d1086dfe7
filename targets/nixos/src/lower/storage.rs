//! Storage on NixOS: pools imported, datasets created with their properties and mounted, plain
//! directories (`directory`, on hosts without ZFS) created by systemd-tmpfiles.
//!
//! Datasets are created by a oneshot unit each, `zfs-dataset-<storage>.service`, rather than by
//! disko: disko partitions and formats disks from an installer and is a flake input of its own,
//! while datasets come and change on running systems. The unit creates the dataset when it is
//! missing (`zfs create -u -p`, unmounted: the mount is NixOS's) and then sets every property the
//! spec gives (`zfs set`: compression, quota, recordsize; the mountpoint only when it differs,
//! because setting it remounts the dataset, which fails while it is busy), so it converges on every
//! boot and every switch whatever the dataset held before. A quota the spec drops becomes
//! `quota=none`; a record size the spec drops is left as it is. The unit runs before local file
//! systems are mounted (no default dependencies, after `zfs-import.target`), and the dataset's
//! `fileSystems` entry requires it (`x-systemd.requires=`).
//!
//! Pools are imported (`boot.zfs.extraPools`), never created: `zpool create` wipes its member
//! disks, which no unit should do on a guess at every boot. Creating a pool stays a deliberate,
//! one-time act (by hand or by disko at installation).
//!
//! A storage that holds a cache (`holds = cache`) is created and mounted as any other; its dataset
//! also gets `com.sun:auto-snapshot=false` ([`CACHE_PROPERTY`]), and no sanoid policy names it
//! (sanoid's datasets are the backups' sources, and a backup of a cache is E0741). Dropping
//! `holds = cache` later leaves the property set, as a dropped record size is left.

use spec_compiler::model::{Compression, ZfsDataset};
use spec_target_systemd::escape::shell_word;

use super::{NodeModule, mountpoint, path, with};
use crate::nix::Nix;

/// A size as ZFS reads it: the largest binary suffix that divides it (`2T`, `1M`), else bytes.
fn zfs_size(bytes: u64) -> String {
    for (suffix, unit) in [("T", 1u64 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// The property a dataset holding a cache (`holds = cache`) is given: snapshot tools that read it
/// (zfs-auto-snapshot, `services.zfs.autoSnapshot`) leave it out, even when a parent dataset asks
/// for snapshots and children inherit it. Sanoid snapshots only the datasets a backup names, and no
/// backup names a cache (E0741).
const CACHE_PROPERTY: &str = "com.sun:auto-snapshot=false";

/// The properties a dataset converges to besides its mountpoint, as `name=value`.
fn properties(zfs: &ZfsDataset) -> Vec<String> {
    let compression = match zfs.compression.as_ref().map_or(Compression::Lz4, |c| c.value) {
        Compression::Off => "off",
        Compression::Lz4 => "lz4",
        Compression::Zstd => "zstd",
        Compression::Gzip => "gzip",
    };
    let quota = zfs.quota.as_ref().map_or("none".to_string(), |q| zfs_size(q.value.0));
    let mut properties = vec![format!("compression={compression}"), format!("quota={quota}")];
    if let Some(recordsize) = &zfs.recordsize {
        properties.push(format!("recordsize={}", zfs_size(recordsize.value.0)));
    }
    properties
}

impl<'a> NodeModule<'a> {
    pub(super) fn storage(&mut self) {
        let node = self.node;
        if !node.spec.zpool.is_empty() {
            let span = node.spec.zpool.values().next().map_or(node.name_span, |p| p.span);
            self.define(path("boot.supportedFilesystems"), Nix::List(vec![Nix::Str("zfs".into())]), span);
            let pools = node.spec.zpool.keys().map(|p| Nix::Str(p.clone())).collect();
            self.define(path("boot.zfs.extraPools"), Nix::List(pools), span);
        }
        for storage in self.index.on(&node.name).storage.iter().copied() {
            if let (Some(directory), None) = (&storage.spec.directory, &storage.spec.zfs) {
                // A plain directory: created by systemd-tmpfiles at boot and on every switch,
                // under a settings name of spec's own, so the node's own rules never clash.
                let entry = Nix::Attrs(vec![
                    ("mode".into(), Nix::Str("0755".into())),
                    ("user".into(), Nix::Str("root".into())),
                    ("group".into(), Nix::Str("root".into())),
                ]);
                let at = with(path("systemd.tmpfiles.settings"), &["spec-storage", &directory.value, "d"]);
                self.define(at, entry, directory.span);
                continue;
            }
            let Some(zfs) = &storage.spec.zfs else { continue };
            let dataset = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            let unit = format!("zfs-dataset-{}", storage.name);
            let target = shell_word(&mountpoint(zfs));
            let mut properties = properties(zfs);
            if storage.spec.is_cache() {
                // A cache has nothing to keep: no snapshot tool that honours the property
                // (zfs-auto-snapshot) takes it, even under a parent that asks for snapshots.
                properties.push(CACHE_PROPERTY.to_string());
            }
            let set: Vec<String> = properties.iter().map(|p| shell_word(p)).collect();
            // The mountpoint is set only when it differs: setting it remounts the dataset, which
            // fails while it is in use.
            let script = format!(
                "dataset={}\nif ! zfs list -H -o name \"$dataset\" >/dev/null 2>&1; then\n  zfs create -u -p -o mountpoint={target} \"$dataset\"\nfi\nif [ \"$(zfs get -H -o value mountpoint \"$dataset\")\" != {target} ]; then\n  zfs set mountpoint={target} \"$dataset\"\nfi\nzfs set {} \"$dataset\"\n",
                shell_word(&dataset),
                set.join(" ")
            );
            let service = Nix::Attrs(vec![
                ("description".into(), Nix::Str(format!("ZFS dataset {dataset} of storage {}", storage.name))),
                ("after".into(), Nix::List(vec![Nix::Str("zfs-import.target".into())])),
                ("wants".into(), Nix::List(vec![Nix::Str("zfs-import.target".into())])),
                ("unitConfig".into(), Nix::Attrs(vec![("DefaultDependencies".into(), Nix::Bool(false))])),
                (
                    "serviceConfig".into(),
                    Nix::Attrs(vec![
                        ("Type".into(), Nix::Str("oneshot".into())),
                        ("RemainAfterExit".into(), Nix::Bool(true)),
                    ]),
                ),
                ("path".into(), Nix::List(vec![Nix::Raw("pkgs.zfs".into())])),
                ("script".into(), Nix::Str(script)),
            ]);
            self.define(with(path("systemd.services"), &[&unit]), service, zfs.span);
            let value = Nix::Attrs(vec![
                ("device".into(), Nix::Str(dataset)),
                ("fsType".into(), Nix::Str("zfs".into())),
                // `zfsutil` because the dataset's mountpoint property is not `legacy`.
                (
                    "options".into(),
                    Nix::List(vec![Nix::Str("zfsutil".into()), Nix::Str(format!("x-systemd.requires={unit}.service"))]),
                ),
            ]);
            self.define(vec!["fileSystems".into(), mountpoint(zfs)], value, zfs.span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::zfs_size;

    #[test]
    fn sizes_take_the_largest_exact_suffix() {
        assert_eq!(zfs_size(2 << 40), "2T");
        assert_eq!(zfs_size(1 << 20), "1M");
        assert_eq!(zfs_size(16 << 10), "16K");
        assert_eq!(zfs_size(1536 << 20), "1536M");
        assert_eq!(zfs_size(1000), "1000");
    }
}
