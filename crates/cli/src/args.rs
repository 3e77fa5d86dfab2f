//! Value parsers for the command line: each names the bad value and the allowed range, and
//! each accepts a leading minus sign as part of the value, so that `-5` is refused for being
//! out of range rather than taken for an unknown option.

/// A whole number from `lo` to `hi`.
pub fn whole(lo: u64, hi: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let v: i128 = s.trim().parse().map_err(|_| format!("'{s}' is not a whole number (allowed: {lo} to {hi})"))?;
        if v < lo as i128 || v > hi as i128 {
            return Err(format!("{v} is out of range (allowed: {lo} to {hi})"));
        }
        Ok(v as u64)
    }
}

/// A finite number from `lo` to `hi`, in `unit`.
pub fn real(
    lo: f64,
    hi: f64,
    unit: &'static str,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let v: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not a number (allowed: {lo} to {hi}{unit})"))?;
        if !v.is_finite() || v < lo || v > hi {
            return Err(format!("{s} is out of range (allowed: {lo} to {hi}{unit})"));
        }
        Ok(v)
    }
}

/// A percentage, 0 to 100.
pub fn percent(s: &str) -> Result<f64, String> {
    real(0.0, 100.0, " %")(s)
}

/// The slowest link rate the simulator takes, Mbit/s (10 kbit/s), and the fastest (1 Tbit/s).
pub const MIN_BANDWIDTH_MBIT: f64 = 0.01;
pub const MAX_BANDWIDTH_MBIT: f64 = 1_000_000.0;

/// A link rate in Mbit/s: 0 (unlimited) or from `MIN_BANDWIDTH_MBIT` to `MAX_BANDWIDTH_MBIT`.
pub fn bandwidth(s: &str) -> Result<f64, String> {
    let range = format!("allowed: 0 for unlimited, or {MIN_BANDWIDTH_MBIT} to {MAX_BANDWIDTH_MBIT} Mbit/s");
    let v: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not a number ({range})"))?;
    if v == 0.0 || (v.is_finite() && (MIN_BANDWIDTH_MBIT..=MAX_BANDWIDTH_MBIT).contains(&v)) {
        Ok(v)
    } else {
        Err(format!("{s} is out of range ({range})"))
    }
}

/// A network interface name as Linux takes it: 1 to 15 bytes (IFNAMSIZ less the NUL), no
/// `/`, `:` or white space, and not `.` or `..`.
pub fn interface_name(s: &str) -> Result<String, String> {
    let bad = s.is_empty()
        || s.len() > 15
        || s == "."
        || s == ".."
        || s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if bad {
        Err(format!("'{s}' is not an interface name (1 to 15 characters, no '/', ':' or spaces)"))
    } else {
        Ok(s.to_string())
    }
}

/// A percentage as parts per million.
pub fn to_ppm(pct: f64) -> u32 {
    (pct / 100.0 * synack_sim::PPM as f64).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_out_of_range_are_named_with_the_range() {
        assert_eq!(whole(1, 10)("7"), Ok(7));
        assert!(whole(1, 10)("-5").unwrap_err().contains("-5 is out of range (allowed: 1 to 10)"));
        assert!(whole(0, u64::MAX)("18446744073709551616").unwrap_err().contains("out of range"));
        assert!(whole(0, 5)("five").unwrap_err().contains("'five' is not a whole number"));
        assert_eq!(real(0.0, 1.0, " s")("0.5"), Ok(0.5));
        for bad in ["inf", "NaN", "1e300", "-1"] {
            assert!(real(0.0, 1.0, " s")(bad).unwrap_err().contains("out of range"), "{bad}");
        }
        assert_eq!(bandwidth("0"), Ok(0.0));
        assert!(bandwidth("0.0000001").unwrap_err().contains("0 for unlimited"));
        assert!(percent("150").is_err());
        assert_eq!(interface_name("syn0"), Ok("syn0".to_string()));
        for bad in ["", "a/b", "a b", "0123456789abcdef", ".."] {
            assert!(interface_name(bad).is_err(), "{bad:?}");
        }
    }
}
