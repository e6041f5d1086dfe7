//! How a service changes and stays up: its `rollout` (rolling, blue-green or canary), its
//! `disruption` budget, its `autoscale` bounds and its criticality `tier`.
//!
//! These are a cluster's concepts (a Deployment's strategy, a `PodDisruptionBudget`, a
//! `HorizontalPodAutoscaler`, a `PriorityClass`); on a host, which runs one instance, the back ends
//! refuse what has no meaning there, at the field. The tier also sets the severity of the alerts
//! generated for the service, on every target. Invariants the back ends rely on once the graph
//! rules pass ([`crate::graph`]): every [`Amount`] percentage parses and lies in 0–100%, a
//! rolling update can progress, an autoscaler's `min` is at most its `max`, a canary's steps
//! rise strictly within 1–100% and its pause is whole seconds above zero, a canary's analysis
//! parses as PromQL, has a bound, every bound a number ([`Threshold::literal`]), `min` below
//! `max`, and measures every whole second or more, and a disruption budget names exactly one
//! bound.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Severity;
use super::types::{Duration, NodeRef, Spanned};

/// A number of pods, or a share of them written as a percentage (`"25%"`), as Kubernetes counts
/// rollouts and disruption budgets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Amount {
    /// Pods.
    Count(u32),
    /// A share of the pods, a whole percentage: `"25%"`.
    Share(String),
}

impl Amount {
    /// The percentage of a share (`Ok(None)` for a count), or why it is not one.
    pub fn percent(&self) -> Result<Option<u32>, String> {
        match self {
            Amount::Count(_) => Ok(None),
            Amount::Share(text) => parse_percent(text).map(Some),
        }
    }

    /// Whether the amount is nothing (`0` or `"0%"`).
    pub fn is_zero(&self) -> bool {
        match self {
            Amount::Count(n) => *n == 0,
            Amount::Share(_) => self.percent() == Ok(Some(0)),
        }
    }

    /// The pods the amount stands for out of `pods`, a share rounded up (as Kubernetes rounds
    /// `maxSurge` and `minAvailable`).
    pub fn pods_of(&self, pods: u32) -> u32 {
        match self {
            Amount::Count(n) => *n,
            Amount::Share(_) => {
                let percent = self.percent().ok().flatten().unwrap_or(0);
                (u64::from(pods) * u64::from(percent)).div_ceil(100) as u32
            }
        }
    }
}

/// A whole percentage from 0% to 100% (`"25%"`).
pub fn parse_percent(text: &str) -> Result<u32, String> {
    let digits = text.strip_suffix('%').ok_or_else(|| format!("`{text}` is not a percentage such as `25%`"))?;
    let value: u32 = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a whole percentage such as `25%`"))?;
    if value > 100 {
        return Err(format!("`{text}` is more than 100%"));
    }
    Ok(value)
}

/// A CPU utilisation target, a whole percentage above 0% (above 100% when pods may burst past
/// their request): `"70%"`.
pub fn utilisation(text: &str) -> Option<u32> {
    let digits = text.strip_suffix('%')?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten().filter(|p: &u32| *p > 0)
}

/// How a new version of a service replaces the running one.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rollout {
    /// Replace the pods a few at a time (a Deployment's `RollingUpdate`).
    Rolling {
        /// How many pods may run above the wanted count during the update (`1`, `"25%"`).
        /// Default: 25%.
        surge: Option<Spanned<Amount>>,
        /// How many pods may be missing from the wanted count during the update (`0`, `"25%"`).
        /// Default: 25%.
        unavailable: Option<Spanned<Amount>>,
    },
    /// Two releases of the service, `blue` and `green`, and a switch sending clients to the
    /// `active` one; a new version goes to the idle colour, and flipping `active` cuts over.
    /// Each colour is an image (both on the service's node) or a node (the service's image on
    /// each, the switch on the service's node reaching them over the network that joins them).
    BlueGreen {
        /// The colour clients reach.
        active: Spanned<Colour>,
        /// The blue release: its image, or the node it runs on. Default: the service's `image`.
        blue: Option<Spanned<Release>>,
        /// The green release: its image, or the node it runs on. Default: the service's `image`.
        green: Option<Spanned<Release>>,
    },
    /// Shift clients to the new version by steps, percentages of the pods (`["10%", "50%"]`),
    /// pausing after each step but the last (an Argo Rollouts `Rollout` on a cluster).
    Canary {
        /// The share of pods running the new version at each step, rising, the last at most 100%.
        steps: Spanned<Vec<Spanned<Amount>>>,
        /// How long each pause between steps lasts, whole seconds (`5m`). Default: until the
        /// rollout is promoted by hand (`kubectl argo rollouts promote`).
        pause: Option<Spanned<Duration>>,
        /// A PromQL query judged through every step, whose failure aborts the rollout (an Argo
        /// Rollouts `AnalysisTemplate` on a cluster, asking the cluster's Prometheus).
        analysis: Option<Spanned<Analysis>>,
    },
}

