//! "Did you mean": the name closest to a mistyped one, found through an index.
//!
//! A candidate is close when it is within a small edit distance (optimal string alignment, where a
//! swap of two letters counts once: `wbe` → `web`; at most a third of the name's characters, and
//! at least one) or similar by Jaro-Winkler (above 0.8). Of the close candidates, the one with the
//! fewest edits wins, then the most similar, then the alphabetically first.
//!
//! Comparing a name with every candidate costs a dynamic program per candidate: 1,000 mistakes
//! among 10,000 names took seconds. [`NameIndex`] sorts the candidates once and walks them as a
//! trie would: edit-distance rows are shared by every candidate with the same prefix, and a whole
//! run of candidates is skipped as soon as its prefix's row exceeds the allowed edits (a row's
//! minimum never decreases as the prefix grows); one edit is allowed first, then two, and so on. Since any candidate within the allowed edits beats
//! every candidate that is only similar, Jaro-Winkler is consulted only when none is within them,
//! and then only for candidates whose shared characters and prefix could reach 0.8.
//!
//! Invariant: [`NameIndex::closest`] returns exactly what comparing with every candidate returns
//! (a property test holds it to that scan).

/// The candidates of one search, sorted, kept as characters.
///
/// A candidate is close to a name when it is within a third of the name's characters in edits
/// (at least one; a swap of two neighbours counts once) or similar by Jaro-Winkler (above 0.8);
/// the closest has the fewest edits, then the highest similarity, then comes first alphabetically.
pub struct NameIndex<'a> {
    /// Distinct candidates in character order (which is `str` order).
    names: Vec<(&'a str, Vec<char>)>,
}

/// Jaro-Winkler similarity above which a candidate is close whatever its edit distance.
const SIMILAR: f64 = 0.8;

/// How many edits a name of `length` characters may be away from a candidate.
fn allowed_edits(length: usize) -> usize {
    (length / 3).max(1)
}

impl<'a> NameIndex<'a> {
    /// Indexes `candidates` (duplicates are kept once).
    pub fn new(candidates: impl IntoIterator<Item = &'a str>) -> NameIndex<'a> {
        let mut names: Vec<&'a str> = candidates.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        NameIndex { names: names.into_iter().map(|name| (name, name.chars().collect())).collect() }
    }

    /// Returns the candidate closest to `name`, if one is close enough to be a likely typo.
    pub fn closest(&self, name: &str) -> Option<&'a str> {
        let query: Vec<char> = name.chars().collect();
        self.within_edits(name, &query).or_else(|| self.similar(name, &query))
    }

