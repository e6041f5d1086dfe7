//! A service's health check: what is checked (`http`, `tcp`, `exec`) and how often, how patiently
//! and after how long a start.
//!
//! The timing fields are optional in every variant: a field left out keeps the back end's own
//! default (on a cluster a check every 10 s, three failures, five minutes to start; on a host a
//! check every 30 s, 10 s to answer, three failures), so estates that give none keep their output.
//! `graph::health` checks the values (E0770); each back end reads them through [`Health::timing`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::*;

/// A health check.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Health {
    /// An HTTP GET that must answer 2xx.
    Http {
        /// The port's name.
        port: Spanned<LocalName>,
        /// The request path.
        path: String,
        /// How often the check runs. Default: the target's.
        every: Option<Spanned<Duration>>,
        /// How long one check may take before it counts as failed. Default: the target's.
        timeout: Option<Spanned<Duration>>,
        /// Failed checks in a row before the service is restarted. Default: 3.
        failures: Option<Spanned<u32>>,
        /// How long the service may take to start before failed checks count. Default: the target's.
        start: Option<Spanned<Duration>>,
    },
    /// A TCP connection that must open.
    Tcp {
        /// The port's name.
        port: Spanned<LocalName>,
        /// How often the check runs. Default: the target's.
        every: Option<Spanned<Duration>>,
        /// How long one check may take before it counts as failed. Default: the target's.
        timeout: Option<Spanned<Duration>>,
        /// Failed checks in a row before the service is restarted. Default: 3.
        failures: Option<Spanned<u32>>,
        /// How long the service may take to start before failed checks count. Default: the target's.
        start: Option<Spanned<Duration>>,
    },
    /// A command that must exit 0.
    Exec {
        /// The command and its arguments.
        command: Vec<String>,
        /// How often the check runs. Default: the target's.
        every: Option<Spanned<Duration>>,
        /// How long one check may take before it counts as failed. Default: the target's.
        timeout: Option<Spanned<Duration>>,
        /// Failed checks in a row before the service is restarted. Default: 3.
        failures: Option<Spanned<u32>>,
        /// How long the service may take to start before failed checks count. Default: the target's.
        start: Option<Spanned<Duration>>,
    },
}

/// The timing fields a check gives, each `None` where the back end's default holds.
#[derive(Clone, Copy, Debug)]
pub struct HealthTiming<'a> {
    /// How often the check runs.
    pub every: Option<&'a Spanned<Duration>>,
    /// How long one check may take.
    pub timeout: Option<&'a Spanned<Duration>>,
    /// Failed checks in a row before a restart.
    pub failures: Option<&'a Spanned<u32>>,
    /// How long a start may take before failed checks count.
    pub start: Option<&'a Spanned<Duration>>,
}

/// The failed checks in a row before a restart when `failures` is left out, on every target.
pub const DEFAULT_FAILURES: u32 = 3;

impl Health {
    /// The check's timing fields.
    pub fn timing(&self) -> HealthTiming<'_> {
        let (Health::Http { every, timeout, failures, start, .. }
        | Health::Tcp { every, timeout, failures, start, .. }
        | Health::Exec { every, timeout, failures, start, .. }) = self;
        HealthTiming {
            every: every.as_ref(),
            timeout: timeout.as_ref(),
            failures: failures.as_ref(),
            start: start.as_ref(),
        }
    }
}

impl HealthTiming<'_> {
    /// How often the check runs, in whole seconds (`default` when left out).
    pub fn every_seconds(&self, default: u64) -> u64 {
        self.every.map_or(default, |d| d.value.0 / 1000)
    }

    /// How long one check may take, in whole seconds, if given.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout.map(|d| d.value.0 / 1000)
    }

    /// Failed checks in a row before a restart.
    pub fn failures(&self) -> u32 {
        self.failures.map_or(DEFAULT_FAILURES, |f| f.value)
    }

    /// How long a start may take, in whole seconds, if given.
    pub fn start_seconds(&self) -> Option<u64> {
        self.start.map(|d| d.value.0 / 1000)
    }
}