/// How a canary is judged while it rolls out: a PromQL query the cluster's Prometheus answers
/// every `every`, a measurement failing when its value is above `max` or below `min`; `failures`
/// failing measurements abort the rollout, which scales the new version back down.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// The PromQL query, one value (`sum(rate(errors[5m])) / sum(rate(requests[5m]))`).
    pub query: Spanned<String>,
    /// The highest value that passes (`"0.01"`, `0`): a decimal number as text or an integer.
    pub max: Option<Spanned<Threshold>>,
    /// The lowest value that passes (`"0.99"`, `1`).
    pub min: Option<Spanned<Threshold>>,
    /// How often the query is measured, whole seconds. Default: 1m.
    pub every: Option<Spanned<Duration>>,
    /// How many failing measurements abort the rollout. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub failures: Option<Spanned<u32>>,
}

impl Analysis {
    /// How often the query is measured, in milliseconds (default one minute).
    pub fn every_ms(&self) -> u64 {
        self.every.as_ref().map_or(60_000, |e| e.value.0)
    }

    /// How many failing measurements abort the rollout (default 1).
    pub fn failures(&self) -> u32 {
        self.failures.as_ref().map_or(1, |f| f.value)
    }
}

/// A bound of an analysis: an integer, or a decimal number written as text (`"0.01"`; the
/// language has no fractional numbers, as a share is `"25%"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Threshold {
    /// A whole number.
    Whole(i64),
    /// A decimal number as text: `"0.01"`, `"-1.5"`.
    Decimal(String),
}

impl Threshold {
    /// The number as an Argo Rollouts condition writes it (`0.01`, `5`), or why it is not one:
    /// digits with at most one point, an optional minus sign, no exponent.
    pub fn literal(&self) -> Result<String, String> {
        match self {
            Threshold::Whole(n) => Ok(n.to_string()),
            Threshold::Decimal(text) => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
                let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
                let well_formed = !whole.is_empty()
                    && all_digits(whole)
                    && all_digits(fraction)
                    && (!digits.contains('.') || !fraction.is_empty());
                if well_formed {
                    Ok(text.clone())
                } else {
                    Err(format!("`{text}` is not a decimal number such as `0.01`"))
                }
            }
        }
    }

    /// The number's value, when it is one.
    pub fn value(&self) -> Option<f64> {
        self.literal().ok()?.parse().ok()
    }
}

/// What a colour of a blue-green rollout is: another image on the service's node, or the
/// service's image on a node of its own (`blue = node.standby`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Release {
    /// The image the colour runs (`"prefecthq/prefect:3.1.16"`).
    Image(String),
    /// The node the colour runs on, with the service's image.
    Node(NodeRef),
}

impl Release {
    /// The image the colour runs, when it names one.
    pub fn image(&self) -> Option<&str> {
        match self {
            Release::Image(image) => Some(image),
            Release::Node(_) => None,
        }
    }

    /// The node the colour runs on, when it names one.
    pub fn node(&self) -> Option<&NodeRef> {
        match self {
            Release::Node(node) => Some(node),
            Release::Image(_) => None,
        }
    }
}

impl Rollout {
    /// The nodes of a blue-green rollout whose colours are nodes, blue first, each with its
    /// colour; empty otherwise (both colours must be nodes: E0720 when one is not).
    pub fn colour_nodes(&self) -> Vec<(Colour, &NodeRef)> {
        let Rollout::BlueGreen { blue, green, .. } = self else { return Vec::new() };
        let nodes: Vec<(Colour, &NodeRef)> = [(Colour::Blue, blue), (Colour::Green, green)]
            .into_iter()
            .filter_map(|(colour, release)| Some((colour, release.as_ref()?.value.node()?)))
            .collect();
        if nodes.len() == 2 { nodes } else { Vec::new() }
    }

