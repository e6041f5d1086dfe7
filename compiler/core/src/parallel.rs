//! Work split over the machine's cores, with results in input order: the parser reads a large
//! file's halves, the model stage checks resources, and the NixOS and Prometheus back ends lower
//! nodes and derive alert tests, in contiguous chunks on scoped threads; the back ends run side by
//! side, and beside the graph rules.
//!
//! Invariant: the result is exactly what one thread would produce (the chunks are contiguous and
//! their results are concatenated in order), whatever the number of cores, so output stays
//! deterministic. Small inputs run on the calling thread: a thread costs more than they do.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::thread;

/// The number of threads work is split over: the machine's cores. Asked once per process: the
/// standard library reads the scheduler's affinity and the cgroup quota files each time.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Runs `work` over `items` cut into contiguous chunks of at least `min_chunk` items, one chunk
/// per available core, and returns the chunks' results in order. The first chunk runs on the
/// calling thread; a panic in any chunk is resumed here, as if it had run here.
pub fn map_chunks<T, R, F>(mut items: Vec<T>, min_chunk: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> R + Sync,
{
    let chunks = (items.len() / min_chunk.max(1)).clamp(1, cores());
    if chunks == 1 {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(chunks);
    let mut parts = Vec::with_capacity(chunks);
    while items.len() > size {
        let rest = items.split_off(size);
        parts.push(std::mem::replace(&mut items, rest));
    }
    parts.push(items);
    run_parts(parts, &work)
}

/// [`map_chunks`] with chunks of about equal total `weight` (at least `min_weight` each) rather
/// than of equal length: when one item outweighs the others (the estate's own alert area holds
/// half the alerts), the other cores still get their share.
pub fn map_weighted<T, R, F>(items: Vec<T>, weight: impl Fn(&T) -> usize, min_weight: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> R + Sync,
{
    let total: usize = items.iter().map(&weight).sum();
    let chunks = (total / min_weight.max(1)).clamp(1, cores());
    if chunks == 1 {
        return vec![work(items)];
    }
    let share = total.div_ceil(chunks);
    let mut parts: Vec<Vec<T>> = vec![Vec::new()];
    let mut filled = 0;
    for item in items {
        let heavy = weight(&item);
        if filled >= share && parts.len() < chunks {
            parts.push(Vec::new());
            filled = 0;
        }
        filled += heavy;
        if let Some(part) = parts.last_mut() {
            part.push(item);
        }
    }
    run_parts(parts, &work)
}

/// Runs `work` on each part, the first on the calling thread and the others on scoped threads,
/// and returns the results in part order; a panic in a part is resumed here.
fn run_parts<T, R, F>(parts: Vec<Vec<T>>, work: &F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> R + Sync,
{
    thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let spawned: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        let mut results = Vec::with_capacity(spawned.len() + 1);
        results.push(work(first));
        for handle in spawned {
            results.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    })
}

/// Runs `work` on every item at once, each on a scoped thread of its own (the first on the
/// calling thread), and returns the results in item order: independent stages of unequal cost,
/// such as the back ends, overlap instead of adding up.
pub fn map_each<T, R, F>(items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let Some((first, rest)) = items.split_first() else { return Vec::new() };
    if rest.is_empty() || cores() == 1 {
        return items.iter().map(work).collect();
    }
    let work = &work;
    thread::scope(|scope| {
        let spawned: Vec<_> = rest.iter().map(|item| scope.spawn(move || work(item))).collect();
        let mut results = Vec::with_capacity(items.len());
        results.push(work(first));
        for handle in spawned {
            results.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_cover_every_item() {
        let items: Vec<u32> = (0..1_001).collect();
        let results = map_chunks(items.clone(), 10, |chunk| chunk);
        assert_eq!(results.concat(), items);
        let small = map_chunks(vec![1, 2, 3], 10, |chunk| chunk.len());
        assert_eq!(small, vec![3]);
    }

    #[test]
    fn weighted_chunks_come_back_in_order_and_share_the_weight() {
        // One item as heavy as all the others together, as the estate's own alert area is.
        let items: Vec<usize> = std::iter::once(1_000).chain(std::iter::repeat_n(1, 1_000)).collect();
        let parts = map_weighted(items.clone(), |w| *w, 10, |part| part);
        assert_eq!(parts.concat(), items);
        if cores() > 1 {
            let weights: Vec<usize> = parts.iter().map(|part| part.iter().sum()).collect();
            let (lightest, heaviest) = (weights.iter().min().unwrap_or(&0), weights.iter().max().unwrap_or(&0));
            assert!(heaviest - lightest <= 1_000 / cores() + 1, "{weights:?}");
        }
        assert_eq!(map_weighted(vec![5, 5], |w| *w, 100, |part| part.len()), vec![2]);
    }

    #[test]
    fn each_result_comes_back_in_item_order() {
        let items: Vec<u64> = (0..7).collect();
        assert_eq!(map_each(&items, |n| n * n), vec![0, 1, 4, 9, 16, 25, 36]);
        assert_eq!(map_each(&[] as &[u64], |n| *n), Vec::<u64>::new());
    }
}
