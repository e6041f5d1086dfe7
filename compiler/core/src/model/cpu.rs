//! CPU amounts as Kubernetes counts them: whole cores (`2`) or millicores (`500m`), held as
//! millicores so capacity and quota sums are exact integers.
//!
//! The lexer reads `500m` as a duration (five hundred minutes); a cpu field decides what the
//! literal means, not the lexer: the checker ([`super::check`]) takes a duration as millicores
//! when, and only when, it was written `<digits>m` ([`Cpu::from_minutes`]), and normalises the
//! value to the quantity text (`"500m"`) that [`Cpu`] deserialises. `30s`, `1h` or a computed
//! duration on a cpu field stay errors. The quoted form `"500m"` or `"1.5"`, as Kubernetes writes
//! quantities, is accepted too.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::source::Span;

/// A CPU amount in millicores: `2` is 2000, `500m` is 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cpu(pub u64);

/// Millicores in a core.
const MILLI: u64 = 1000;

impl Cpu {
    /// Whole cores.
    pub fn cores(cores: u64) -> Cpu {
        Cpu(cores.saturating_mul(MILLI))
    }

    /// The millicores of a duration literal of `minutes` minutes written at `span`, if it was
    /// written `<minutes>m` (its text is exactly the digits and the `m`): `1h` is sixty minutes
    /// too, but its text is shorter, and `600s` is ten minutes with a longer text.
    pub fn from_minutes(milliseconds: u64, span: Span) -> Option<Cpu> {
        const MINUTE: u64 = 60_000;
        if milliseconds == 0 || !milliseconds.is_multiple_of(MINUTE) {
            return None;
        }
        let minutes = milliseconds / MINUTE;
        let written = (span.end - span.start) as usize;
        (written == minutes.to_string().len() + 1).then_some(Cpu(minutes))
    }

    /// Parses a quantity as Kubernetes writes one: `2`, `500m`, `1.5` (at most three decimals,
    /// a millicore being the smallest unit). Zero is refused: a cpu amount asks for something.
    pub fn parse(text: &str) -> Option<Cpu> {
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let millis = if let Some(millis) = text.strip_suffix('m') {
            if !all_digits(millis) {
                return None;
            }
            millis.parse().ok()?
        } else {
            let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
            if !all_digits(whole) || !(fraction.is_empty() || all_digits(fraction) && fraction.len() <= 3) {
                return None;
            }
            let fraction = if fraction.is_empty() { 0 } else { format!("{fraction:0<3}").parse::<u64>().ok()? };
            whole.parse::<u64>().ok()?.checked_mul(MILLI)?.checked_add(fraction)?
        };
        (millis > 0).then_some(Cpu(millis))
    }

    /// The millicores.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// The Kubernetes quantity: whole cores as `2`, anything else in millicores as `500m`.
    pub fn quantity(self) -> String {
        if self.0.is_multiple_of(MILLI) { (self.0 / MILLI).to_string() } else { format!("{}m", self.0) }
    }

    /// Cores as a decimal number (`2`, `0.5`, `1.25`), as podman's `--cpus` takes them.
    pub fn decimal(self) -> String {
        let (whole, fraction) = (self.0 / MILLI, self.0 % MILLI);
        if fraction == 0 {
            return whole.to_string();
        }
        let fraction = format!("{fraction:03}");
        format!("{whole}.{}", fraction.trim_end_matches('0'))
    }

    /// Percent of one core, as systemd's `CPUQuota=` takes it (`50%` for `500m`), rounded up so
    /// a quota never shrinks below what was asked.
    pub fn percent(self) -> u64 {
        self.0.div_ceil(MILLI / 100)
    }
}

impl std::fmt::Display for Cpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.quantity())
    }
}

/// Serialised as written in a spec (`2`, `500m`), so changes read naturally.
impl Serialize for Cpu {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.quantity())
    }
}

/// From whole cores (an integer) or a quantity's text (the checker's normal form).
impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CpuVisitor;
        impl Visitor<'_> for CpuVisitor {
            type Value = Cpu;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a cpu amount")
            }
            fn visit_u64<E: de::Error>(self, cores: u64) -> Result<Cpu, E> {
                Ok(Cpu::cores(cores))
            }
            fn visit_i64<E: de::Error>(self, cores: i64) -> Result<Cpu, E> {
                u64::try_from(cores).map(Cpu::cores).map_err(|_| E::custom("a negative cpu amount"))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Cpu, E> {
                Cpu::parse(text).ok_or_else(|| E::custom(format!("`{text}` is not a cpu amount")))
            }
        }
        deserializer.deserialize_any(CpuVisitor)
    }
}

impl JsonSchema for Cpu {
    fn schema_name() -> Cow<'static, str> {
        "Cpu".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["integer", "string"],
            "x-spec-type": "cpu",
            "description": "a cpu amount: whole cores such as `2`, or millicores such as `500m`",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span(len: u32) -> Span {
        Span { file: FileId(0), start: 10, end: 10 + len }
    }

    #[test]
    fn quantities_parse_as_kubernetes_writes_them() {
        assert_eq!(Cpu::parse("500m"), Some(Cpu(500)));
        assert_eq!(Cpu::parse("2"), Some(Cpu(2000)));
        assert_eq!(Cpu::parse("1.5"), Some(Cpu(1500)));
        assert_eq!(Cpu::parse("0.25"), Some(Cpu(250)));
        assert_eq!(Cpu::parse("0.0005"), None);
        assert_eq!(Cpu::parse("0m"), None);
        assert_eq!(Cpu::parse("m"), None);
        assert_eq!(Cpu::parse("1.5m"), None);
        assert_eq!(Cpu::parse("2 cores"), None);
    }

    #[test]
    fn only_a_duration_written_in_minutes_is_millicores() {
        assert_eq!(Cpu::from_minutes(500 * 60_000, span(4)), Some(Cpu(500)));
        // `1h` is sixty minutes, but its text is two characters, not the three of `60m`.
        assert_eq!(Cpu::from_minutes(60 * 60_000, span(2)), None);
        assert_eq!(Cpu::from_minutes(60 * 60_000, span(3)), Some(Cpu(60)));
        // `600s` is ten minutes with a longer text; `30s` is no whole minute.
        assert_eq!(Cpu::from_minutes(10 * 60_000, span(4)), None);
        assert_eq!(Cpu::from_minutes(30_000, span(3)), None);
    }

    #[test]
    fn quantities_print_for_each_target() {
        assert_eq!(Cpu(2000).quantity(), "2");
        assert_eq!(Cpu(500).quantity(), "500m");
        assert_eq!(Cpu(1250).decimal(), "1.25");
        assert_eq!(Cpu(500).decimal(), "0.5");
        assert_eq!(Cpu(3000).decimal(), "3");
        assert_eq!(Cpu(500).percent(), 50);
        assert_eq!(Cpu(2000).percent(), 200);
        assert_eq!(Cpu(5).percent(), 1);
    }
}
