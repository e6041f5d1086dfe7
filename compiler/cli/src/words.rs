//! Counts in words for the messages people read: `1 error`, `2 errors`, never `1 errors`.

/// `n` with the singular or plural noun: `count(1, "error", "errors")` is `1 error`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn says_one_in_the_singular() {
        assert_eq!(count(1, "error", "errors"), "1 error");
        assert_eq!(count(0, "error", "errors"), "0 errors");
        assert_eq!(count(2, "file is", "files are"), "2 files are");
    }
}
