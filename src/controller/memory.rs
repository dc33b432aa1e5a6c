//! Giving freed memory back to the system between passes. A reconcile of
//! thousands of resources allocates a few tens of megabytes for a moment
//! (live lists, normalized specs, plans); glibc's allocator keeps what was
//! freed in per-thread arenas, so an idle controller would sit at its
//! peak. After each pass the free pages are returned.

/// Returns free heap pages to the operating system (glibc); elsewhere the
/// allocator does this itself and nothing is done.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists, under
    // its own locks; it takes no pointer from us and may run on any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
