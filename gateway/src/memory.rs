//! The process's allocator: jemalloc, with its background thread returning the pages of freed
//! memory to the system a few seconds after they were freed (its dirty-page decay), whether or
//! not anything allocates meanwhile. With glibc's allocator (and with mimalloc, tried too) a
//! gateway that once held 3,000 sockets kept about 12 KiB of each after they all closed:
//! freed, but never given back while the gateway was idle.
//!
//! Declared in the library, so every program built on the gateway (its binary, its tests, the
//! bench's baseline) runs on the same allocator.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Starts the background thread that gives freed pages back. Without it, jemalloc returns them
/// only on its next allocations, which an idle gateway does not make.
pub fn give_back_freed_pages() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc's background thread did not start");
    }
}

/// What the allocator holds, in bytes: `allocated` to live objects, `resident` in pages it keeps
/// (live objects, their size classes' slack, and freed pages not yet given back). Memory the
/// process holds beyond `resident` is C libraries' own heap (SQLite's page caches), stacks and
/// code. None if jemalloc does not answer.
pub fn allocator_bytes() -> Option<(usize, usize)> {
    // Its statistics are a snapshot taken when the epoch advances.
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    let allocated = tikv_jemalloc_ctl::stats::allocated::read().ok()?;
    let resident = tikv_jemalloc_ctl::stats::resident::read().ok()?;
    Some((allocated, resident))
}
