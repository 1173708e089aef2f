//! `WIDTHxHEIGHT` picture sizes as typed on command lines.

use std::ops::RangeInclusive;

/// Parses `WIDTHxHEIGHT` (`x` or `X`, spaces around the numbers allowed), each side within
/// `sides`. Callers state their own bounds: a canvas, a Scope input and a benchmark differ.
pub fn parse_size(s: &str, sides: RangeInclusive<u32>) -> Result<(u32, u32), String> {
    let bad = || {
        format!(
            "size must be WIDTHxHEIGHT (e.g. 1280x720) with each side in {}..={}, got {s:?}",
            sides.start(),
            sides.end()
        )
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let side = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| sides.contains(n))
            .ok_or_else(bad)
    };
    Ok((side(w)?, side(h)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_within_bounds_and_bad_ones_say_why() {
        assert_eq!(parse_size("1920x1080", 1..=8192), Ok((1920, 1080)));
        assert_eq!(parse_size(" 64 X 32", 1..=8192), Ok((64, 32)));
        for bad in ["1920", "0x10", "ax10", "10x", "9000x10", "-1x5", "x"] {
            let e = parse_size(bad, 1..=8192).expect_err(bad);
            assert!(
                e.contains(&format!("{bad:?}")) && e.contains("1..=8192"),
                "{e}"
            );
        }
        assert!(
            parse_size("8x8", 16..=4096).is_err(),
            "below the caller's minimum"
        );
    }
}