    /// The node each colour of a blue-green rollout runs on, blue first: its own for a rollout
    /// whose colours are nodes ([`Self::colour_nodes`]), else `on` for both (two containers
    /// beside the switch, on a service placed on node `on`). Empty for another rollout, and for
    /// colours of which one only is a node (E0720).
    pub fn colour_hosts<'a>(&'a self, on: &'a str) -> Vec<(Colour, &'a str)> {
        let Rollout::BlueGreen { blue, green, .. } = self else { return Vec::new() };
        let nodes = self.colour_nodes();
        if !nodes.is_empty() {
            return nodes.into_iter().map(|(colour, node)| (colour, node.name.as_str())).collect();
        }
        let is_node = |release: &Option<Spanned<Release>>| release.as_ref().is_some_and(|r| r.value.node().is_some());
        if is_node(blue) || is_node(green) {
            return Vec::new();
        }
        vec![(Colour::Blue, on), (Colour::Green, on)]
    }
}

/// A colour of a blue-green rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Colour {
    /// The blue release.
    Blue,
    /// The green release.
    Green,
}

impl Colour {
    /// The colour's name, as releases are suffixed with it.
    pub fn name(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }

    /// The host port this colour publishes a service's port on, beside the other colour's on one
    /// node: 10,000 above the port for blue, 20,000 for green; `None` beyond 65535. The NixOS
    /// switch reaches each colour there, and the hosts' Prometheus scrapes each colour there.
    pub fn host_port(self, port: u16) -> Option<u16> {
        let offset: u16 = match self {
            Colour::Blue => 10_000,
            Colour::Green => 20_000,
        };
        port.checked_add(offset)
    }
}

/// How many of a service's pods voluntary disruptions (a node drained, a cluster upgraded) may
/// take at once: exactly one of the two bounds.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disruption {
    /// The pods that must stay available (`2`, `"50%"`).
    pub min_available: Option<Spanned<Amount>>,
    /// The pods that may be unavailable at once (`1`, `"25%"`).
    pub max_unavailable: Option<Spanned<Amount>>,
}

/// Bounds within which a cluster scales the service's replicas with its load.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// The fewest replicas. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub min: Option<Spanned<u32>>,
    /// The most replicas (what the namespace's quota counts).
    #[schemars(range(min = 1))]
    pub max: Spanned<u32>,
    /// The average CPU use to hold, a percentage of the requested CPU (`"70%"`).
    pub cpu: Option<Spanned<String>>,
    /// A per-pod metric to hold at an average (a custom metrics API serves it).
    pub metric: Option<Spanned<ScaleMetric>>,
}

impl Autoscale {
    /// The fewest replicas (default 1).
    pub fn min(&self) -> u32 {
        self.min.as_ref().map_or(1, |m| m.value)
    }
}

/// A per-pod metric an autoscaler holds at an average.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleMetric {
    /// The metric's name, as the custom metrics API serves it (`http_requests_per_second`).
    pub name: Spanned<String>,
    /// The average per pod to hold.
    #[schemars(range(min = 1))]
    pub average: Spanned<u32>,
}

/// How much the estate depends on a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Must be up: at least 2 replicas on a cluster, preempts the others, pages.
    Critical,
    /// Should be up: at least 2 replicas on a cluster, pages.
    High,
    /// Runs as usual; its alerts are warnings.
    Normal,
    /// Nice to have: gives way to the others, its alerts are for the record.
    Low,
}

impl Tier {
    /// Every tier, most critical first.
    pub const ALL: [Tier; 4] = [Tier::Critical, Tier::High, Tier::Normal, Tier::Low];

