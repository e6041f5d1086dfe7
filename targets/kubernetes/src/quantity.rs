//! Kubernetes resource quantities and durations from the model's typed values: sizes in the
//! largest binary unit that divides them (`8Gi`), CPU in cores or millicores (`2`, `500m`, from
//! [`Cpu::quantity`](spec_compiler::model::types::Cpu::quantity)), durations in Go's form (`15m`).

use spec_compiler::model::types::{Duration, Size};

/// A size as a Kubernetes quantity: `2Ti`, `512Mi`, or bytes when no binary unit divides it.
pub fn size(size: Size) -> String {
    const UNITS: [(&str, u64); 5] =
        [("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    let bytes = size.0;
    UNITS
        .iter()
        .find(|(_, unit)| bytes > 0 && bytes.is_multiple_of(*unit))
        .map_or_else(|| bytes.to_string(), |(name, unit)| format!("{}{name}", bytes / unit))
}

/// A duration in Go's `time.ParseDuration` form, which Flux and Argo read: `1h30m`, `45s`.
pub fn duration(duration: Duration) -> String {
    let mut seconds = duration.0 / 1000;
    if seconds == 0 {
        return format!("{}ms", duration.0);
    }
    let mut out = String::new();
    for (unit, length) in [("h", 3600), ("m", 60), ("s", 1)] {
        if seconds >= length {
            out.push_str(&format!("{}{unit}", seconds / length));
            seconds %= length;
        }
    }
    out
}

/// Whole seconds, rounded up so a timeout never shrinks.
pub fn seconds(duration: Duration) -> u64 {
    duration.0.div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_the_largest_dividing_unit() {
        assert_eq!(size(Size(2 << 40)), "2Ti");
        assert_eq!(size(Size(1536 << 20)), "1536Mi");
        assert_eq!(size(Size(1000)), "1000");
        assert_eq!(size(Size(0)), "0");
    }

    #[test]
    fn durations_read_as_go_durations() {
        assert_eq!(duration(Duration(4 * 3_600_000)), "4h");
        assert_eq!(duration(Duration(5_400_000)), "1h30m");
        assert_eq!(duration(Duration(45_000)), "45s");
        assert_eq!(duration(Duration(250)), "250ms");
        assert_eq!(seconds(Duration(1500)), 2);
    }
}
