//! The kinds of resource the language has: the one list every stage reads.

use serde::Serialize;

macro_rules! kinds {
    ($( $variant:ident $name:literal $plural:literal, )*) => {
        /// A kind of resource.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Kind {
            $(
                #[doc = concat!("`", $name, " NAME { … }`")]
                $variant,
            )*
        }

        impl Kind {
            /// Every kind, in the order the model lists them.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The keyword that starts a block of this kind.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            /// The plural used in the model's JSON (`services`).
            pub fn plural(self) -> &'static str {
                match self { $(Kind::$variant => $plural,)* }
            }

            /// The kind a block keyword names.
            pub fn from_name(name: &str) -> Option<Kind> {
                match name { $($name => Some(Kind::$variant),)* _ => None }
            }
        }
    };
}

kinds! {
    Node "node" "nodes",
    Network "network" "networks",
    Cluster "cluster" "clusters",
    Storage "storage" "storage",
    Service "service" "services",
    Alert "alert" "alerts",
    Backup "backup" "backups",
    Workflow "workflow" "workflows",
    Secret "secret" "secrets",
    Receiver "receiver" "receivers",
    Route "route" "routes",
    Bucket "bucket" "buckets",
    Endpoint "endpoint" "endpoints",
    Slo "slo" "slos",
    Job "job" "jobs",
    Stream "stream" "streams",
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