    /// The best candidate within the allowed edits (other than `query` itself). The walk is run
    /// with one edit allowed, then two, and so on: a typo is most often one edit away, and the
    /// fewer edits allowed, the sooner a prefix is ruled out. A walk finding nothing proves every
    /// candidate needs more, so what the next walk finds needs exactly its limit.
    fn within_edits(&self, name: &str, query: &[char]) -> Option<&'a str> {
        (1..=allowed_edits(query.len())).find_map(|limit| self.walk(name, query, limit))
    }

    /// The best candidate at most `limit` edits from the query (other than the query itself).
    fn walk(&self, name: &str, query: &[char], limit: usize) -> Option<&'a str> {
        let width = query.len() + 1;
        // rows[i * width ..][..width]: distances from the current candidate's first i characters
        // to each prefix of the query. Row 0 is the query's prefix lengths.
        let mut rows: Vec<usize> = (0..width).collect();
        let mut valid_rows = 0usize; // rows 0..=valid_rows describe `previous`'s prefix
        let mut previous: &[char] = &[];
        let mut best: Option<(usize, f64, &'a str)> = None;
        let mut index = 0;
        while index < self.names.len() {
            let (text, candidate) = &self.names[index];
            let shared = previous.iter().zip(candidate).take_while(|(a, b)| a == b).count().min(valid_rows);
            rows.resize((candidate.len() + 1) * width, 0);
            let mut exceeded_at = None;
            for depth in shared + 1..=candidate.len() {
                if edit_row(&mut rows, width, depth, candidate, query, limit) > limit {
                    exceeded_at = Some(depth);
                    break;
                }
            }
            previous = candidate;
            match exceeded_at {
                Some(depth) => {
                    // No candidate with this prefix is within the limit: skip them all.
                    valid_rows = depth;
                    index = self.end_of_run(index, &candidate[..depth]);
                }
                None => {
                    valid_rows = candidate.len();
                    // The last entry is only computed when it lies in the band.
                    let in_band = candidate.len().abs_diff(query.len()) <= limit;
                    let edits = if in_band { rows[candidate.len() * width + query.len()] } else { limit + 1 };
                    if edits > 0 && edits <= limit {
                        let score = strsim::jaro_winkler(name, text);
                        if best.is_none_or(|(e, s, c)| (edits, -score, *text) < (e, -s, c)) {
                            best = Some((edits, score, text));
                        }
                    }
                    index += 1;
                }
            }
        }
        best.map(|(_, _, name)| name)
    }

    /// The index after the run of candidates that starts with `prefix`, which the candidate at
    /// `start` does. Runs are mostly short, so the end is found by galloping from the start.
    fn end_of_run(&self, start: usize, prefix: &[char]) -> usize {
        let rest = &self.names[start..];
        let in_run = |(_, name): &(&str, Vec<char>)| name.starts_with(prefix);
        let mut step = 1;
        while step < rest.len() && in_run(&rest[step]) {
            step *= 2;
        }
        let known = step / 2;
        let bound = step.min(rest.len());
        start + known + rest[known..bound].partition_point(in_run)
    }

    /// The best candidate similar by Jaro-Winkler, when none is within the allowed edits.
    fn similar(&self, name: &str, query: &[char]) -> Option<&'a str> {
        let mut shared = SharedCharacters::new(query);
        let mut best: Option<(usize, f64, &'a str)> = None;
        for (text, candidate) in &self.names {
            if *text == name || !could_be_similar(query, candidate, shared.count(candidate)) {
                continue;
            }
            let score = strsim::jaro_winkler(name, text);
            if score <= SIMILAR {
                continue;
            }
            let edits = strsim::osa_distance(name, text);
            if best.is_none_or(|(e, s, c)| (edits, -score, *text) < (e, -s, c)) {
                best = Some((edits, score, text));
            }
        }
        best.map(|(_, _, name)| name)
    }
}

/// Fills row `depth` of the optimal-string-alignment table (the candidate's first `depth`
/// characters against every prefix of the query) and returns its minimum, or `limit + 1` when
/// every entry exceeds `limit`.
///
/// Only the band of entries within `limit` of the diagonal is computed (an entry `|i - j|` off the
/// diagonal is at least that many edits); the entries on either side of the band are set to
/// `limit + 1`, which is all the next rows need to know of them.
fn edit_row(rows: &mut [usize], width: usize, depth: usize, candidate: &[char], query: &[char], limit: usize) -> usize {
    let beyond = limit + 1;
    let letter = candidate[depth - 1];
    let (before, current) = rows.split_at_mut(depth * width);
    let current = &mut current[..width];
    let above = &before[(depth - 1) * width..];
    let two_above = (depth >= 2).then(|| &before[(depth - 2) * width..(depth - 1) * width]);
    let first = depth.saturating_sub(limit).max(1);
    let last = (depth + limit).min(width - 1);
    current[0] = depth.min(beyond);
    if first > last {
        // No entry but the first lies in the band (past the band's end, or an empty query).
        return current[0];
    }
    current[first - 1] = if first == 1 { current[0] } else { beyond };
    if last + 1 < width {
        current[last + 1] = beyond;
    }
    let mut minimum = current[0];
    for j in first..=last {
        let substitution = above[j - 1] + usize::from(letter != query[j - 1]);
        let mut distance = (current[j - 1] + 1).min(above[j] + 1).min(substitution);
        if let Some(two_above) = two_above
            && j >= 2
            && letter == query[j - 2]
            && candidate[depth - 2] == query[j - 1]
            && letter != query[j - 1]
        {
            distance = distance.min(two_above[j - 2] + 1);
        }
        current[j] = distance.min(beyond);
        minimum = minimum.min(current[j]);
    }
    minimum
}

/// Whether Jaro-Winkler could exceed [`SIMILAR`] for a candidate sharing `common` characters
/// (counted with repetition) with the query: Jaro is at most `(m/|a| + m/|b| + 1) / 3` with `m`
/// matches, `m` is at most `common`, and the Winkler boost is at most the shared prefix's.
fn could_be_similar(query: &[char], candidate: &[char], common: usize) -> bool {
    if common == 0 || query.is_empty() || candidate.is_empty() {
        return false;
    }
    let prefix = query.iter().take(4).zip(candidate).take_while(|(a, b)| a == b).count();
    let common = common as f64;
    let jaro = (common / query.len() as f64 + common / candidate.len() as f64 + 1.0) / 3.0;
    let bound = jaro + 0.1 * prefix as f64 * (1.0 - jaro);
    // A margin far above rounding, so the bound never rules out what strsim would accept.
    bound > SIMILAR - 1e-9
}

