//! Work split over the machine's cores, with results in input order: the parser reads a large
//! file's halves, the model stage checks resources, and the NixOS and Prometheus back ends lower
//! nodes and derive alert tests, in contiguous chunks on scoped threads; the back ends run side by
//! side, and beside the graph rules.
//!
//! Invariant: the result is exactly what one thread would produce (the chunks are contiguous and
//! their results are concatenated in order), whatever the number of cores, so output stays
//! deterministic. Small inputs run on the calling thread: a thread costs more than they do.

use std::num::NonZeroUsize;
use std::thread;

/// The number of threads work is split over: the machine's cores.
pub fn cores() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
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
    let work = &work;
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
    fn each_result_comes_back_in_item_order() {
        let items: Vec<u64> = (0..7).collect();
        assert_eq!(map_each(&items, |n| n * n), vec![0, 1, 4, 9, 16, 25, 36]);
        assert_eq!(map_each(&[] as &[u64], |n| *n), Vec::<u64>::new());
    }
}