    /// The tier's name as written.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Critical => "critical",
            Tier::High => "high",
            Tier::Normal => "normal",
            Tier::Low => "low",
        }
    }

    /// The fewest replicas a service of the tier runs on a cluster.
    pub fn min_replicas(self) -> u32 {
        match self {
            Tier::Critical | Tier::High => 2,
            Tier::Normal | Tier::Low => 1,
        }
    }

    /// The severity of the alerts generated for a service of the tier.
    pub fn severity(self) -> Severity {
        match self {
            Tier::Critical | Tier::High => Severity::Critical,
            Tier::Normal => Severity::Warning,
            Tier::Low => Severity::Info,
        }
    }

    /// The name of the cluster's `PriorityClass` for the tier.
    pub fn priority_class(self) -> String {
        format!("tier-{}", self.name())
    }

    /// The priority of the tier's pods (user classes are below one billion; the default is 0).
    pub fn priority(self) -> u32 {
        match self {
            Tier::Critical => 1_000_000,
            Tier::High => 100_000,
            Tier::Normal => 1_000,
            Tier::Low => 0,
        }
    }
}

impl super::Service {
    /// The severity of the alerts generated for the service: its tier's, critical without one.
    pub fn generated_severity(&self) -> Severity {
        self.tier.as_ref().map_or(Severity::Critical, |t| t.value.severity())
    }

    /// The most replicas the service runs: its autoscaler's `max`, else `replicas`.
    pub fn max_replicas(&self) -> u32 {
        self.autoscale.as_ref().map_or_else(|| self.replicas(), |a| a.value.max.value)
    }

    /// The fewest replicas the service runs: its autoscaler's `min`, else `replicas`.
    pub fn min_replicas(&self) -> u32 {
        self.autoscale.as_ref().map_or_else(|| self.replicas(), |a| a.value.min())
    }
}

impl super::Service {
    /// The fields set on the service that only a cluster gives meaning to, each with its span, its
    /// name and why a host, which runs one instance, has no form for it: the back ends of hosts
    /// refuse them at the field.
    pub fn cluster_only_fields(&self) -> Vec<(crate::source::Span, &'static str, &'static str)> {
        let mut fields = Vec::new();
        if let Some(rollout) = &self.rollout {
            let why = match rollout.value {
                // On a NixOS node a container's colours are two containers behind nginx.
                Rollout::BlueGreen { .. } => {
                    "a host runs one unit per service: blue-green pairs are generated for containers on NixOS nodes only"
                }
                _ => "a host runs one instance, replaced by a restart",
            };
            fields.push((rollout.span, "rollout", why));
        }
        if let Some(disruption) = &self.disruption {
            fields.push((disruption.span, "disruption", "nothing evicts a host's instance to budget for"));
        }
        if let Some(autoscale) = &self.autoscale {
            fields.push((autoscale.span, "autoscale", "a host runs one instance, which nothing scales"));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_whole_and_at_most_a_hundred() {
        assert_eq!(parse_percent("25%"), Ok(25));
        assert_eq!(parse_percent("0%"), Ok(0));
        assert_eq!(parse_percent("100%"), Ok(100));
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("2.5%").is_err());
        assert!(parse_percent("25").is_err());
        assert!(parse_percent("%").is_err());
        assert!(parse_percent("-5%").is_err());
    }

    #[test]
    fn thresholds_are_plain_decimal_numbers() {
        let literal = |text: &str| Threshold::Decimal(text.into()).literal();
        assert_eq!(literal("0.01"), Ok("0.01".into()));
        assert_eq!(literal("-1.5"), Ok("-1.5".into()));
        assert_eq!(literal("2"), Ok("2".into()));
        assert_eq!(Threshold::Whole(0).literal(), Ok("0".into()));
        for bad in ["", ".5", "1.", "1e-3", "1%", "0.0.1", "- 1", "NaN"] {
            assert!(literal(bad).is_err(), "{bad}");
        }
        assert_eq!(Threshold::Decimal("0.25".into()).value(), Some(0.25));
    }

    #[test]
    fn shares_round_up_to_pods() {
        assert_eq!(Amount::Share("25%".into()).pods_of(3), 1);
        assert_eq!(Amount::Share("50%".into()).pods_of(4), 2);
        assert_eq!(Amount::Share("10%".into()).pods_of(1), 1);
        assert_eq!(Amount::Count(2).pods_of(10), 2);
        assert!(Amount::Share("0%".into()).is_zero() && Amount::Count(0).is_zero());
    }
}