/// Counts, for each candidate, the characters it shares with the query (with repetition).
struct SharedCharacters {
    /// How often each ASCII character occurs in the query.
    ascii: [u16; 128],
    /// How many characters of the query are not ASCII (each may match any such character).
    other: usize,
    /// Scratch copy of `ascii`, consumed per candidate.
    left: [u16; 128],
}

impl SharedCharacters {
    fn new(query: &[char]) -> SharedCharacters {
        let mut ascii = [0u16; 128];
        let mut other = 0;
        for &c in query {
            match usize::try_from(u32::from(c)).ok().filter(|&i| i < 128) {
                Some(i) => ascii[i] = ascii[i].saturating_add(1),
                None => other += 1,
            }
        }
        SharedCharacters { ascii, other, left: ascii }
    }

    /// An upper bound of the characters `candidate` shares with the query, exact for ASCII.
    fn count(&mut self, candidate: &[char]) -> usize {
        self.left = self.ascii;
        let (mut shared, mut other) = (0, 0);
        for &c in candidate {
            match usize::try_from(u32::from(c)).ok().filter(|&i| i < 128) {
                Some(i) if self.left[i] > 0 => {
                    self.left[i] -= 1;
                    shared += 1;
                }
                Some(_) => {}
                None => other += 1,
            }
        }
        shared + other.min(self.other)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What the index must return: every candidate compared with the name.
    fn scan<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
        let allowed = allowed_edits(name.chars().count());
        let mut best: Option<(usize, f64, &str)> = None;
        for &candidate in candidates {
            if candidate == name {
                continue;
            }
            let edits = strsim::osa_distance(name, candidate);
            let score = strsim::jaro_winkler(name, candidate);
            if edits > allowed && score <= SIMILAR {
                continue;
            }
            if best.is_none_or(|(e, s, c)| (edits, -score, candidate) < (e, -s, c)) {
                best = Some((edits, score, candidate));
            }
        }
        best.map(|(_, _, c)| c)
    }

    fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
        NameIndex::new(candidates.iter().copied()).closest(name)
    }

    #[test]
    fn finds_typos_swaps_and_similar_names() {
        let names = ["web", "worker", "db", "db-primary", "postgres", "prometheus", "svc12", "svc120"];
        assert_eq!(closest("wbe", &names), Some("web"));
        assert_eq!(closest("postgress", &names), Some("postgres"));
        assert_eq!(closest("promethues", &names), Some("prometheus"));
        assert_eq!(closest("svc1", &names), Some("svc12"));
        assert_eq!(closest("web", &names), None, "the name itself is not a suggestion");
        assert_eq!(closest("zzz", &names), None);
        assert_eq!(closest("anything", &[]), None);
        for name in ["wbe", "postgress", "promethues", "svc1", "web", "zzz", "db-primry", "d", ""] {
            assert_eq!(closest(name, &names), scan(name, &names), "{name}");
        }
    }

    #[test]
    fn agrees_with_the_scan_on_a_large_homogeneous_estate() {
        let owned: Vec<String> = (0..3_000).map(|i| format!("svc{i}")).collect();
        let names: Vec<&str> = owned.iter().map(String::as_str).collect();
        let index = NameIndex::new(names.iter().copied());
        for query in ["svc-1234", "svc1234x", "scv77", "svc", "sv", "api-svc12", "svc12345", "legacy9", "svc_2999"] {
            assert_eq!(index.closest(query), scan(query, &names), "{query}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn agrees_with_the_scan(
            name in "[a-dé-]{0,9}",
            candidates in proptest::collection::vec("[a-dé-]{0,9}", 0..40),
        ) {
            let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
            prop_assert_eq!(closest(&name, &candidates), scan(&name, &candidates));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Candidates sharing long prefixes, so whole runs of them are skipped.
        #[test]
        fn agrees_with_the_scan_on_shared_prefixes(
            name in "(svc|sv|s|c|-|1|12|0){0,6}",
            candidates in proptest::collection::vec("(svc|sv|s|c|-|1|12|0){0,6}", 0..200),
        ) {
            let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
            prop_assert_eq!(closest(&name, &candidates), scan(&name, &candidates));
        }
    }
}
