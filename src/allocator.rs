//! The global allocator: mimalloc, called the way C calls it.
//!
//! The `mimalloc` crate sends every allocation through `mi_malloc_aligned`, and mimalloc v3's
//! aligned path, when the size class's page has no free block at hand (which plain `mi_malloc`
//! calls would have refilled), over-allocates by `align - 1` bytes: an 80-byte, 8-aligned keyspace
//! entry then took a 96-byte block, 16 bytes more per key. Every mimalloc block is at least
//! word-aligned (the first block of a page is 16-aligned and block sizes are whole words), so
//! alignments up to a word go to plain `mi_malloc` / `mi_zalloc` / `mi_realloc`; only larger ones
//! take the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every mimalloc block has.
const WORD: usize = std::mem::size_of::<usize>();

pub struct Mimalloc;

// SAFETY: each call returns null or a block of at least `layout.size()` bytes aligned to at least
// `layout.align()` (a word for the plain calls, as above; the aligned calls otherwise). Every
// block, however allocated, is released by `mi_free`, and `mi_realloc` keeps the block's word
// alignment, which is all a layout of alignment <= WORD asks for.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    /// Word-aligned blocks of the size classes keyspace entries use cost their size, no more.
    #[test]
    fn word_aligned_blocks_are_not_over_allocated() {
        for size in [32usize, 48, 80, 96] {
            let layout =
                std::alloc::Layout::from_size_align(size, 8).unwrap_or_else(|e| panic!("{e}"));
            let blocks: Vec<*mut u8> = (0..1000)
                .map(|_| unsafe { std::alloc::alloc(layout) })
                .collect();
            for &p in &blocks {
                assert_eq!(p as usize % 8, 0);
                assert_eq!(
                    unsafe { libmimalloc_sys::mi_usable_size(p as *const _) },
                    size
                );
                unsafe { std::alloc::dealloc(p, layout) };
            }
        }
    }
}
